/* edgebench_runner: the --profile-ops pass, after the timed loop. */
#ifndef EDGEBENCH_PROFILE_H_
#define EDGEBENCH_PROFILE_H_

#include "runner_ctx.h"

/* Profiles a second compiled model (never r->cm, whose numbers are already
 * written) and writes the profile line; every failure is written into that
 * line as "available": false with its reason, never a failed run. */
void profile_write(runner *r);

#endif /* EDGEBENCH_PROFILE_H_ */
