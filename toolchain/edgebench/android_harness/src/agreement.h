/* edgebench_runner: --check-outputs, the output_agreement line (PROTOCOL.md). */
#ifndef EDGEBENCH_AGREEMENT_H_
#define EDGEBENCH_AGREEMENT_H_

#include "runner_ctx.h"

/* Runs the reference (--reference-model, else the model itself) on CPU in a child
 * process on the same seeded inputs, runs the measured model once more on them,
 * and writes the output_agreement line: per output cosine similarity, max abs
 * difference, NaN/Inf counts and L2 norms; or status not_checked with the reason
 * when no reference can run. Never fails the run: the measurement is complete. */
void agreement_check(runner *r);

#endif /* EDGEBENCH_AGREEMENT_H_ */
