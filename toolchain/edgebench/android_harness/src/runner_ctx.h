/* The state one edgebench_runner process carries from unit to unit, and how a
 * unit ends the run (fail/finish, runner_exit.c). Every unit includes this
 * header; none calls into runner.c, which holds main() only. */
#ifndef EDGEBENCH_RUNNER_CTX_H_
#define EDGEBENCH_RUNNER_CTX_H_

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "jsonl.h"
#include "litert_api.h"
#include "runner_args.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

#define RUNNER_VERSION "1.3.0"

/* Exit codes: PROTOCOL.md. */
enum {
  EXIT_OK = 0,
  EXIT_USAGE = 2,
  EXIT_LIBRARY = 3,
  EXIT_MODEL = 4,
  EXIT_INPUT = 5,
  EXIT_RUN = 6
};

typedef struct {
  const char *name;        /* signature name */
  const char *tensor_name; /* may be NULL */
  lr_ranked_tensor_type type;  /* dims resolved after resize */
  int model_dims[LR_MAX_RANK]; /* as declared by the model (-1 = dynamic) */
  size_t bytes;                /* element count * element size */
  lr_tensor_buffer buffer;
  const input_shape *given;    /* inputs: the --input-shape naming it, or NULL */
  const char *shape_source;    /* inputs: "model", "option" or "placeholder" (PROTOCOL.md) */
  int quant;                   /* LR_QUANT_* (litert_api.h); LR_QUANT_UNKNOWN when unreadable */
  float q_scale;               /* per-tensor quantization: real = (q - zero_point) * scale */
  int64_t q_zero_point;
} io_tensor;

/* Durations of the init line's stages (ns). */
typedef struct {
  uint64_t load_library, create_environment, load_model, compile, create_buffers;
} stage_times_ns;

typedef struct {
  jw w;
  FILE *out;
  const runner_args *args;
  /* runtime library (library.c) */
  const char *lib_path;    /* resolved (lib_real) when possible, else --lib as given */
  char lib_real[PATH_MAX];
  char lib_dir[PATH_MAX];  /* where accelerator/dispatch libraries are looked up */
  char lib_sha[65];
  int lib_sha_cached;      /* lib_sha came from --hash-cache (file_hash.h), not from reading the file */
  lr_api api;
  lr_environment env;
  /* model (model.c) */
  char model_sha[65];
  int model_sha_cached;
  uint64_t model_bytes;
  lr_model model;
  lr_signature sig;
  size_t n_in, n_out;
  io_tensor *in, *out_t;
  lr_tensor_buffer *in_bufs, *out_bufs;
  /* ops of the signature's subgraph (n_ops == 0 when the API cannot list them) */
  size_t n_ops;
  int *op_codes;
  const char **op_custom;
  /* compiled model (compile.c) */
  lr_compiled_model cm;
  int accel_requested; /* LR_HW_* bit set asked for */
  int accel_used;      /* LR_HW_* bit set that compiled */
  char fallback_reason[2400];
  int fully_accelerated; /* 1, 0, or -1 when the library cannot say */
  stage_times_ns init;
  /* When set (the --check-outputs reference process), fail() also copies
   * "stage/code: message" here, so the measuring process can quote it. */
  char *fail_note;
  size_t fail_note_len;
} runner;

/* b - a, or 0 when the clock did not move forward. */
static inline uint64_t ns_between(uint64_t a, uint64_t b) { return b > a ? b - a : 0; }

/* Writes the end line, flushes and exits the process. */
__attribute__((noreturn)) int finish(runner *r, int exit_code);
/* Writes an error line, then finish(). */
__attribute__((noreturn, format(printf, 5, 6))) int fail(
    runner *r, const char *stage, const char *code, int exit_code, const char *fmt, ...);

#endif /* EDGEBENCH_RUNNER_CTX_H_ */
