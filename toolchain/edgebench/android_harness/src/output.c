/* edgebench_runner: writing the JSON lines (PROTOCOL.md). Only the end/error
 * lines (runner_exit.c) and the profile line (profile.c) are written elsewhere. */
#define _GNU_SOURCE
#include "output.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compile.h"
#include "procinfo.h"
#include "stats.h"
#include "tensors.h"

int output_open(runner *r, const char *path, char *err, size_t err_len) {
  int status = 0;
  r->out = stdout;
  if (path) {
    r->out = fopen(path, "w");
    if (r->out == NULL) {
      /* Reported on stdout, the only stream left, as a usage error. */
      snprintf(err, err_len, "cannot open --out %s for writing: %s", path, strerror(errno));
      r->out = stdout;
      status = -1;
    }
  }
  /* Large buffer: thousands of run lines are written after the loop. */
  static char outbuf[1 << 20];
  setvbuf(r->out, outbuf, _IOFBF, sizeof(outbuf));
  jw_init(&r->w, r->out);
  return status;
}

/* The CPUs this process may run on: shows whether taskset pinning took. */
static void write_cpu_affinity(jw *w) {
  cpu_set_t set;
  CPU_ZERO(&set);
  jw_key(w, "cpu_affinity");
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    jw_arr_begin(w);
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) jw_i64(w, c);
    }
    jw_arr_end(w);
  } else {
    jw_null(w);
  }
}

void output_start(runner *r, int argc, char **argv) {
  jw_line_begin(&r->w, "start");
  jw_kstr(&r->w, "runner_version", RUNNER_VERSION);
  jw_key(&r->w, "argv");
  jw_arr_begin(&r->w);
  for (int i = 0; i < argc; ++i) jw_str(&r->w, argv[i]);
  jw_arr_end(&r->w);
  jw_ku64(&r->w, "boottime_ns", now_boottime_ns());
  jw_ki64(&r->w, "pid", (int64_t)getpid());
  jw_kstr(&r->w, "latency_clock", "CLOCK_BOOTTIME");
  write_cpu_affinity(&r->w);
  jw_line_end(&r->w);
}

void output_runtime(runner *r) {
  jw_line_begin(&r->w, "runtime");
  jw_kstr(&r->w, "library_path", r->lib_path);
  jw_kstr(&r->w, "library_sha256", r->lib_sha);
  jw_kbool(&r->w, "library_sha256_cached", r->lib_sha_cached != 0);
  jw_kstr(&r->w, "library_dir", r->lib_dir);
  jw_kstr(&r->w, "api_generation", lr_generation_name(r->api.generation));
  jw_kstr(&r->w, "api_generation_evidence", r->api.generation_evidence);
  /* The C API has no runtime version query; the host records the package. */
  jw_knull(&r->w, "library_version");
  jw_line_end(&r->w);
  fflush(r->out);
}

static void write_shape(jw *w, const char *key, const int *dims, unsigned rank) {
  jw_key(w, key);
  jw_arr_begin(w);
  for (unsigned i = 0; i < rank; ++i) jw_i64(w, dims[i]);
  jw_arr_end(w);
}

static void write_io_list(runner *r, const char *key, io_tensor *t, size_t n) {
  jw_key(&r->w, key);
  jw_arr_begin(&r->w);
  for (size_t i = 0; i < n; ++i) {
    jw_obj_begin(&r->w);
    jw_ku64(&r->w, "index", i);
    jw_kstr(&r->w, "name", t[i].name);
    jw_kstr(&r->w, "tensor_name", t[i].tensor_name);
    const char *dt = dtype_name(t[i].type.element_type);
    jw_kstr(&r->w, "dtype", dt ? dt : "unknown");
    write_shape(&r->w, "shape", t[i].type.layout.dimensions, t[i].type.layout.rank);
    write_shape(&r->w, "shape_signature", t[i].model_dims, t[i].type.layout.rank);
    if (t[i].shape_source) jw_kstr(&r->w, "shape_source", t[i].shape_source);
    jw_ku64(&r->w, "bytes", t[i].bytes);
    jw_obj_end(&r->w);
  }
  jw_arr_end(&r->w);
}

void output_setup(runner *r) {
  const runner_args *args = r->args;
  jw_line_begin(&r->w, "setup");
  jw_kstr(&r->w, "model_path", args->model_path);
  jw_kstr(&r->w, "model_sha256", r->model_sha);
  jw_kbool(&r->w, "model_sha256_cached", r->model_sha_cached != 0);
  jw_ku64(&r->w, "model_bytes", r->model_bytes);
  write_io_list(r, "inputs", r->in, r->n_in);
  write_io_list(r, "outputs", r->out_t, r->n_out);
  jw_ki64(&r->w, "threads", args->threads);
  jw_kstr(&r->w, "accelerator_requested", accel_name(r->accel_requested));
  jw_kstr(&r->w, "accelerator_used", accel_name(r->accel_used));
  if (r->fallback_reason[0]) {
    jw_kstr(&r->w, "fallback_reason", r->fallback_reason);
  } else {
    jw_knull(&r->w, "fallback_reason");
  }
  jw_key(&r->w, "fully_accelerated");
  if (r->fully_accelerated < 0) jw_null(&r->w); else jw_bool(&r->w, r->fully_accelerated == 1);
  jw_kstr(&r->w, "input_source", args->n_files > 0 ? "files" : "seeded");
  if (args->n_files > 0) jw_knull(&r->w, "input_seed"); else jw_ku64(&r->w, "input_seed", args->input_seed);
  jw_line_end(&r->w);
}

void output_init(runner *r) {
  const stage_times_ns *t = &r->init;
  jw_line_begin(&r->w, "init");
  jw_key(&r->w, "stages_us");
  jw_obj_begin(&r->w);
  jw_kns_as_us(&r->w, "load_library", t->load_library);
  jw_kns_as_us(&r->w, "create_environment", t->create_environment);
  jw_kns_as_us(&r->w, "load_model", t->load_model);
  jw_kns_as_us(&r->w, "compile", t->compile);
  jw_kns_as_us(&r->w, "create_buffers", t->create_buffers);
  jw_obj_end(&r->w);
  jw_kns_as_us(&r->w, "total_us", t->load_library + t->create_environment + t->load_model +
                                      t->compile + t->create_buffers);
  jw_line_end(&r->w);
  fflush(r->out);
}

void output_series(runner *r, const char *type, const series *s) {
  for (size_t i = 0; i < s->count; ++i) {
    jw_line_begin(&r->w, type);
    jw_ku64(&r->w, "index", i);
    jw_kns_as_us(&r->w, "latency_us", s->latency_ns[i]);
    jw_ku64(&r->w, "start_ns", s->start_ns[i]);
    jw_line_end(&r->w);
  }
}

void output_checksums(runner *r) {
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

void output_summary(runner *r, const series *s, const char *stop_reason) {
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

void output_resources(runner *r, const measurement *m) {
  jw_line_begin(&r->w, "resources");
  long long hwm = proc_status_value("VmHWM");
  if (hwm >= 0) jw_ki64(&r->w, "peak_rss_kb", hwm); else jw_knull(&r->w, "peak_rss_kb");
  if (m->threads_seen >= 0) jw_ki64(&r->w, "threads_observed", m->threads_seen);
  else jw_knull(&r->w, "threads_observed");
  jw_key(&r->w, "cpus_seen");
  if (m->have_tasks) {
    jw_arr_begin(&r->w);
    for (int c = 0; c < CPU_SEEN_MAX; c++) {
      if (m->cpus_seen[c / 64] >> (c % 64) & 1) jw_i64(&r->w, c);
    }
    jw_arr_end(&r->w);
  } else {
    jw_null(&r->w);
  }
  jw_line_end(&r->w);
}
