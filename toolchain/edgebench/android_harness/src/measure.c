/* edgebench_runner: the warm-up and timed loops. The loop itself does nothing
 * but read CLOCK_BOOTTIME, run the model and store two numbers; every line is
 * written after it (output.c). */
#define _GNU_SOURCE
#include "measure.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crash_guard.h"
#include "output.h"

/* When the loop stops: run while (count < min_count or elapsed < min_ns) and elapsed < max_ns
 * (the loop rule of benchmark_model), with delay_ms of sleep after each run. */
typedef struct {
  size_t min_count;
  uint64_t min_ns, max_ns;
  double delay_ms;
  int capture_first; /* capture the library's stderr around the first run */
} loop_rule;

static int has_wide_int_input(const runner *r) {
  for (size_t i = 0; i < r->n_in; ++i) {
    int t = r->in[i].type.element_type;
    if (t == LR_TYPE_INT32 || t == LR_TYPE_INT64 || t == LR_TYPE_UINT32 || t == LR_TYPE_UINT64) {
      return 1;
    }
  }
  return 0;
}

static int series_reserve(series *s, size_t capacity) {
  if (capacity <= s->capacity) return 0;
  uint64_t *lat = realloc(s->latency_ns, capacity * sizeof(uint64_t));
  if (lat == NULL) return -1;
  s->latency_ns = lat;
  uint64_t *st = realloc(s->start_ns, capacity * sizeof(uint64_t));
  if (st == NULL) return -1;
  s->start_ns = st;
  s->capacity = capacity;
  return 0;
}

static void sleep_ms(double ms) {
  if (ms <= 0) return;
  struct timespec ts;
  ts.tv_sec = (time_t)(ms / 1000.0);
  ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1000.0) * 1e6);
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* Runs the compiled model by `rule` into `s`. Returns the failing status, or LR_OK;
 * m->stop_reason says why the loop ended. */
static lr_status timed_loop(runner *r, series *s, const loop_rule *rule, measurement *m) {
  lr_api *api = &r->api;
  lr_compiled_model cm = r->cm;
  const size_t n_in = r->n_in, n_out = r->n_out, min_count = rule->min_count;
  const uint64_t min_ns = rule->min_ns, max_ns = rule->max_ns;
  const double delay_ms = rule->delay_ms;
  lr_tensor_buffer *in = r->in_bufs, *out = r->out_bufs;
  uint64_t loop_start = now_boottime_ns();
  uint64_t elapsed = 0;
  m->stop_reason = "completed";
  while ((s->count < min_count || elapsed < min_ns) && elapsed < max_ns) {
    if (s->count == s->capacity &&
        series_reserve(s, s->capacity ? s->capacity * 2 : 1024) != 0) {
      m->stop_reason = "out_of_memory";
      break;
    }
    /* The very first run of the process has its stderr captured (outside
     * the two clock reads) so a failure can quote the library. */
    stderr_capture cap;
    int capturing = rule->capture_first && s->count == 0;
    if (capturing) stderr_capture_begin(&cap);
    uint64_t t0 = now_boottime_ns();
    lr_status st = api->RunCompiledModel(cm, 0, n_in, in, n_out, out);
    uint64_t t1 = now_boottime_ns();
    if (capturing) stderr_capture_end(&cap, m->first_run_said, sizeof(m->first_run_said));
    if (st != LR_OK) return st;
    s->latency_ns[s->count] = t1 - t0;
    s->start_ns[s->count] = t0;
    s->count++;
    elapsed = t1 - loop_start;
    if (delay_ms > 0) {
      sleep_ms(delay_ms);
      elapsed = now_boottime_ns() - loop_start;
    }
  }
  if (elapsed >= max_ns && (s->count < min_count || elapsed < min_ns)) {
    m->stop_reason = "max_seconds";
  }
  return LR_OK;
}

static void note_threads(measurement *m) {
  long long now = proc_status_value("Threads");
  if (now > m->threads_seen) m->threads_seen = now;
}

void measure_warmup(runner *r, measurement *m) {
  const runner_args *args = r->args;
  m->threads_seen = proc_status_value("Threads");
  crash_guard_stage("warmup", "run", EXIT_RUN, "LiteRT crashed during a warm-up run");
  series *warm = &m->warm;
  series_reserve(warm, args->warmup_runs + 16);
  /* The warm-up keeps the timed loop's pace (--run-delay-ms): a fixed-rate workload warmed up back to
   * back would bring the device into another state than the one it is measured in. */
  loop_rule rule = {args->warmup_runs, (uint64_t)(args->warmup_seconds * 1e9), UINT64_MAX,
                    args->run_delay_ms, 1};
  lr_status st = timed_loop(r, warm, &rule, m);
  output_series(r, "warmup", warm);
  if (st != LR_OK) {
    fail(r, "warmup", "run", EXIT_RUN,
         "LiteRtRunCompiledModel failed on warm-up run %zu: %s (%d)%s%s%s", warm->count,
         lr_status_name(st), st, warm->count == 0 && m->first_run_said[0] ? "; library said: " : "",
         warm->count == 0 ? m->first_run_said : "",
         args->n_files == 0 && has_wide_int_input(r)
             ? "; seeded integer inputs are drawn from [0, 99], which may be out of the "
               "model's range (e.g. an embedding's vocabulary): try --input-file"
             : "");
  }
  fflush(r->out);
  note_threads(m);
  /* Where the threads that work in the timed loop ran: compared after it (outside the loop). */
  m->have_tasks = task_snapshot_take(&m->tasks_before) == 0;
}

/* Sizes the timed series from --runs and the warm-up speed so the loop rarely
 * reallocates; at most 4 Mi entries (64 MiB) up front, doubled if needed. */
static void reserve_timed(const runner_args *args, const series *warm, series *timed) {
  const double kMaxUpFront = 4194304.0;
  double guess = (double)args->runs + 16;
  if (warm->count > 0 && args->min_seconds > 0) {
    double per = (double)warm->latency_ns[warm->count - 1] + 1;
    double by_time = args->min_seconds * 1e9 / per * 1.25 + 16;
    if (by_time > guess) guess = by_time;
  }
  if (series_reserve(timed, (size_t)(guess < kMaxUpFront ? guess : kMaxUpFront)) != 0) {
    series_reserve(timed, 1024);
  }
}

void measure_timed(runner *r, measurement *m) {
  const runner_args *args = r->args;
  crash_guard_stage("run", "run", EXIT_RUN,
                    "LiteRT crashed during the timed loop (its run lines were not written)");
  series *timed = &m->timed;
  reserve_timed(args, &m->warm, timed);
  loop_rule rule = {args->runs, (uint64_t)(args->min_seconds * 1e9),
                    (uint64_t)(args->max_seconds * 1e9), args->run_delay_ms, m->warm.count == 0};
  lr_status st = timed_loop(r, timed, &rule, m);
  output_series(r, "run", timed);
  if (st != LR_OK) {
    int first = m->warm.count == 0 && timed->count == 0;
    fail(r, "run", "run", EXIT_RUN,
         "LiteRtRunCompiledModel failed on timed run %zu: %s (%d)%s%s; see runner.stderr",
         timed->count, lr_status_name(st), st, first && m->first_run_said[0] ? "; library said: " : "",
         first ? m->first_run_said : "");
  }
  note_threads(m);
  m->have_tasks = m->have_tasks && task_snapshot_take(&m->tasks_after) == 0;
  if (m->have_tasks) task_cpus_worked(&m->tasks_before, &m->tasks_after, m->cpus_seen);
}
