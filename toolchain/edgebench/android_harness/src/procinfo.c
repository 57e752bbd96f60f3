#define _GNU_SOURCE
#include "procinfo.h"

#include "crash_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t now_boottime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

long long proc_status_value(const char *key) {
  FILE *f = fopen("/proc/self/status", "r");
  if (f == NULL) return -1;
  char line[256];
  size_t klen = strlen(key);
  long long value = -1;
  while (fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
      char *end = NULL;
      long long v = strtoll(line + klen + 1, &end, 10);
      if (end != line + klen + 1) value = v;
      break;
    }
  }
  fclose(f);
  return value;
}

void stderr_capture_begin(stderr_capture *cap) {
  cap->saved_fd = -1;
  cap->read_fd = -1;
  int fds[2];
  if (pipe(fds) != 0) return;
  fflush(stderr);
  int saved = dup(2);
  if (saved < 0) {
    close(fds[0]);
    close(fds[1]);
    return;
  }
  fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
  dup2(fds[1], 2);
  close(fds[1]);
  cap->saved_fd = saved;
  cap->read_fd = fds[0];
  crash_guard_note_capture(fds[0], saved);
}

void stderr_capture_end(stderr_capture *cap, char *tail, size_t tail_len) {
  if (tail_len > 0) tail[0] = '\0';
  if (cap->saved_fd < 0) return;
  crash_guard_note_capture(-1, -1);
  fflush(stderr);
  dup2(cap->saved_fd, 2); /* closes the pipe's last write end */
  close(cap->saved_fd);
  size_t kept = 0;
  int dropped = 0;
  char chunk[4096];
  for (;;) {
    ssize_t n = read(cap->read_fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    ssize_t off = 0;
    while (off < n) { /* forward to the real stderr (runner.stderr) */
      ssize_t w = write(2, chunk + off, (size_t)(n - off));
      if (w <= 0) break;
      off += w;
    }
    if (tail_len > 1) {
      size_t cap_bytes = tail_len - 1;
      if ((size_t)n >= cap_bytes) {
        dropped = dropped || (size_t)n > cap_bytes || kept > 0;
        memcpy(tail, chunk + n - cap_bytes, cap_bytes);
        kept = cap_bytes;
      } else {
        if (kept + (size_t)n > cap_bytes) {
          size_t drop = kept + (size_t)n - cap_bytes;
          dropped = 1;
          memmove(tail, tail + drop, kept - drop);
          kept -= drop;
        }
        memcpy(tail + kept, chunk, (size_t)n);
        kept += (size_t)n;
      }
    }
  }
  close(cap->read_fd);
  cap->read_fd = cap->saved_fd = -1;
  if (tail_len > 0) {
    tail[kept] = '\0';
    /* Cut to whole lines: a message starting mid-word reads as garbage. */
    char *nl = dropped ? strchr(tail, '\n') : NULL;
    if (nl != NULL && nl[1] != '\0') {
      kept -= (size_t)(nl + 1 - tail);
      memmove(tail, nl + 1, kept + 1);
    }
    while (kept > 0 && (tail[kept - 1] == '\n' || tail[kept - 1] == ' ' ||
                        tail[kept - 1] == '\r')) {
      tail[--kept] = '\0';
    }
  }
}
