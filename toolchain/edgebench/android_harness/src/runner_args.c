/* edgebench_runner: the command line (PROTOCOL.md lists every option). */
#include "runner_args.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner_ctx.h"

static const char kUsage[] =
    "usage: edgebench_runner --model PATH --lib PATH/libLiteRt.so [options]\n"
    "  --threads N            CPU threads (default 1)\n"
    "  --accelerator K        cpu|gpu|npu (default cpu; unusable gpu/npu falls back to cpu, recorded)\n"
    "  --warmup-runs N        (default 1)      --warmup-seconds S  (default 0)\n"
    "  --runs N               (default 50)     --min-seconds S     (default 1.0)\n"
    "  --max-seconds S        (default 150)    --run-delay-ms MS   (default 0)\n"
    "  --input-seed N         seeded inputs (default 1)\n"
    "  --input-file PATH      raw bytes for one input; repeat once per input, in order\n"
    "  --input-shape NAME=D0,D1  shape of input NAME (signature or tensor name; repeat per input)\n"
    "  --input-shape I:D0,D1  the same by input index (unset -1 dims become 1)\n"
    "  --profile-ops          per-op profile after the timed loop\n"
    "  --profile-runs N       runs of the profile pass (default 20)\n"
    "  --check-outputs        after the measurement, compare outputs with a reference run on CPU\n"
    "  --reference-model PATH the reference of --check-outputs (default: the model itself)\n"
    "  --hash-cache DIR       remember the library's and models' sha256 there (stat-checked)\n"
    "  --out PATH             JSON lines file (default stdout)\n"
    "Output and exit codes: android_harness/PROTOCOL.md\n";

static int parse_size(const char *s, size_t *out) {
  char *end = NULL;
  errno = 0;
  if (s[0] == '-') return -1;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end) return -1;
  *out = (size_t)v;
  return 0;
}

static int parse_seconds(const char *s, double *out) {
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !(v >= 0) || isinf(v)) return -1;
  *out = v;
  return 0;
}

/* Dims after the separator: "D0,D1,..." (empty: a scalar). */
static int parse_dims(const char *p, input_shape *shape) {
  char *end = NULL;
  shape->rank = 0;
  if (*p == '\0') return 0; /* scalar */
  for (;;) {
    if (shape->rank >= 8) return -1;
    errno = 0;
    long d = strtol(p, &end, 10);
    if (errno || end == p || *p == '+' || *p == ' ' || d <= 0 || d > 0x7fffffff) return -1;
    shape->dims[shape->rank++] = (int)d;
    if (*end == '\0') return 0;
    if (*end != ',') return -1;
    p = end + 1;
  }
}

/* NAME=D0,D1,... splits at the LAST '=' (dims never contain one, names may: tensor names such as
 * "serving_default_x:0" carry colons). Without '=', the older IDX:D0,D1,... form. */
static int parse_shape(const char *s, input_shape *shape) {
  const char *eq = strrchr(s, '=');
  if (eq != NULL) {
    if (eq == s) return -1; /* empty name */
    shape->name = s;
    shape->name_len = (size_t)(eq - s);
    shape->index = 0;
    return parse_dims(eq + 1, shape);
  }
  char *end = NULL;
  errno = 0;
  unsigned long idx = strtoul(s, &end, 10);
  if (errno || end == s || *end != ':' || s[0] == '-' || s[0] == '+' || s[0] == ' ') return -1;
  shape->name = NULL;
  shape->name_len = 0;
  shape->index = idx;
  return parse_dims(end + 1, shape);
}

static void set_defaults(runner_args *a) {
  memset(a, 0, sizeof(*a));
  a->threads = 1;
  a->warmup_runs = 1;
  a->runs = 50;
  a->min_seconds = 1.0;
  a->max_seconds = 150.0;
  a->input_seed = 1;
  a->profile_runs = 20;
}

static int is_valued_option(const char *name) {
  static const char *const kValued[] = {
      "--model", "--lib", "--out", "--threads", "--accelerator", "--warmup-runs",
      "--warmup-seconds", "--runs", "--min-seconds", "--max-seconds", "--run-delay-ms",
      "--input-seed", "--input-file", "--input-shape", "--profile-runs", "--reference-model",
      "--hash-cache"};
  for (size_t k = 0; k < sizeof(kValued) / sizeof(kValued[0]); ++k) {
    if (!strcmp(name, kValued[k])) return 1;
  }
  return 0;
}

/* Stores the value of a valued option. Returns 1 when the value is bad. */
static int apply_value(runner_args *a, const char *name, const char *value) {
  int bad = 0;
  size_t n = 0;
  if (!strcmp(name, "--model")) a->model_path = value;
  else if (!strcmp(name, "--lib")) a->lib_path = value;
  else if (!strcmp(name, "--out")) a->out_path = value;
  else if (!strcmp(name, "--reference-model")) a->reference_path = value;
  else if (!strcmp(name, "--hash-cache")) a->hash_cache = value;
  else if (!strcmp(name, "--threads")) {
    bad = parse_size(value, &n) || n < 1 || n > 1024;
    a->threads = (int)n;
  } else if (!strcmp(name, "--accelerator")) {
    if (!strcmp(value, "cpu")) a->accelerator = ACCEL_CPU;
    else if (!strcmp(value, "gpu")) a->accelerator = ACCEL_GPU;
    else if (!strcmp(value, "npu")) a->accelerator = ACCEL_NPU;
    else bad = 1;
  } else if (!strcmp(name, "--warmup-runs")) bad = parse_size(value, &a->warmup_runs);
  else if (!strcmp(name, "--warmup-seconds")) bad = parse_seconds(value, &a->warmup_seconds);
  else if (!strcmp(name, "--runs")) bad = parse_size(value, &a->runs);
  else if (!strcmp(name, "--min-seconds")) bad = parse_seconds(value, &a->min_seconds);
  else if (!strcmp(name, "--max-seconds")) bad = parse_seconds(value, &a->max_seconds);
  else if (!strcmp(name, "--run-delay-ms")) bad = parse_seconds(value, &a->run_delay_ms);
  else if (!strcmp(name, "--profile-runs")) bad = parse_size(value, &a->profile_runs) || a->profile_runs < 1;
  else if (!strcmp(name, "--input-seed")) {
    char *end = NULL;
    errno = 0;
    a->input_seed = strtoull(value, &end, 10);
    bad = errno || end == value || *end || value[0] == '-';
  } else if (!strcmp(name, "--input-file")) {
    if (a->n_files >= RUNNER_MAX_INPUTS) bad = 1;
    else a->files[a->n_files++] = value;
  } else if (!strcmp(name, "--input-shape")) {
    if (a->n_shapes >= RUNNER_MAX_INPUTS) bad = 1;
    else bad = parse_shape(value, &a->shapes[a->n_shapes++]);
  }
  return bad;
}

static const char *expected_value(const char *name) {
  return !strcmp(name, "--accelerator") ? "cpu, gpu or npu"
         : !strcmp(name, "--input-shape") ? "NAME=D0,D1,... or INDEX:D0,D1,... with positive dims, at most 8"
         : !strcmp(name, "--threads") ? "an integer from 1 to 1024"
         : !strcmp(name, "--input-file") ? "at most 64 files"
         : strstr(name, "seconds") || strstr(name, "-ms") ? "a number >= 0"
                                                          : "an integer >= 0";
}

int runner_args_parse(int argc, char **argv, runner_args *a, char *err, size_t err_len) {
  set_defaults(a);
  err[0] = '\0';
  for (int i = 1; i < argc; ++i) {
    const char *opt = argv[i];
    char name[64];
    const char *value = NULL;
    const char *eq = strchr(opt, '=');
    if (strncmp(opt, "--", 2) == 0 && eq && (size_t)(eq - opt) < sizeof(name)) {
      memcpy(name, opt, (size_t)(eq - opt));
      name[eq - opt] = '\0';
      value = eq + 1;
    } else {
      snprintf(name, sizeof(name), "%s", opt);
    }
    if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
      fputs(kUsage, stdout);
      return 1;
    }
    if (!strcmp(name, "--version")) {
      printf("edgebench_runner %s (JSON lines schema %d)\n", RUNNER_VERSION, JSONL_SCHEMA);
      return 1;
    }
    if (!strcmp(name, "--profile-ops")) {
      if (value) {
        snprintf(err, err_len, "--profile-ops takes no value");
        return -1;
      }
      a->profile_ops = 1;
      continue;
    }
    if (!strcmp(name, "--check-outputs")) {
      if (value) {
        snprintf(err, err_len, "--check-outputs takes no value");
        return -1;
      }
      a->check_outputs = 1;
      continue;
    }
    if (!is_valued_option(name)) {
      snprintf(err, err_len, "unknown option '%s'; run edgebench_runner --help for the list", opt);
      return -1;
    }
    if (value == NULL) {
      if (i + 1 >= argc) {
        snprintf(err, err_len, "option %s needs a value", name);
        return -1;
      }
      value = argv[++i];
    }
    if (apply_value(a, name, value)) {
      snprintf(err, err_len, "bad value '%s' for %s (expected %s)", value, name, expected_value(name));
      return -1;
    }
  }
  if (a->reference_path != NULL && !a->check_outputs) {
    snprintf(err, err_len, "--reference-model goes with --check-outputs (got it alone)");
    return -1;
  }
  if (a->model_path == NULL || a->lib_path == NULL) {
    snprintf(err, err_len, "--model and --lib are required (got%s%s); run --help for usage",
             a->model_path ? "" : " no --model", a->lib_path ? "" : " no --lib");
    return -1;
  }
  return 0;
}
