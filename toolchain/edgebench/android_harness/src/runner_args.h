/* Command line of edgebench_runner (PROTOCOL.md lists every option). */
#ifndef EDGEBENCH_RUNNER_ARGS_H_
#define EDGEBENCH_RUNNER_ARGS_H_

#include <stddef.h>
#include <stdint.h>

#define RUNNER_MAX_INPUTS 64

typedef enum { ACCEL_CPU = 0, ACCEL_GPU = 1, ACCEL_NPU = 2 } accelerator_kind;

/* --input-shape: NAME=D0,D1,... (by signature or tensor name) or IDX:D0,D1,... (by index). */
typedef struct {
  const char *name; /* NULL: by index */
  size_t name_len;  /* the name is value[0 .. name_len) (it may itself contain '=' or ':') */
  size_t index;
  unsigned rank;
  int dims[8];
} input_shape;

typedef struct {
  const char *model_path;
  const char *lib_path;
  const char *out_path; /* NULL: stdout */
  int threads;
  accelerator_kind accelerator;
  size_t warmup_runs;
  double warmup_seconds;
  size_t runs;
  double min_seconds;
  double max_seconds;
  double run_delay_ms;
  uint64_t input_seed;
  const char *files[RUNNER_MAX_INPUTS];
  size_t n_files;
  input_shape shapes[RUNNER_MAX_INPUTS];
  size_t n_shapes;
  int profile_ops;
  size_t profile_runs;
  int check_outputs;          /* --check-outputs: the output_agreement pass (agreement.c) */
  const char *reference_path; /* --reference-model; NULL: the model itself, on CPU */
  const char *hash_cache;     /* --hash-cache DIR: remembered sha256 of the library and models (file_hash.h) */
} runner_args;

/* 0: parsed; 1: --help/--version printed (exit 0); -1: usage error in err. */
int runner_args_parse(int argc, char **argv, runner_args *a, char *err, size_t err_len);

#endif /* EDGEBENCH_RUNNER_ARGS_H_ */
