/* edgebench_runner: times a .tflite model with the LiteRT CompiledModel C API.
 *
 * Contract: android_harness/PROTOCOL.md (options, JSON lines, exit codes).
 * main() is the order of the stages and nothing else; each stage lives in its
 * own unit and ends the run itself (fail(), runner_exit.c) when it cannot go on:
 *   runner_args.c  the command line         output.c    the JSON lines
 *   library.c      libLiteRt.so, environment model.c    file checks, load, ops
 *   compile.c      compile with CPU fallback shapes.c   --input-shape, resize
 *   buffers.c      tensor buffers, inputs    measure.c  warm-up and timed loops
 *   profile.c      --profile-ops pass        agreement.c --check-outputs
 * The library is dlopen()ed (litert_api.c); the timed loop does nothing but
 * run the model and read CLOCK_BOOTTIME, and everything is written after it.
 */
#define _GNU_SOURCE
#include <stdio.h>

#include "agreement.h"
#include "buffers.h"
#include "compile.h"
#include "crash_guard.h"
#include "library.h"
#include "measure.h"
#include "model.h"
#include "output.h"
#include "profile.h"
#include "runner_args.h"
#include "runner_ctx.h"
#include "shapes.h"

int main(int argc, char **argv) {
  static runner r;
  static measurement m;
  static runner_args args;
  char usage_err[1024];
  int parse = runner_args_parse(argc, argv, &args, usage_err, sizeof(usage_err));
  if (parse == 1) return 0; /* --help / --version */
  r.args = &args;
  if (output_open(&r, args.out_path, usage_err, sizeof(usage_err)) != 0) parse = -1;
  output_start(&r, argc, argv);
  if (parse != 0) fail(&r, "usage", "usage", EXIT_USAGE, "%s", usage_err);
  fflush(r.out);
  crash_guard_install(fileno(r.out));

  library_load(&r);
  output_runtime(&r);
  model_check_file(&r);
  library_create_environment(&r);
  model_load(&r);
  model_check_supported(&r);
  match_input_shapes(&r);
  compile_with_fallback(&r);
  buffers_prepare(&r);
  compile_query_fully_accelerated(&r);
  output_setup(&r);
  output_init(&r);

  measure_warmup(&r, &m);
  measure_timed(&r, &m);
  /* No output line when the model never ran: there is nothing to checksum. */
  if (m.warm.count + m.timed.count > 0) output_checksums(&r);
  output_summary(&r, &m.timed, m.stop_reason);
  fflush(r.out);

  crash_guard_stage("profile", "run", EXIT_RUN, "LiteRT crashed during the --profile-ops pass");
  if (args.profile_ops) profile_write(&r);
  crash_guard_clear();
  output_resources(&r, &m);
  /* After resources: the reference's process and memory are not the measured model's. */
  if (args.check_outputs && m.warm.count + m.timed.count > 0) agreement_check(&r);
  finish(&r, EXIT_OK);
}
