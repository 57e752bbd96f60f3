#define _GNU_SOURCE
#include "crash_guard.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int g_out_fd = -1;
static char g_prefix[2048]; /* error line up to (not including) the signal name */
static char g_suffix[256];  /* closes the error line, then the whole end line */
static int g_exit_code = 6;
static volatile int g_pipe_fd = -1, g_saved_fd = -1;

static size_t json_escape(char *dst, size_t cap, const char *src) {
  size_t n = 0;
  for (; *src && n + 7 < cap; ++src) {
    unsigned char c = (unsigned char)*src;
    if (c == '"' || c == '\\') {
      dst[n++] = '\\';
      dst[n++] = (char)c;
    } else if (c == '\n') {
      dst[n++] = '\\';
      dst[n++] = 'n';
    } else if (c < 0x20) {
      n += (size_t)snprintf(dst + n, cap - n, "\\u%04x", c);
    } else {
      dst[n++] = (char)c;
    }
  }
  dst[n] = '\0';
  return n;
}

void crash_guard_stage(const char *stage, const char *code, int exit_code, const char *what) {
  char esc[1536];
  json_escape(esc, sizeof(esc), what);
  snprintf(g_prefix, sizeof(g_prefix),
           "{\"schema\":1,\"type\":\"error\",\"stage\":\"%s\",\"code\":\"%s\",\"message\":\"%s "
           "(the runtime library crashed: ",
           stage, code, esc);
  snprintf(g_suffix, sizeof(g_suffix),
           "; see runner.stderr)\"}\n{\"schema\":1,\"type\":\"end\",\"status\":\"failed\","
           "\"exit_code\":%d}\n",
           exit_code);
  g_exit_code = exit_code;
}

void crash_guard_clear(void) {
  crash_guard_stage("run", "run", 6, "the runner crashed");
}

void crash_guard_note_capture(int pipe_read_fd, int saved_stderr_fd) {
  g_pipe_fd = pipe_read_fd;
  g_saved_fd = saved_stderr_fd;
}

static void put(int fd, const char *s) {
  size_t len = strlen(s);
  while (len > 0) {
    ssize_t w = write(fd, s, len);
    if (w <= 0) return;
    s += w;
    len -= (size_t)w;
  }
}

static const char *signal_name(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    default: return "fatal signal";
  }
}

static void on_fatal(int sig) {
  if (g_pipe_fd >= 0 && g_saved_fd >= 0) { /* forward the library's last words */
    char buf[4096];
    ssize_t n;
    while ((n = read(g_pipe_fd, buf, sizeof(buf))) > 0) {
      ssize_t off = 0;
      while (off < n) {
        ssize_t w = write(g_saved_fd, buf + off, (size_t)(n - off));
        if (w <= 0) break;
        off += w;
      }
    }
  }
  if (g_out_fd >= 0) {
    put(g_out_fd, g_prefix);
    put(g_out_fd, signal_name(sig));
    put(g_out_fd, g_suffix);
  }
  put(g_saved_fd >= 0 ? g_saved_fd : 2, "edgebench_runner: the runtime library crashed\n");
  _exit(g_exit_code);
}

void crash_guard_install(int out_fd) {
  g_out_fd = out_fd;
  crash_guard_clear();
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_fatal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND; /* a crash inside the handler kills the process */
  const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
  for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); ++i) sigaction(sigs[i], &sa, NULL);
}
