/* edgebench_runner: the compiled model's input and output buffers. */
#ifndef EDGEBENCH_BUFFERS_H_
#define EDGEBENCH_BUFFERS_H_

#include "runner_ctx.h"

/* Resolves shapes, sizes and creates every buffer of r->cm and fills the
 * inputs (--input-file, else seeded). Fails the run (EXIT_INPUT) when it cannot. */
void buffers_prepare(runner *r);

#endif /* EDGEBENCH_BUFFERS_H_ */
