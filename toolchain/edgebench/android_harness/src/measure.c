/* edgebench_runner: the warm-up and timed loops, and the lines written after them. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "litert_api.h"
#include "procinfo.h"
#include "runner.h"
#include "stats.h"
#include "tensors.h"

/* ---------- measurement ---------- */

int has_wide_int_input(const runner *r) {
  for (size_t i = 0; i < r->n_in; ++i) {
    int t = r->in[i].type.element_type;
    if (t == LR_TYPE_INT32 || t == LR_TYPE_INT64 || t == LR_TYPE_UINT32 || t == LR_TYPE_UINT64) {
      return 1;
    }
  }
  return 0;
}


int series_reserve(series *s, size_t capacity) {
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

/* The loop rule of benchmark_model: run while (count < min_count or elapsed <
 * min) and elapsed < max. Returns the failing status, or LR_OK. */
char g_first_run_said[768]; /* library stderr of a failed first run */

lr_status timed_loop(runner *r, lr_compiled_model cm, series *s, size_t min_count,
                            uint64_t min_ns, uint64_t max_ns, double delay_ms,
                            int capture_first, const char **stop_reason) {
  lr_api *api = &r->api;
  const size_t n_in = r->n_in, n_out = r->n_out;
  lr_tensor_buffer *in = r->in_bufs, *out = r->out_bufs;
  uint64_t loop_start = now_boottime_ns();
  uint64_t elapsed = 0;
  *stop_reason = "completed";
  while ((s->count < min_count || elapsed < min_ns) && elapsed < max_ns) {
    if (s->count == s->capacity &&
        series_reserve(s, s->capacity ? s->capacity * 2 : 1024) != 0) {
      *stop_reason = "out_of_memory";
      break;
    }
    /* The very first run of the process has its stderr captured (outside
     * the two clock reads) so a failure can quote the library. */
    stderr_capture cap;
    int capturing = capture_first && s->count == 0;
    if (capturing) stderr_capture_begin(&cap);
    uint64_t t0 = now_boottime_ns();
    lr_status st = api->RunCompiledModel(cm, 0, n_in, in, n_out, out);
    uint64_t t1 = now_boottime_ns();
    if (capturing) stderr_capture_end(&cap, g_first_run_said, sizeof(g_first_run_said));
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
    *stop_reason = "max_seconds";
  }
  return LR_OK;
}

void write_series(runner *r, const char *type, const series *s) {
  for (size_t i = 0; i < s->count; ++i) {
    jw_line_begin(&r->w, type);
    jw_ku64(&r->w, "index", i);
    jw_kns_as_us(&r->w, "latency_us", s->latency_ns[i]);
    jw_ku64(&r->w, "start_ns", s->start_ns[i]);
    jw_line_end(&r->w);
  }
}

void write_output_checksums(runner *r) {
  jw_line_begin(&r->w, "output");
  uint64_t all = FNV1A64_INIT;
  uint64_t *each = calloc(r->n_out + 1, sizeof(uint64_t));
  int *ok = calloc(r->n_out + 1, sizeof(int));
  int all_ok = 1;
  for (size_t i = 0; i < r->n_out; ++i) {
    void *ptr = NULL;
    if (r->api.LockTensorBuffer(r->out_t[i].buffer, &ptr, LR_LOCK_READ) == LR_OK && ptr) {
      each[i] = fnv1a64(FNV1A64_INIT, ptr, r->out_t[i].bytes);
      all = fnv1a64(all, ptr, r->out_t[i].bytes);
      ok[i] = 1;
      r->api.UnlockTensorBuffer(r->out_t[i].buffer);
    } else {
      all_ok = 0;
    }
  }
  char hex[17];
  if (all_ok) {
    snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)all);
    jw_kstr(&r->w, "checksum", hex);
  } else {
    jw_knull(&r->w, "checksum");
  }
  jw_key(&r->w, "outputs");
  jw_arr_begin(&r->w);
  for (size_t i = 0; i < r->n_out; ++i) {
    jw_obj_begin(&r->w);
    jw_ku64(&r->w, "index", i);
    if (ok[i]) {
      snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)each[i]);
      jw_kstr(&r->w, "checksum", hex);
    } else {
      jw_knull(&r->w, "checksum");
    }
    jw_obj_end(&r->w);
  }
  jw_arr_end(&r->w);
  jw_line_end(&r->w);
  free(each);
  free(ok);
}

void write_summary(runner *r, const series *s, const char *stop_reason) {
  uint64_t *scratch = malloc((s->count + 1) * sizeof(uint64_t));
  latency_stats st;
  if (scratch) {
    if (s->count) memcpy(scratch, s->latency_ns, s->count * sizeof(uint64_t));
    stats_compute(scratch, s->count, &st);
    free(scratch);
  } else {
    stats_compute(NULL, 0, &st);
  }
  jw_line_begin(&r->w, "summary");
  jw_ku64(&r->w, "count", s->count);
  jw_kdouble(&r->w, "min_us", st.min_ns / 1000.0);
  jw_kdouble(&r->w, "p10_us", st.p10_ns / 1000.0);
  jw_kdouble(&r->w, "median_us", st.median_ns / 1000.0);
  jw_kdouble(&r->w, "p90_us", st.p90_ns / 1000.0);
  jw_kdouble(&r->w, "p99_us", st.p99_ns / 1000.0);
  jw_kdouble(&r->w, "max_us", st.max_ns / 1000.0);
  jw_kdouble(&r->w, "mean_us", st.mean_ns / 1000.0);
  jw_kdouble(&r->w, "std_us", st.std_ns / 1000.0);
  if (s->count > 0) {
    uint64_t end = s->start_ns[s->count - 1] + s->latency_ns[s->count - 1];
    jw_kdouble(&r->w, "timed_seconds", (double)(end - s->start_ns[0]) / 1e9);
  } else {
    jw_knull(&r->w, "timed_seconds");
  }
  jw_kstr(&r->w, "stop_reason", stop_reason);
  jw_line_end(&r->w);
}
