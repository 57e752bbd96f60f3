/* edgebench_runner: compiling the model, with an honest fallback to CPU. */
#define _GNU_SOURCE
#include "compile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crash_guard.h"
#include "model.h"
#include "procinfo.h"

static void free_payload(void *p) { free(p); }

static lr_status add_text_options(runner *r, lr_options opts, const char *id,
                                  const char *text) {
  lr_opaque_options opaque = NULL;
  char *payload = strdup(text);
  lr_status st = r->api.CreateOpaqueOptions(id, payload, free_payload, &opaque);
  if (st != LR_OK) {
    free(payload);
    return st;
  }
  return r->api.AddOpaqueOptions(opts, opaque);
}

lr_status compile(runner *r, int hw, int profiling, lr_compiled_model *cm, char *why,
                  size_t why_len) {
  lr_options opts = NULL;
  lr_status st = r->api.CreateOptions(&opts);
  if (st != LR_OK) {
    snprintf(why, why_len, "LiteRtCreateOptions returned %s (%d)", lr_status_name(st), st);
    return st;
  }
  char threads[64];
  snprintf(threads, sizeof(threads), "num_threads = %d\n", r->args->threads);
  if ((st = r->api.SetOptionsHardwareAccelerators(opts, hw)) != LR_OK ||
      /* "xnnpack": the XNNPACK delegate's options; "cpu_delegate": the
       * interpreter's own kernels (ops XNNPACK does not take). */
      (st = add_text_options(r, opts, "xnnpack", threads)) != LR_OK ||
      (st = add_text_options(r, opts, "cpu_delegate", threads)) != LR_OK ||
      (profiling && (st = add_text_options(r, opts, "runtime_options_string",
                                           "enable_profiling = true\n")) != LR_OK)) {
    snprintf(why, why_len, "setting compilation options failed: %s (%d)",
             lr_status_name(st), st);
    return st;
  }
  stderr_capture cap;
  char said[768];
  stderr_capture_begin(&cap);
  st = r->api.CreateCompiledModel(r->env, r->model, opts, cm);
  stderr_capture_end(&cap, said, sizeof(said));
  if (st != LR_OK) {
    snprintf(why, why_len, "LiteRtCreateCompiledModel returned %s (%d)%s%s",
             lr_status_name(st), st, said[0] ? "; library said: " : "", said);
  }
  /* `opts` is owned by us and may be referenced by the compiled model: kept. */
  return st;
}

/* Which registered accelerators support hardware `hw`. Returns 1 when one does, 0 when none does
 * (names of those that are registered go into `registered`), -1 when the library cannot say. A GPU
 * request on a runtime without a GPU accelerator otherwise "succeeds" on CPU under a GPU label. */
static int accelerator_registered(runner *r, int hw, char *registered, size_t len) {
  registered[0] = '\0';
  if (!r->api.GetNumAccelerators || !r->api.GetAccelerator || !r->api.GetAcceleratorHardwareSupport) {
    return -1;
  }
  size_t n = 0;
  if (r->api.GetNumAccelerators(r->env, &n) != LR_OK) return -1;
  int found = 0;
  size_t used = 0;
  for (size_t i = 0; i < n; ++i) {
    void *acc = NULL;
    int support = 0;
    if (r->api.GetAccelerator(r->env, i, &acc) != LR_OK || !acc) continue;
    if (r->api.GetAcceleratorHardwareSupport(acc, &support) != LR_OK) continue;
    if (support & hw) found = 1;
    const char *name = NULL;
    if (r->api.GetAcceleratorName && r->api.GetAcceleratorName(acc, &name) == LR_OK && name) {
      int w = snprintf(registered + used, len - used, "%s%s", used ? ", " : "", name);
      if (w > 0 && (size_t)w < len - used) used += (size_t)w;
    }
  }
  if (!used) snprintf(registered, len, "none");
  return found;
}

const char *accel_name(int hw) {
  if (hw & LR_HW_NPU) return "npu";
  if (hw & LR_HW_GPU) return "gpu";
  return "cpu";
}

/* The accelerator asked for cannot compile the model: why, or 0 when it is worth asking. */
static int accelerator_missing(runner *r, int requested, char *why, size_t why_len) {
  if (requested == LR_HW_CPU) return 0;
  char registered[512];
  int hw_only = requested & ~LR_HW_CPU;
  if (accelerator_registered(r, hw_only, registered, sizeof(registered)) != 0) return 0;
  /* Asking anyway would compile on CPU and report the requested accelerator. */
  snprintf(why, why_len, "no %s accelerator is registered in this LiteRT runtime (registered: %s)",
           accel_name(hw_only), registered);
  return 1;
}

static void fail_compile(runner *r, const char *why) {
  char custom[512];
  if (list_custom_ops(r, NULL, custom, sizeof(custom)) > 0) {
    fail(r, "compile", "unsupported_ops", EXIT_MODEL,
         "the model could not be compiled and it uses custom ops the runtime "
         "may not have (%s): %s; re-convert with builtin ops only", custom, why);
  }
  fail(r, "compile", "compile", EXIT_MODEL,
       "the model could not be compiled for %s: %s", accel_name(r->accel_used), why);
}

/* GPU and NPU are requested WITHOUT the CPU bit: with it, a runtime whose accelerator cannot
 * take the model compiles everything on CPU and still reports success, so the label would lie.
 * A model the accelerator cannot take whole therefore falls back to CPU, recorded. */
void compile_with_fallback(runner *r) {
  accelerator_kind kind = r->args->accelerator;
  int requested = kind == ACCEL_GPU ? LR_HW_GPU : kind == ACCEL_NPU ? LR_HW_NPU : LR_HW_CPU;
  crash_guard_stage("compile", "compile", EXIT_MODEL, "LiteRT crashed while compiling the model");
  uint64_t t0 = now_boottime_ns();
  char why[2048];
  r->cm = NULL;
  r->accel_requested = requested;
  r->accel_used = requested;
  lr_status st = accelerator_missing(r, requested, why, sizeof(why)) ? -1 : LR_OK;
  if (st == LR_OK) st = compile(r, requested, 0, &r->cm, why, sizeof(why));
  if (st != LR_OK && requested != LR_HW_CPU) {
    snprintf(r->fallback_reason, sizeof(r->fallback_reason),
             "%s accelerator unusable (%s); ran on CPU instead", accel_name(requested), why);
    fprintf(stderr, "edgebench_runner: %s\n", r->fallback_reason);
    r->accel_used = LR_HW_CPU;
    st = compile(r, LR_HW_CPU, 0, &r->cm, why, sizeof(why));
  }
  if (st != LR_OK) fail_compile(r, why);
  r->init.compile = ns_between(t0, now_boottime_ns());
}

void compile_query_fully_accelerated(runner *r) {
  r->fully_accelerated = -1;
  if (r->api.IsFullyAccelerated) {
    bool b = false;
    if (r->api.IsFullyAccelerated(r->cm, &b) == LR_OK) r->fully_accelerated = b ? 1 : 0;
  }
}
