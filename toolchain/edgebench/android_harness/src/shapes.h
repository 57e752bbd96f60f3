/* edgebench_runner: the input shapes a run uses (--input-shape, placeholders). */
#ifndef EDGEBENCH_SHAPES_H_
#define EDGEBENCH_SHAPES_H_

#include "runner_ctx.h"

/* Pairs every --input-shape with its input (by name or index); fails the run on an unknown
 * name or index, or two shapes for one input. */
void match_input_shapes(runner *r);
/* Resolves input dims (the --input-shape given, else -1 -> 1), resizes `cm`, checks the shapes
 * the compiled model settled on, and reads the output layouts. report=1: fails the run on a
 * problem; report=0: returns -1 instead. */
int resolve_shapes(runner *r, lr_compiled_model cm, int report);

#endif /* EDGEBENCH_SHAPES_H_ */
