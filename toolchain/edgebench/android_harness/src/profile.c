/* --profile-ops: per-op timing from LiteRT's profiler.
 *
 * Profiling adds per-op bookkeeping, so it runs after the timed loop on a
 * second compiled model (same accelerator, threads and buffers) and never
 * touches the timed numbers. The profiler reports:
 *  - OPERATOR_INVOKE events for nodes the interpreter runs itself (CPU
 *    kernels); metadata1 is the node index, which for undelegated ops is the
 *    model's op index (delegate kernel nodes are appended after them);
 *  - DELEGATE_PROFILED_OPERATOR_INVOKE events for operators inside a delegate
 *    (e.g. XNNPACK's "Convolution (NHWC, F32) IGEMM"); these are the
 *    delegate's own operators and do not map one-to-one to model ops.
 * When no profile can be taken the line still lists the model's ops, with
 * every unknowable field null and named in "unavailable".
 */
#include "profile.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "model.h"
#include "shapes.h"

typedef struct {
  const char *tag;
  uint64_t node;
  int delegated;
  uint64_t total_us;
  uint64_t count;
} op_stat;

static void write_model_ops(runner *r) {
  jw_key(&r->w, "model_ops");
  if (r->n_ops == 0) {
    jw_null(&r->w);
    return;
  }
  char buf[96];
  jw_arr_begin(&r->w);
  for (size_t i = 0; i < r->n_ops; ++i) {
    jw_obj_begin(&r->w);
    jw_ku64(&r->w, "index", i);
    jw_kstr(&r->w, "op_type", op_type_name(r, i, buf, sizeof(buf)));
    jw_obj_end(&r->w);
  }
  jw_arr_end(&r->w);
}

static void write_unavailable(runner *r, const char *reason) {
  char buf[96];
  jw_line_begin(&r->w, "profile");
  jw_kbool(&r->w, "available", false);
  jw_kstr(&r->w, "reason", reason);
  jw_knull(&r->w, "runs");
  jw_key(&r->w, "ops");
  jw_arr_begin(&r->w);
  for (size_t i = 0; i < r->n_ops; ++i) {
    jw_obj_begin(&r->w);
    jw_ku64(&r->w, "index", i);
    jw_knull(&r->w, "node");
    jw_kstr(&r->w, "op_type", op_type_name(r, i, buf, sizeof(buf)));
    jw_knull(&r->w, "name");
    jw_knull(&r->w, "delegated");
    jw_knull(&r->w, "avg_us");
    jw_knull(&r->w, "count");
    jw_obj_end(&r->w);
  }
  jw_arr_end(&r->w);
  jw_knull(&r->w, "nodes_delegated");
  jw_knull(&r->w, "nodes_cpu");
  write_model_ops(r);
  jw_key(&r->w, "unavailable");
  jw_arr_begin(&r->w);
  static const char *const kFields[] = {"node", "name", "delegated", "avg_us", "count",
                                        "nodes_delegated", "nodes_cpu"};
  for (size_t i = 0; i < sizeof(kFields) / sizeof(kFields[0]); ++i) jw_str(&r->w, kFields[i]);
  jw_arr_end(&r->w);
  jw_line_end(&r->w);
  fflush(r->out);
}

static op_stat *find_or_add(op_stat *stats, size_t *n, const char *tag, uint64_t node,
                            int delegated) {
  for (size_t i = 0; i < *n; ++i) {
    if (stats[i].node == node && stats[i].delegated == delegated &&
        strcmp(stats[i].tag, tag) == 0) {
      return &stats[i];
    }
  }
  op_stat *s = &stats[(*n)++];
  s->tag = tag;
  s->node = node;
  s->delegated = delegated;
  s->total_us = 0;
  s->count = 0;
  return s;
}

static const char *tag_of(const lr_profiled_event *e) { return e->tag ? e->tag : ""; }

/* The profiled runs: r->args->profile_runs runs of a second compiled model with
 * the profiler on, after one unprofiled run. Returns 0, or -1 with `reason`. */
static int run_profiled(runner *r, lr_profiler *prof, size_t *runs, char *reason, size_t len) {
  if (!r->api.GetProfiler || !r->api.StartProfiler || !r->api.StopProfiler ||
      !r->api.GetNumProfilerEvents || !r->api.GetProfilerEvents) {
    snprintf(reason, len, "this libLiteRt.so does not export the profiler C API "
                          "(LiteRtCompiledModelGetProfiler / LiteRtGetProfilerEvents)");
    return -1;
  }
  lr_compiled_model cm = NULL;
  char why[1024];
  if (compile(r, r->accel_used, 1, &cm, why, sizeof(why)) != LR_OK) {
    snprintf(reason, len, "compiling a profiling copy of the model failed: %s", why);
    return -1;
  }
  if (resolve_shapes(r, cm, 0) != 0) {
    snprintf(reason, len, "the profiling copy could not be resized like the timed model");
    return -1;
  }
  lr_status st = r->api.GetProfiler(cm, prof);
  if (st != LR_OK || *prof == NULL) {
    snprintf(reason, len, "LiteRtCompiledModelGetProfiler returned %s (%d) with profiling enabled",
             lr_status_name(st), st);
    return -1;
  }
  /* One unprofiled run first: the first run of a fresh model pays one-off
   * setup that would otherwise land on the first op. */
  st = r->api.RunCompiledModel(cm, 0, r->n_in, r->in_bufs, r->n_out, r->out_bufs);
  if (r->api.ResetProfiler) r->api.ResetProfiler(*prof);
  r->api.StartProfiler(*prof);
  for (*runs = 0; st == LR_OK && *runs < r->args->profile_runs; ++*runs) {
    st = r->api.RunCompiledModel(cm, 0, r->n_in, r->in_bufs, r->n_out, r->out_bufs);
  }
  r->api.StopProfiler(*prof);
  if (st != LR_OK) {
    snprintf(reason, len, "a profiled run failed: %s (%d)", lr_status_name(st), st);
    return -1;
  }
  return 0;
}

/* The profiler's events, and room to sort them. */
typedef struct {
  lr_profiled_event *events;
  int n_events;
  const lr_profiled_event **op_events; /* op events only, in execution order */
  int *is_delegated;                   /* per op event */
  size_t n_op;
  char *cpu_seen;                      /* per model op: run by the interpreter itself */
  size_t nodes_cpu, delegate_events;
  op_stat *stats;                      /* grouped op events */
  size_t n_stats;
} profile_events;

static void free_events(profile_events *p) {
  free(p->events);
  free(p->stats);
  free(p->op_events);
  free(p->is_delegated);
  free(p->cpu_seen);
}

static int read_events(runner *r, lr_profiler prof, profile_events *p, char *reason, size_t len) {
  if (r->api.GetNumProfilerEvents(prof, &p->n_events) != LR_OK || p->n_events <= 0) {
    snprintf(reason, len, "the profiler recorded no events");
    return -1;
  }
  size_t n = (size_t)p->n_events;
  p->events = calloc(n, sizeof(lr_profiled_event));
  p->stats = calloc(n, sizeof(op_stat));
  p->op_events = calloc(n, sizeof(*p->op_events));
  p->is_delegated = calloc(n, sizeof(int));
  p->cpu_seen = calloc(r->n_ops + 1, 1);
  if (!p->events || !p->stats || !p->op_events || !p->is_delegated || !p->cpu_seen ||
      r->api.GetProfilerEvents(prof, p->n_events, p->events) != LR_OK) {
    snprintf(reason, len, "the profiler events could not be read");
    return -1;
  }
  return 0;
}

/* Keep only op events (interpreter nodes and delegate operators), in the
 * order the profiler recorded them (execution order). */
static void keep_op_events(const runner *r, profile_events *p) {
  for (int i = 0; i < p->n_events; ++i) {
    const lr_profiled_event *e = &p->events[i];
    int delegated;
    if (e->event_type == LR_EVENT_OPERATOR_INVOKE) {
      delegated = r->n_ops > 0 && e->event_metadata1 >= r->n_ops;
      if (!delegated && e->event_metadata1 < r->n_ops && !p->cpu_seen[e->event_metadata1]) {
        p->cpu_seen[e->event_metadata1] = 1;
        p->nodes_cpu++;
      }
    } else if (e->event_type == LR_EVENT_DELEGATE_OPERATOR_INVOKE ||
               e->event_type == LR_EVENT_DELEGATE_PROFILED_OPERATOR_INVOKE) {
      delegated = 1;
    } else {
      continue; /* runtime bookkeeping, telemetry */
    }
    p->delegate_events += (size_t)delegated;
    p->is_delegated[p->n_op] = delegated;
    p->op_events[p->n_op++] = e;
  }
}

/* Every profiled run executes the same sequence: when the op events split
 * evenly into identical runs, the k-th event of each run is the same op
 * (this keeps apart two delegate partitions whose operators share an
 * index). Otherwise events are grouped by (tag, node, delegated). */
static void group_op_events(profile_events *p, size_t runs) {
  size_t n_op = p->n_op;
  size_t per_run = runs > 0 && n_op % runs == 0 ? n_op / runs : 0;
  for (size_t k = 0; per_run && k < n_op; ++k) {
    const lr_profiled_event *a = p->op_events[k], *b = p->op_events[k % per_run];
    if (a->event_metadata1 != b->event_metadata1 || strcmp(tag_of(a), tag_of(b)) != 0) per_run = 0;
  }
  for (size_t k = 0; k < n_op; ++k) {
    const lr_profiled_event *e = p->op_events[k];
    op_stat *s;
    if (per_run) {
      s = &p->stats[k % per_run];
      if (k < per_run) {
        p->n_stats = k + 1;
        s->tag = tag_of(e);
        s->node = e->event_metadata1;
        s->delegated = p->is_delegated[k];
      }
    } else {
      s = find_or_add(p->stats, &p->n_stats, tag_of(e), e->event_metadata1, p->is_delegated[k]);
    }
    s->total_us += e->elapsed_time_us;
    s->count++;
  }
}

static void write_op_stats(runner *r, const profile_events *p) {
  char buf[96];
  jw_key(&r->w, "ops");
  jw_arr_begin(&r->w);
  for (size_t i = 0; i < p->n_stats; ++i) {
    const op_stat *s = &p->stats[i];
    int model_op = !s->delegated && s->node < r->n_ops;
    jw_obj_begin(&r->w);
    if (model_op) jw_ku64(&r->w, "index", s->node); else jw_knull(&r->w, "index");
    jw_ku64(&r->w, "node", s->node);
    jw_kstr(&r->w, "op_type", model_op ? op_type_name(r, s->node, buf, sizeof(buf)) : s->tag);
    jw_kstr(&r->w, "name", s->tag);
    jw_kbool(&r->w, "delegated", s->delegated);
    /* the profiler reports whole microseconds per event */
    jw_kdouble(&r->w, "avg_us", (double)s->total_us / (double)s->count);
    jw_ku64(&r->w, "count", s->count);
    jw_obj_end(&r->w);
  }
  jw_arr_end(&r->w);
}

static void write_available(runner *r, const profile_events *p, size_t runs) {
  jw_line_begin(&r->w, "profile");
  jw_kbool(&r->w, "available", true);
  jw_kstr(&r->w, "source", "LiteRT profiler (runtime option enable_profiling) on a "
                           "second compiled model, after the timed loop");
  jw_ku64(&r->w, "runs", runs);
  write_op_stats(r, p);
  if (r->n_ops > 0) {
    /* Model ops not run by the interpreter itself were taken by a delegate;
     * with no delegate events at all, nothing was delegated. */
    jw_ku64(&r->w, "nodes_delegated", p->delegate_events ? r->n_ops - p->nodes_cpu : 0);
    jw_ku64(&r->w, "nodes_cpu", p->nodes_cpu);
  } else {
    jw_knull(&r->w, "nodes_delegated");
    jw_knull(&r->w, "nodes_cpu");
  }
  write_model_ops(r);
  jw_key(&r->w, "unavailable");
  jw_arr_begin(&r->w);
  if (r->n_ops == 0) {
    jw_str(&r->w, "nodes_delegated");
    jw_str(&r->w, "nodes_cpu");
  }
  jw_arr_end(&r->w);
  jw_line_end(&r->w);
  fflush(r->out);
}

void profile_write(runner *r) {
  char reason[1400];
  lr_profiler prof = NULL;
  size_t runs = 0;
  profile_events p;
  memset(&p, 0, sizeof(p));
  if (run_profiled(r, &prof, &runs, reason, sizeof(reason)) != 0 ||
      read_events(r, prof, &p, reason, sizeof(reason)) != 0) {
    write_unavailable(r, reason);
    free_events(&p);
    return;
  }
  keep_op_events(r, &p);
  group_op_events(&p, runs);
  write_available(r, &p, runs);
  free_events(&p);
}
