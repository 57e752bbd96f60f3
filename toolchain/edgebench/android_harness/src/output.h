/* edgebench_runner: the JSON lines of PROTOCOL.md other than error/end
 * (runner_exit.c) and profile (profile.c). */
#ifndef EDGEBENCH_OUTPUT_H_
#define EDGEBENCH_OUTPUT_H_

#include "measure.h"
#include "runner_ctx.h"

/* Points r->out at --out (NULL: stdout) with a large buffer. Returns -1 with
 * the reason in err when --out cannot be opened (then r->out is stdout). */
int output_open(runner *r, const char *path, char *err, size_t err_len);
void output_start(runner *r, int argc, char **argv);
void output_runtime(runner *r);
void output_setup(runner *r);
void output_init(runner *r);
void output_series(runner *r, const char *type, const series *s);
void output_checksums(runner *r);
void output_summary(runner *r, const series *s, const char *stop_reason);
void output_resources(runner *r, const measurement *m);

#endif /* EDGEBENCH_OUTPUT_H_ */
