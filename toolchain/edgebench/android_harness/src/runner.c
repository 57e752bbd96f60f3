/* edgebench_runner: times a .tflite model with the LiteRT CompiledModel C API.
 *
 * Contract: android_harness/PROTOCOL.md (options, JSON lines, exit codes).
 * The library is dlopen()ed (litert_api.c); the timed loop does nothing but
 * run the model and read CLOCK_BOOTTIME, and everything is written after it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crash_guard.h"
#include "jsonl.h"
#include "litert_api.h"
#include "procinfo.h"
#include "runner.h"
#include "runner_args.h"
#include "sha256.h"
#include "tensors.h"

/* ---------- output helpers ---------- */

int finish(runner *r, int exit_code) {
  jw_line_begin(&r->w, "end");
  jw_kstr(&r->w, "status", exit_code == EXIT_OK ? "ok" : "failed");
  jw_ki64(&r->w, "exit_code", exit_code);
  jw_line_end(&r->w);
  fflush(r->out);
  if (r->out != stdout) fclose(r->out);
  fflush(stdout);
  /* _exit skips the runtime library's static destructors: a crash there must
   * not turn a complete, measured run into a failed exit code. */
  _exit(exit_code);
}

int fail(runner *r, const char *stage, const char *code, int exit_code,
                const char *fmt, ...) {
  char message[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof(message), fmt, ap);
  va_end(ap);
  jw_line_begin(&r->w, "error");
  jw_kstr(&r->w, "stage", stage);
  jw_kstr(&r->w, "code", code);
  jw_kstr(&r->w, "message", message);
  jw_line_end(&r->w);
  fprintf(stderr, "edgebench_runner: %s: %s\n", code, message);
  finish(r, exit_code);
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

static uint64_t ns_between(uint64_t a, uint64_t b) { return b > a ? b - a : 0; }

/* ---------- main ---------- */

int main(int argc, char **argv) {
  static runner rr;
  runner *r = &rr;
  runner_args args;
  char usage_err[1024];
  int parse = runner_args_parse(argc, argv, &args, usage_err, sizeof(usage_err));
  if (parse == 1) { /* --help / --version */
    return 0;
  }
  r->args = &args;
  r->out = stdout;
  if (args.out_path) {
    r->out = fopen(args.out_path, "w");
    if (r->out == NULL) {
      /* Reported on stdout, the only stream left, as a usage error. */
      snprintf(usage_err, sizeof(usage_err), "cannot open --out %s for writing: %s",
               args.out_path, strerror(errno));
      r->out = stdout;
      parse = -1;
    }
  }
  /* Large buffer: thousands of run lines are written after the loop. */
  static char outbuf[1 << 20];
  setvbuf(r->out, outbuf, _IOFBF, sizeof(outbuf));
  jw_init(&r->w, r->out);

  jw_line_begin(&r->w, "start");
  jw_kstr(&r->w, "runner_version", RUNNER_VERSION);
  jw_key(&r->w, "argv");
  jw_arr_begin(&r->w);
  for (int i = 0; i < argc; ++i) jw_str(&r->w, argv[i]);
  jw_arr_end(&r->w);
  jw_ku64(&r->w, "boottime_ns", now_boottime_ns());
  jw_ki64(&r->w, "pid", (int64_t)getpid());
  jw_kstr(&r->w, "latency_clock", "CLOCK_BOOTTIME");
  {
    /* The CPUs this process may run on: shows whether taskset pinning took. */
    cpu_set_t set;
    CPU_ZERO(&set);
    jw_key(&r->w, "cpu_affinity");
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
      jw_arr_begin(&r->w);
      for (int c = 0; c < CPU_SETSIZE; ++c) {
        if (CPU_ISSET(c, &set)) jw_i64(&r->w, c);
      }
      jw_arr_end(&r->w);
    } else {
      jw_null(&r->w);
    }
  }
  jw_line_end(&r->w);
  if (parse != 0) return fail(r, "usage", "usage", EXIT_USAGE, "%s", usage_err);
  fflush(r->out);
  crash_guard_install(fileno(r->out));

  /* --- runtime library --- */
  char lib_real[PATH_MAX];
  const char *lib_path = realpath(args.lib_path, lib_real) ? lib_real : args.lib_path;
  char lib_sha[65];
  int have_sha = sha256_file(lib_path, lib_sha, NULL) == 0;
  uint64_t t_lib0 = now_boottime_ns();
  char err[2048];
  if (!have_sha) {
    return fail(r, "load_library", "library", EXIT_LIBRARY,
                "cannot read the LiteRT runtime library %s: %s; pass --lib with the "
                "path of libLiteRt.so", args.lib_path, strerror(errno));
  }
  crash_guard_stage("load_library", "library", EXIT_LIBRARY,
                    "loading the LiteRT runtime library crashed the process");
  if (lr_api_load(&r->api, lib_path, err, sizeof(err)) != 0) {
    /* No runtime line: there is no runtime whose generation could be named. */
    return fail(r, "load_library", "library", EXIT_LIBRARY, "%s (library sha256 %s)", err, lib_sha);
  }
  uint64_t t_lib1 = now_boottime_ns();
  static char lib_dir[PATH_MAX];
  snprintf(lib_dir, sizeof(lib_dir), "%s", lib_path);
  {
    char *slash = strrchr(lib_dir, '/');
    if (slash == NULL) snprintf(lib_dir, sizeof(lib_dir), ".");
    else if (slash == lib_dir) slash[1] = '\0';
    else *slash = '\0';
  }
  jw_line_begin(&r->w, "runtime");
  jw_kstr(&r->w, "library_path", lib_path);
  jw_kstr(&r->w, "library_sha256", lib_sha);
  jw_kstr(&r->w, "library_dir", lib_dir);
  jw_kstr(&r->w, "api_generation", lr_generation_name(r->api.generation));
  jw_kstr(&r->w, "api_generation_evidence", r->api.generation_evidence);
  /* The C API has no runtime version query; the host records the package. */
  jw_knull(&r->w, "library_version");
  jw_line_end(&r->w);
  fflush(r->out);

  /* --- model file checks before the library touches it --- */
  struct stat sb;
  int stat_failed = stat(args.model_path, &sb) != 0;
  if (stat_failed || !S_ISREG(sb.st_mode)) {
    return fail(r, "load_model", "model_missing", EXIT_MODEL,
                "model file %s %s; push the .tflite file and pass its path with --model",
                args.model_path,
                !stat_failed ? "is not a regular file"
                : errno == ENOENT ? "does not exist" : "cannot be accessed");
  }
  char model_sha[65];
  uint64_t model_bytes = 0;
  {
    FILE *f = fopen(args.model_path, "rb");
    unsigned char head[8] = {0};
    size_t got = f ? fread(head, 1, sizeof(head), f) : 0;
    if (f) fclose(f);
    if (f == NULL) {
      return fail(r, "load_model", "model_missing", EXIT_MODEL,
                  "cannot open model file %s: %s", args.model_path, strerror(errno));
    }
    if (got < 8 || memcmp(head + 4, "TFL3", 4) != 0) {
      return fail(r, "load_model", "not_a_model", EXIT_MODEL,
                  "%s is not a TFLite flatbuffer: expected the identifier 'TFL3' at byte "
                  "4, found %s; check that the file is a converted .tflite model",
                  args.model_path, got < 8 ? "a file shorter than 8 bytes" : "other bytes");
    }
    sha256_file(args.model_path, model_sha, &model_bytes);
  }

  /* --- environment, model --- */
  uint64_t t_env0 = now_boottime_ns();
  /* Accelerator and NPU dispatch libraries are looked up beside libLiteRt.so
   * (the run folder's lib/). The runtime-dir option exists in 2.2+ only. */
  lr_env_option env_opts[2];
  int n_env = 0;
  env_opts[n_env].tag = LR_ENV_DISPATCH_LIBRARY_DIR;
  env_opts[n_env].value.type = LR_ANY_STRING;
  env_opts[n_env++].value.value.str_value = lib_dir;
  if (r->api.generation == LR_GEN_2_2_PLUS) {
    env_opts[n_env].tag = LR_ENV_RUNTIME_LIBRARY_DIR;
    env_opts[n_env].value.type = LR_ANY_STRING;
    env_opts[n_env++].value.value.str_value = lib_dir;
  }
  fflush(r->out);
  crash_guard_stage("create_environment", "library", EXIT_LIBRARY,
                    "LiteRtCreateEnvironment crashed the process");
  lr_status st = r->api.CreateEnvironment(n_env, env_opts, &r->env);
  if (st != LR_OK) {
    return fail(r, "create_environment", "library", EXIT_LIBRARY,
                "LiteRtCreateEnvironment returned %s (%d)", lr_status_name(st), st);
  }
  uint64_t t_model0 = now_boottime_ns();
  {
    char what[PATH_MAX + 128];
    snprintf(what, sizeof(what), "LiteRT crashed while reading %s: the file is probably truncated "
             "or corrupt; push it again or re-convert it", args.model_path);
    crash_guard_stage("load_model", "not_a_model", EXIT_MODEL, what);
    stderr_capture cap;
    char said[768];
    stderr_capture_begin(&cap);
    st = lr_create_model_from_file(&r->api, r->env, args.model_path, &r->model);
    stderr_capture_end(&cap, said, sizeof(said));
    if (st == 5 /* kLiteRtStatusErrorUnsupported */) {
      return fail(r, "load_model", "unsupported_model", EXIT_MODEL,
                  "LiteRT read %s but does not support something in it: %s (%d)%s%s; "
                  "re-convert the model without that feature (e.g. stateful LSTM "
                  "variable tensors) or benchmark it with another engine",
                  args.model_path, lr_status_name(st), st, said[0] ? "; library said: " : "",
                  said);
    }
    if (st != LR_OK) {
      return fail(r, "load_model", "not_a_model", EXIT_MODEL,
                  "LiteRT could not load %s as a model: %s (%d)%s%s; the file may be "
                  "truncated or corrupt, or not a .tflite model", args.model_path,
                  lr_status_name(st), st, said[0] ? "; library said: " : "", said);
    }
  }
  inspect_model(r);
  uint64_t t_model1 = now_boottime_ns();

  char ops[512];
  if (list_custom_ops(r, "Flex", ops, sizeof(ops)) > 0) {
    return fail(r, "load_model", "unsupported_ops", EXIT_MODEL,
                "the model uses TensorFlow (Flex, SELECT_TF_OPS) ops: %s; the LiteRT "
                "runtime has no Flex delegate, so re-convert the model with builtin ops "
                "only (no SELECT_TF_OPS)", ops);
  }
  for (size_t i = 0; i < r->n_in; ++i) {
    if (dtype_size(r->in[i].type.element_type) == 0) {
      const char *dt = dtype_name(r->in[i].type.element_type);
      return fail(r, "load_model", "input", EXIT_INPUT,
                  "input %zu ('%s') has element type %s, which the runner cannot feed "
                  "(supported: float32, float16, bfloat16, float64, int8, uint8, int16, "
                  "uint16, int32, uint32, int64, uint64, bool, complex); benchmark a "
                  "variant of the model that takes numeric inputs",
                  i, r->in[i].name, dt ? dt : "unknown");
    }
  }
  if (args.n_files > 0 && args.n_files != r->n_in) {
    return fail(r, "load_model", "input", EXIT_INPUT,
                "%zu --input-file given but the model has %zu inputs; give one file per "
                "input, in input order", args.n_files, r->n_in);
  }
  match_input_shapes(r);

  /* --- compile, with an honest fallback to CPU --- */
  /* GPU and NPU are requested WITHOUT the CPU bit: with it, a runtime whose accelerator cannot
   * take the model compiles everything on CPU and still reports success, so the label would lie.
   * A model the accelerator cannot take whole therefore falls back to CPU, recorded. */
  int requested = args.accelerator == ACCEL_GPU   ? LR_HW_GPU
                  : args.accelerator == ACCEL_NPU ? LR_HW_NPU
                                                  : LR_HW_CPU;
  crash_guard_stage("compile", "compile", EXIT_MODEL, "LiteRT crashed while compiling the model");
  uint64_t t_compile0 = now_boottime_ns();
  lr_compiled_model cm = NULL;
  char why[2048];
  r->accel_used = requested;
  st = LR_OK;
  if (requested != LR_HW_CPU) {
    char registered[512];
    int hw_only = requested & ~LR_HW_CPU;
    if (accelerator_registered(r, hw_only, registered, sizeof(registered)) == 0) {
      /* Asking anyway would compile on CPU and report the requested accelerator. */
      snprintf(why, sizeof(why), "no %s accelerator is registered in this LiteRT runtime (registered: %s)",
               accel_name(hw_only), registered);
      st = -1;
    }
  }
  if (st == LR_OK) st = compile(r, requested, 0, &cm, why, sizeof(why));
  if (st != LR_OK && requested != LR_HW_CPU) {
    snprintf(r->fallback_reason, sizeof(r->fallback_reason),
             "%s accelerator unusable (%s); ran on CPU instead",
             accel_name(requested), why);
    fprintf(stderr, "edgebench_runner: %s\n", r->fallback_reason);
    r->accel_used = LR_HW_CPU;
    st = compile(r, LR_HW_CPU, 0, &cm, why, sizeof(why));
  }
  if (st != LR_OK) {
    char custom[512];
    if (list_custom_ops(r, NULL, custom, sizeof(custom)) > 0) {
      return fail(r, "compile", "unsupported_ops", EXIT_MODEL,
                  "the model could not be compiled and it uses custom ops the runtime "
                  "may not have (%s): %s; re-convert with builtin ops only", custom, why);
    }
    return fail(r, "compile", "compile", EXIT_MODEL,
                "the model could not be compiled for %s: %s", accel_name(r->accel_used), why);
  }
  uint64_t t_compile1 = now_boottime_ns();

  /* --- buffers --- */
  crash_guard_stage("create_buffers", "input", EXIT_INPUT,
                    "LiteRT crashed while resizing inputs or creating the tensor buffers");
  if (resolve_shapes(r, cm, 1) != 0) return EXIT_INPUT;
  for (size_t i = 0; i < r->n_in; ++i) tensor_bytes(r, &r->in[i], "input", i);
  for (size_t i = 0; i < r->n_out; ++i) tensor_bytes(r, &r->out_t[i], "output", i);
  for (size_t i = 0; i < r->n_in; ++i) {
    make_buffer(r, cm, &r->in[i], 1, i);
    r->in_bufs[i] = r->in[i].buffer;
  }
  for (size_t i = 0; i < r->n_out; ++i) {
    make_buffer(r, cm, &r->out_t[i], 0, i);
    r->out_bufs[i] = r->out_t[i].buffer;
  }
  fill_inputs(r);
  uint64_t t_buf1 = now_boottime_ns();

  int fully = -1;
  if (r->api.IsFullyAccelerated) {
    bool b = false;
    if (r->api.IsFullyAccelerated(cm, &b) == LR_OK) fully = b ? 1 : 0;
  }
  jw_line_begin(&r->w, "setup");
  jw_kstr(&r->w, "model_path", args.model_path);
  jw_kstr(&r->w, "model_sha256", model_sha);
  jw_ku64(&r->w, "model_bytes", model_bytes);
  write_io_list(r, "inputs", r->in, r->n_in);
  write_io_list(r, "outputs", r->out_t, r->n_out);
  jw_ki64(&r->w, "threads", args.threads);
  jw_kstr(&r->w, "accelerator_requested", accel_name(requested));
  jw_kstr(&r->w, "accelerator_used", accel_name(r->accel_used));
  if (r->fallback_reason[0]) {
    jw_kstr(&r->w, "fallback_reason", r->fallback_reason);
  } else {
    jw_knull(&r->w, "fallback_reason");
  }
  jw_key(&r->w, "fully_accelerated");
  if (fully < 0) jw_null(&r->w); else jw_bool(&r->w, fully == 1);
  jw_kstr(&r->w, "input_source", args.n_files > 0 ? "files" : "seeded");
  if (args.n_files > 0) jw_knull(&r->w, "input_seed"); else jw_ku64(&r->w, "input_seed", args.input_seed);
  jw_line_end(&r->w);

  jw_line_begin(&r->w, "init");
  jw_key(&r->w, "stages_us");
  jw_obj_begin(&r->w);
  jw_kns_as_us(&r->w, "load_library", ns_between(t_lib0, t_lib1));
  jw_kns_as_us(&r->w, "create_environment", ns_between(t_env0, t_model0));
  jw_kns_as_us(&r->w, "load_model", ns_between(t_model0, t_model1));
  jw_kns_as_us(&r->w, "compile", ns_between(t_compile0, t_compile1));
  jw_kns_as_us(&r->w, "create_buffers", ns_between(t_compile1, t_buf1));
  jw_obj_end(&r->w);
  jw_kns_as_us(&r->w, "total_us", ns_between(t_lib0, t_lib1) + ns_between(t_env0, t_model0) +
                                      ns_between(t_model0, t_model1) +
                                      ns_between(t_compile0, t_compile1) +
                                      ns_between(t_compile1, t_buf1));
  jw_line_end(&r->w);
  fflush(r->out);

  long long threads_seen = proc_status_value("Threads");

  /* --- warm-up --- */
  crash_guard_stage("warmup", "run", EXIT_RUN, "LiteRT crashed during a warm-up run");
  const char *stop_reason = NULL;
  series warm = {0};
  series_reserve(&warm, args.warmup_runs + 16);
  /* The warm-up keeps the timed loop's pace (--run-delay-ms): a fixed-rate workload warmed up back to
   * back would bring the device into another state than the one it is measured in. */
  st = timed_loop(r, cm, &warm, args.warmup_runs, (uint64_t)(args.warmup_seconds * 1e9),
                  UINT64_MAX, args.run_delay_ms, 1, &stop_reason);
  write_series(r, "warmup", &warm);
  if (st != LR_OK) {
    return fail(r, "warmup", "run", EXIT_RUN,
                "LiteRtRunCompiledModel failed on warm-up run %zu: %s (%d)%s%s%s", warm.count,
                lr_status_name(st), st, warm.count == 0 && g_first_run_said[0] ? "; library said: " : "",
                warm.count == 0 ? g_first_run_said : "",
                r->args->n_files == 0 && has_wide_int_input(r)
                    ? "; seeded integer inputs are drawn from [0, 99], which may be out of the "
                      "model's range (e.g. an embedding's vocabulary): try --input-file"
                    : "");
  }
  fflush(r->out);
  long long tc = proc_status_value("Threads");
  if (tc > threads_seen) threads_seen = tc;
  /* Where the threads that work in the timed loop ran: compared after it (outside the loop). */
  static task_snapshot tasks_before, tasks_after;
  int have_tasks = task_snapshot_take(&tasks_before) == 0;

  /* --- timed loop --- */
  crash_guard_stage("run", "run", EXIT_RUN,
                    "LiteRT crashed during the timed loop (its run lines were not written)");
  series timed = {0};
  /* Size the arrays from --runs and the warm-up speed so the loop rarely
   * reallocates; at most 4 Mi entries (64 MiB) up front, doubled if needed. */
  const double kMaxUpFront = 4194304.0;
  double guess = (double)args.runs + 16;
  if (warm.count > 0 && args.min_seconds > 0) {
    double per = (double)warm.latency_ns[warm.count - 1] + 1;
    double by_time = args.min_seconds * 1e9 / per * 1.25 + 16;
    if (by_time > guess) guess = by_time;
  }
  if (series_reserve(&timed, (size_t)(guess < kMaxUpFront ? guess : kMaxUpFront)) != 0) {
    series_reserve(&timed, 1024);
  }
  st = timed_loop(r, cm, &timed, args.runs, (uint64_t)(args.min_seconds * 1e9),
                  (uint64_t)(args.max_seconds * 1e9), args.run_delay_ms, warm.count == 0,
                  &stop_reason);
  write_series(r, "run", &timed);
  if (st != LR_OK) {
    int first = warm.count == 0 && timed.count == 0;
    return fail(r, "run", "run", EXIT_RUN,
                "LiteRtRunCompiledModel failed on timed run %zu: %s (%d)%s%s; see runner.stderr",
                timed.count, lr_status_name(st), st, first && g_first_run_said[0] ? "; library said: " : "",
                first ? g_first_run_said : "");
  }
  tc = proc_status_value("Threads");
  if (tc > threads_seen) threads_seen = tc;
  uint64_t cpus_seen[CPU_SEEN_MAX / 64] = {0};
  have_tasks = have_tasks && task_snapshot_take(&tasks_after) == 0;
  if (have_tasks) task_cpus_worked(&tasks_before, &tasks_after, cpus_seen);

  /* No output line when the model never ran (no warm-up, no timed run):
   * there is nothing to checksum. */
  if (warm.count + timed.count > 0) write_output_checksums(r);
  write_summary(r, &timed, stop_reason);
  fflush(r->out);

  crash_guard_stage("profile", "run", EXIT_RUN, "LiteRT crashed during the --profile-ops pass");
  if (args.profile_ops) write_profile(r, cm);
  crash_guard_clear();

  jw_line_begin(&r->w, "resources");
  long long hwm = proc_status_value("VmHWM");
  if (hwm >= 0) jw_ki64(&r->w, "peak_rss_kb", hwm); else jw_knull(&r->w, "peak_rss_kb");
  if (threads_seen >= 0) jw_ki64(&r->w, "threads_observed", threads_seen);
  else jw_knull(&r->w, "threads_observed");
  jw_key(&r->w, "cpus_seen");
  if (have_tasks) {
    jw_arr_begin(&r->w);
    for (int c = 0; c < CPU_SEEN_MAX; c++) {
      if (cpus_seen[c / 64] >> (c % 64) & 1) jw_i64(&r->w, c);
    }
    jw_arr_end(&r->w);
  } else {
    jw_null(&r->w);
  }
  jw_line_end(&r->w);
  return finish(r, EXIT_OK);
}
