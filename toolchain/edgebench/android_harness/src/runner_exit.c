/* edgebench_runner: the two ways a run ends — the end line, and an error line
 * followed by the end line (PROTOCOL.md). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "runner_ctx.h"

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

int fail(runner *r, const char *stage, const char *code, int exit_code, const char *fmt, ...) {
  char message[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof(message), fmt, ap);
  va_end(ap);
  if (r->fail_note != NULL && r->fail_note_len > 0) {
    snprintf(r->fail_note, r->fail_note_len, "%s/%s: %s", stage, code, message);
  }
  jw_line_begin(&r->w, "error");
  jw_kstr(&r->w, "stage", stage);
  jw_kstr(&r->w, "code", code);
  jw_kstr(&r->w, "message", message);
  jw_line_end(&r->w);
  fprintf(stderr, "edgebench_runner: %s: %s\n", code, message);
  finish(r, exit_code);
}
