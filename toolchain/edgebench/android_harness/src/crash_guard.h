/* Turns a crash inside the LiteRT library into an honest error + end line.
 *
 * Truncated or corrupt flatbuffers can crash the runtime while it reads them
 * (observed with ai-edge-litert 2.3.0). A fatal signal handler writes the
 * error line prepared for the current stage, then the end line, straight to
 * the output fd (only write() and _exit(): async-signal-safe), so the host
 * still gets a complete, parseable file instead of a silent truncation. */
#ifndef EDGEBENCH_CRASH_GUARD_H_
#define EDGEBENCH_CRASH_GUARD_H_

/* Installs the handlers (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT). */
void crash_guard_install(int out_fd);
/* Prepares the lines for the stage about to run. The output stream must be
 * flushed before the guarded work starts. */
void crash_guard_stage(const char *stage, const char *code, int exit_code, const char *what);
/* Stage over: a crash from here on is reported as a generic runner crash. */
void crash_guard_clear(void);
/* Set by stderr capture (procinfo.c) so a crash can forward what was captured. */
void crash_guard_note_capture(int pipe_read_fd, int saved_stderr_fd);

#endif /* EDGEBENCH_CRASH_GUARD_H_ */
