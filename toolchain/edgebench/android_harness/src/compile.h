/* edgebench_runner: compiling the model for an accelerator. */
#ifndef EDGEBENCH_COMPILE_H_
#define EDGEBENCH_COMPILE_H_

#include "runner_ctx.h"

/* Compiles r->model for the accelerator asked for (r->cm, r->accel_requested,
 * r->accel_used), falling back to CPU with the reason recorded; fails the run
 * (EXIT_MODEL) when not even the CPU takes the model. */
void compile_with_fallback(runner *r);
/* Asks the library whether r->cm runs wholly on its accelerator (r->fully_accelerated). */
void compile_query_fully_accelerated(runner *r);

/* Compiles for hardware `hw` (LR_HW_* bits), with the profiler on when
 * `profiling`. On failure returns the status and fills `why`. */
lr_status compile(runner *r, int hw, int profiling, lr_compiled_model *cm, char *why,
                  size_t why_len);
/* "cpu", "gpu" or "npu" for an LR_HW_* bit set. */
const char *accel_name(int hw);

#endif /* EDGEBENCH_COMPILE_H_ */
