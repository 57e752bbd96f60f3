#define _GNU_SOURCE
#include "procinfo.h"

#include "crash_guard.h"

#include <dirent.h>
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

static int read_task_stat(int tid, unsigned long long *ticks, int *cpu) {
  char path[64], buf[1024];
  snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  char *p = strrchr(buf, ')'); /* comm may contain spaces and parentheses */
  if (p == NULL) return -1;
  /* After ") ": field 3 (state) is token 0; utime = 14, stime = 15, processor = 39. */
  unsigned long long utime = 0, stime = 0;
  long processor = -1;
  int field = 2;
  for (char *tok = strtok(p + 1, " "); tok != NULL; tok = strtok(NULL, " ")) {
    field++;
    if (field == 14) utime = strtoull(tok, NULL, 10);
    else if (field == 15) stime = strtoull(tok, NULL, 10);
    else if (field == 39) { processor = strtol(tok, NULL, 10); break; }
  }
  if (processor < 0) return -1;
  *ticks = utime + stime;
  *cpu = (int)processor;
  return 0;
}

int task_snapshot_take(task_snapshot *s) {
  s->n = 0;
  DIR *d = opendir("/proc/self/task");
  if (d == NULL) return -1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && s->n < TASK_SNAPSHOT_MAX) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    int tid = atoi(e->d_name);
    if (read_task_stat(tid, &s->ticks[s->n], &s->cpu[s->n]) == 0) s->tid[s->n++] = tid;
  }
  closedir(d);
  return s->n > 0 ? 0 : -1;
}

void task_cpus_worked(const task_snapshot *before, const task_snapshot *after,
                      uint64_t cpus[CPU_SEEN_MAX / 64]) {
  int marked = 0, main_cpu = -1;
  for (int i = 0; i < after->n; i++) {
    if (after->tid[i] == getpid()) main_cpu = after->cpu[i];
    unsigned long long was = 0;
    int known = 0;
    for (int j = 0; j < before->n; j++) {
      if (before->tid[j] == after->tid[i]) { was = before->ticks[j]; known = 1; break; }
    }
    if ((!known || after->ticks[i] > was) && after->cpu[i] < CPU_SEEN_MAX) {
      cpus[after->cpu[i] / 64] |= 1ULL << (after->cpu[i] % 64);
      marked = 1;
    }
  }
  if (!marked && main_cpu >= 0 && main_cpu < CPU_SEEN_MAX) cpus[main_cpu / 64] |= 1ULL << (main_cpu % 64);
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
