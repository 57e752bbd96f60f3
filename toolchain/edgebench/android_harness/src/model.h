/* edgebench_runner: the model file, its signature and ops. */
#ifndef EDGEBENCH_MODEL_H_
#define EDGEBENCH_MODEL_H_

#include "runner_ctx.h"

/* Checks --model before the library touches it (exists, regular, 'TFL3'),
 * and hashes it (r->model_sha, r->model_bytes). Fails the run (EXIT_MODEL). */
void model_check_file(runner *r);
/* Loads the model, reads signature 0's inputs, outputs and ops. */
void model_load(runner *r);
/* Fails the run on what the runner cannot run: Flex ops, input element types
 * it cannot feed, a count of --input-file other than the inputs. */
void model_check_supported(runner *r);

/* "ADD", "CUSTOM:name" or "BUILTIN_<code>" for op i; buf holds the made-up names. */
const char *op_type_name(const runner *r, size_t i, char *buf, size_t len);
/* Lists custom op codes (comma separated) whose name starts with `prefix`
 * (NULL: all). Returns how many. */
size_t list_custom_ops(const runner *r, const char *prefix, char *buf, size_t len);

#endif /* EDGEBENCH_MODEL_H_ */
