/* edgebench_sampler: reads sysfs/procfs nodes every interval and keeps the raw
 * text in memory; writes JSON lines on SIGTERM/SIGINT (PROTOCOL.md).
 *
 * Why in C: a shell loop with $(cat ...) per node costs milliseconds of CPU
 * per sample on the device being measured. Here one sample is a few
 * open/read/close calls, and nothing is written until the run is over
 * (unless the buffer fills, which is recorded in the output).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jsonl.h"

#define SAMPLER_VERSION "1.0.0"
#define MAX_NODE_BYTES 4096

static volatile sig_atomic_t g_stop_signal = 0;

static void on_signal(int sig) { g_stop_signal = sig; }

static uint64_t boottime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Samples are stored back to back in one arena:
 *   u64 t_ns, then per file: i32 length (-1 = unreadable) + bytes. */
typedef struct {
  unsigned char *data;
  size_t used, capacity;
  size_t samples;
} arena;

static int arena_put(arena *a, const void *p, size_t n) {
  if (a->used + n > a->capacity) return -1;
  memcpy(a->data + a->used, p, n);
  a->used += n;
  return 0;
}

/* Reads one node; returns its length with trailing whitespace removed, or -1. */
static int read_node(const char *path, char *buf) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t total = 0;
  for (;;) {
    ssize_t n = read(fd, buf + total, (size_t)(MAX_NODE_BYTES - total));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return -1;
    }
    if (n == 0 || (total += n) >= MAX_NODE_BYTES) break;
  }
  close(fd);
  while (total > 0 && (buf[total - 1] == '\n' || buf[total - 1] == ' ' ||
                       buf[total - 1] == '\r' || buf[total - 1] == '\t')) {
    total--;
  }
  return (int)total;
}

static int take_sample(arena *a, char **paths, int n_files, char *buf) {
  size_t mark = a->used;
  uint64_t t = boottime_ns();
  if (arena_put(a, &t, sizeof(t)) != 0) return -1;
  for (int i = 0; i < n_files; ++i) {
    int32_t len = read_node(paths[i], buf);
    if (arena_put(a, &len, sizeof(len)) != 0 ||
        (len > 0 && arena_put(a, buf, (size_t)len) != 0)) {
      a->used = mark; /* never keep half a sample */
      return -1;
    }
  }
  a->samples++;
  return 0;
}

static void write_samples(jw *w, arena *a, int n_files) {
  size_t pos = 0;
  while (pos < a->used) {
    uint64_t t;
    memcpy(&t, a->data + pos, sizeof(t));
    pos += sizeof(t);
    jw_line_begin(w, "sample");
    jw_ku64(w, "t_ns", t);
    jw_key(w, "values");
    jw_arr_begin(w);
    for (int i = 0; i < n_files; ++i) {
      int32_t len;
      memcpy(&len, a->data + pos, sizeof(len));
      pos += sizeof(len);
      if (len < 0) {
        jw_null(w);
      } else {
        jw_strn(w, (const char *)a->data + pos, (size_t)len);
        pos += (size_t)len;
      }
    }
    jw_arr_end(w);
    jw_line_end(w);
  }
  a->used = 0;
}

static void usage(FILE *f) {
  fputs("usage: edgebench_sampler --interval-ms MS --out PATH [--max-bytes N]\n"
        "                         [--root PREFIX] [--files-from LIST] [FILE...]\n"
        "Samples every FILE (and every line of LIST) each interval, reading\n"
        "PREFIX/FILE; writes JSON lines to PATH on SIGTERM/SIGINT.\n"
        "Format: android_harness/PROTOCOL.md\n", f);
}

int main(int argc, char **argv) {
  double interval_ms = -1;
  const char *out_path = NULL;
  size_t max_bytes = 32u << 20;
  int first_file = argc;
  const char *root = "";
  const char *list_path = NULL;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--interval-ms") && i + 1 < argc) {
      char *end = NULL;
      interval_ms = strtod(argv[++i], &end);
      if (*end || !(interval_ms >= 1)) {
        fprintf(stderr, "edgebench_sampler: --interval-ms needs a number >= 1, got '%s'\n", argv[i]);
        return 2;
      }
    } else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
      out_path = argv[++i];
    } else if (!strcmp(argv[i], "--max-bytes") && i + 1 < argc) {
      char *end = NULL;
      max_bytes = strtoull(argv[++i], &end, 10);
      if (*end || max_bytes < 1024) {
        fprintf(stderr, "edgebench_sampler: --max-bytes needs an integer >= 1024\n");
        return 2;
      }
    } else if (!strcmp(argv[i], "--root") && i + 1 < argc) {
      root = argv[++i];
    } else if (!strcmp(argv[i], "--files-from") && i + 1 < argc) {
      list_path = argv[++i];
    } else if (!strcmp(argv[i], "--help")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(argv[i], "--")) {
      first_file = i + 1;
      break;
    } else if (argv[i][0] == '-' && argv[i][1] == '-') {
      fprintf(stderr, "edgebench_sampler: unknown option '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    } else {
      first_file = i;
      break;
    }
  }
  if (interval_ms < 0 || out_path == NULL) {
    fprintf(stderr, "edgebench_sampler: --interval-ms and --out are required\n");
    usage(stderr);
    return 2;
  }
  /* Files: command line first, then the list file (one path per line). */
  int n_files = argc - first_file;
  int cap_files = n_files + 16;
  char **files = malloc(sizeof(char *) * (size_t)cap_files);
  for (int i = 0; i < n_files; ++i) files[i] = argv[first_file + i];
  if (list_path != NULL) {
    FILE *lf = fopen(list_path, "r");
    if (lf == NULL) {
      fprintf(stderr, "edgebench_sampler: cannot read --files-from %s: %s\n", list_path,
              strerror(errno));
      return 2;
    }
    char line[4096];
    while (fgets(line, sizeof(line), lf) != NULL) {
      size_t len = strcspn(line, "\r\n");
      line[len] = '\0';
      if (len == 0) continue;
      if (n_files == cap_files) {
        cap_files *= 2;
        files = realloc(files, sizeof(char *) * (size_t)cap_files);
      }
      files[n_files++] = strdup(line);
    }
    fclose(lf);
  }
  /* Paths actually opened: root + file (root is EDGEBENCH_SYSROOT in tests). */
  char **paths = malloc(sizeof(char *) * (size_t)(n_files + 1));
  for (int i = 0; i < n_files; ++i) {
    size_t len = strlen(root) + strlen(files[i]) + 1;
    paths[i] = malloc(len);
    snprintf(paths[i], len, "%s%s", root, files[i]);
  }

  FILE *out = fopen(out_path, "w");
  if (out == NULL) {
    fprintf(stderr, "edgebench_sampler: cannot write %s: %s\n", out_path, strerror(errno));
    return 3;
  }
  static char outbuf[1 << 16];
  setvbuf(out, outbuf, _IOFBF, sizeof(outbuf));
  jw w;
  jw_init(&w, out);

  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; /* no SA_RESTART: the sleep must wake up */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  arena a = {0};
  a.capacity = max_bytes;
  a.data = malloc(a.capacity);
  if (a.data == NULL) {
    fprintf(stderr, "edgebench_sampler: cannot allocate %zu bytes\n", max_bytes);
    return 3;
  }
  char *buf = malloc(MAX_NODE_BYTES);

  jw_line_begin(&w, "sampler");
  jw_kstr(&w, "sampler_version", SAMPLER_VERSION);
  jw_key(&w, "files");
  jw_arr_begin(&w);
  for (int i = 0; i < n_files; ++i) jw_str(&w, files[i]);
  jw_arr_end(&w);
  jw_kstr(&w, "root", root);
  jw_kdouble(&w, "interval_ms", interval_ms);
  jw_ku64(&w, "start_ns", boottime_ns());
  jw_ki64(&w, "pid", (int64_t)getpid());
  jw_ku64(&w, "max_bytes", max_bytes);
  jw_line_end(&w);
  fflush(out); /* the header is on disk even if the sampler is killed */

  uint64_t total_samples = 0, flushes = 0;
  uint64_t interval_ns = (uint64_t)(interval_ms * 1e6);
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  while (!g_stop_signal) {
    if (take_sample(&a, paths, n_files, buf) != 0) {
      /* Buffer full: write what we have now (recorded), then keep going. */
      total_samples += a.samples;
      uint64_t n = a.samples;
      write_samples(&w, &a, n_files);
      a.samples = 0;
      flushes++;
      jw_line_begin(&w, "sampler_note");
      jw_kstr(&w, "event", "buffer_flush");
      jw_ku64(&w, "t_ns", boottime_ns());
      jw_kstr(&w, "reason", "buffer full: samples written during the run");
      jw_ku64(&w, "samples", n);
      jw_line_end(&w);
      fflush(out);
      if (take_sample(&a, paths, n_files, buf) != 0) break; /* one sample > buffer */
    }
    uint64_t ns = (uint64_t)next.tv_nsec + interval_ns;
    next.tv_sec += (time_t)(ns / 1000000000ULL);
    next.tv_nsec = (long)(ns % 1000000000ULL);
    while (!g_stop_signal &&
           clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {
    }
  }
  total_samples += a.samples;
  write_samples(&w, &a, n_files);
  jw_line_begin(&w, "sampler_note");
  jw_kstr(&w, "event", "end");
  jw_ku64(&w, "t_ns", boottime_ns());
  jw_ku64(&w, "samples", total_samples);
  jw_ku64(&w, "buffer_flushes", flushes);
  jw_kstr(&w, "signal", g_stop_signal == SIGTERM ? "TERM" : g_stop_signal == SIGINT ? "INT" : "none");
  jw_line_end(&w);
  int failed = fflush(out) != 0 || ferror(out);
  fclose(out);
  return failed ? 3 : 0;
}
