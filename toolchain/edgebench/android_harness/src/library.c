/* edgebench_runner: loading libLiteRt.so and creating the LiteRT environment. */
#define _GNU_SOURCE
#include "library.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crash_guard.h"
#include "procinfo.h"
#include "file_hash.h"

/* The folder of the library: "." for a bare name, "/" for a file in the root. */
static void set_lib_dir(runner *r) {
  snprintf(r->lib_dir, sizeof(r->lib_dir), "%s", r->lib_path);
  char *slash = strrchr(r->lib_dir, '/');
  if (slash == NULL) snprintf(r->lib_dir, sizeof(r->lib_dir), ".");
  else if (slash == r->lib_dir) slash[1] = '\0';
  else *slash = '\0';
}

void library_load(runner *r) {
  const char *given = r->args->lib_path;
  r->lib_path = realpath(given, r->lib_real) ? r->lib_real : given;
  int have_sha = file_sha256(r->lib_path, r->args->hash_cache, r->lib_sha, NULL, &r->lib_sha_cached) == 0;
  uint64_t t0 = now_boottime_ns();
  char err[2048];
  if (!have_sha) {
    fail(r, "load_library", "library", EXIT_LIBRARY,
         "cannot read the LiteRT runtime library %s: %s; pass --lib with the "
         "path of libLiteRt.so", given, strerror(errno));
  }
  crash_guard_stage("load_library", "library", EXIT_LIBRARY,
                    "loading the LiteRT runtime library crashed the process");
  if (lr_api_load(&r->api, r->lib_path, err, sizeof(err)) != 0) {
    /* No runtime line: there is no runtime whose generation could be named. */
    fail(r, "load_library", "library", EXIT_LIBRARY, "%s (library sha256 %s)", err, r->lib_sha);
  }
  r->init.load_library = ns_between(t0, now_boottime_ns());
  set_lib_dir(r);
}

void library_create_environment(runner *r) {
  uint64_t t0 = now_boottime_ns();
  /* Accelerator and NPU dispatch libraries are looked up beside libLiteRt.so
   * (the run folder's lib/). The runtime-dir option exists in 2.2+ only. */
  lr_env_option env_opts[2];
  int n_env = 0;
  env_opts[n_env].tag = LR_ENV_DISPATCH_LIBRARY_DIR;
  env_opts[n_env].value.type = LR_ANY_STRING;
  env_opts[n_env++].value.value.str_value = r->lib_dir;
  if (r->api.generation == LR_GEN_2_2_PLUS) {
    env_opts[n_env].tag = LR_ENV_RUNTIME_LIBRARY_DIR;
    env_opts[n_env].value.type = LR_ANY_STRING;
    env_opts[n_env++].value.value.str_value = r->lib_dir;
  }
  fflush(r->out);
  crash_guard_stage("create_environment", "library", EXIT_LIBRARY,
                    "LiteRtCreateEnvironment crashed the process");
  lr_status st = r->api.CreateEnvironment(n_env, env_opts, &r->env);
  if (st != LR_OK) {
    fail(r, "create_environment", "library", EXIT_LIBRARY,
         "LiteRtCreateEnvironment returned %s (%d)", lr_status_name(st), st);
  }
  r->init.create_environment = ns_between(t0, now_boottime_ns());
}
