/* edgebench_runner: the LiteRT runtime library and its environment. */
#ifndef EDGEBENCH_LIBRARY_H_
#define EDGEBENCH_LIBRARY_H_

#include "runner_ctx.h"

/* Resolves --lib, hashes it and dlopen()s it (r->lib_*, r->api); fails the run
 * (EXIT_LIBRARY) when it cannot. */
void library_load(runner *r);
/* Creates the LiteRT environment, accelerators looked up in r->lib_dir. */
void library_create_environment(runner *r);

#endif /* EDGEBENCH_LIBRARY_H_ */
