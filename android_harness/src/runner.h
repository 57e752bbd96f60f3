/* Shared state of edgebench_runner (runner.c) and its per-op profile pass
 * (profile.c). */
#ifndef EDGEBENCH_RUNNER_H_
#define EDGEBENCH_RUNNER_H_

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "jsonl.h"
#include "litert_api.h"
#include "runner_args.h"

#define RUNNER_VERSION "1.1.0"

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
} io_tensor;

typedef struct {
  jw w;
  FILE *out;
  const runner_args *args;
  lr_api api;
  lr_environment env;
  lr_model model;
  lr_signature sig;
  size_t n_in, n_out;
  io_tensor *in, *out_t;
  lr_tensor_buffer *in_bufs, *out_bufs;
  /* ops of the signature's subgraph (n_ops == 0 when the API cannot list them) */
  size_t n_ops;
  int *op_codes;
  const char **op_custom;
  int accel_used; /* LR_HW_* bit set that compiled */
  char fallback_reason[2400];
} runner;

/* Writes the end line, flushes and exits the process. */
__attribute__((noreturn)) int finish(runner *r, int exit_code);
/* Writes an error line, then finish(). */
__attribute__((noreturn, format(printf, 5, 6))) int fail(
    runner *r, const char *stage, const char *code, int exit_code, const char *fmt, ...);

int accelerator_registered(runner *r, int hw, char *registered, size_t len);
lr_status compile(runner *r, int hw, int profiling, lr_compiled_model *cm, char *why,
                  size_t why_len);
/* report=0: return -1 on problems instead of failing the run. */
int resolve_shapes(runner *r, lr_compiled_model cm, int report);
const char *op_type_name(const runner *r, size_t i, char *buf, size_t len);

/* model.c */
int inspect_model(runner *r);
size_t list_custom_ops(const runner *r, const char *prefix, char *buf, size_t len);
const char *accel_name(int hw);
int tensor_bytes(runner *r, io_tensor *t, const char *what, size_t index);
int make_buffer(runner *r, lr_compiled_model cm, io_tensor *t, int is_input, size_t index);
int fill_inputs(runner *r);

/* measure.c: per-run latencies and start stamps (ns), kept in memory. */
typedef struct {
  uint64_t *latency_ns;
  uint64_t *start_ns;
  size_t count, capacity;
} series;

extern char g_first_run_said[768]; /* library stderr of a failed first run */
int has_wide_int_input(const runner *r);
int series_reserve(series *s, size_t capacity);
/* Runs while (count < min_count || elapsed < min_ns) && elapsed < max_ns. */
lr_status timed_loop(runner *r, lr_compiled_model cm, series *s, size_t min_count, uint64_t min_ns,
                     uint64_t max_ns, double delay_ms, int capture_first, const char **stop_reason);
void write_series(runner *r, const char *type, const series *s);
void write_output_checksums(runner *r);
void write_summary(runner *r, const series *s, const char *stop_reason);

/* profile.c: the --profile-ops pass, after the timed loop. */
void write_profile(runner *r, lr_compiled_model timed_model);

#endif /* EDGEBENCH_RUNNER_H_ */
