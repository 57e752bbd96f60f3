/* Process facts read from /proc/self, and capture of what the LiteRT library
 * prints on stderr during a call (so an error line can quote it). */
#ifndef EDGEBENCH_PROCINFO_H_
#define EDGEBENCH_PROCINFO_H_

#include <stddef.h>
#include <stdint.h>

/* CLOCK_BOOTTIME in ns (the clock the sampler and the driver share). */
uint64_t now_boottime_ns(void);

/* Reads "Key:  <number>" from /proc/self/status; -1 when absent. */
long long proc_status_value(const char *key);

/* Each thread's CPU time and the CPU it last ran on (/proc/self/task/TID/stat
 * fields 14+15 and 39). */
#define TASK_SNAPSHOT_MAX 512
typedef struct {
  int n;
  int tid[TASK_SNAPSHOT_MAX];
  unsigned long long ticks[TASK_SNAPSHOT_MAX];
  int cpu[TASK_SNAPSHOT_MAX];
} task_snapshot;

/* 0 when /proc/self/task was read, -1 when it cannot be. */
int task_snapshot_take(task_snapshot *s);

/* Marks in `cpus` (a bitset of CPU_SEEN_MAX bits) the last CPU of every
 * thread that used CPU time between the two snapshots (or is new); when none
 * did (a loop shorter than one clock tick), the main thread's, which ran it. */
#define CPU_SEEN_MAX 1024
void task_cpus_worked(const task_snapshot *before, const task_snapshot *after,
                      uint64_t cpus[CPU_SEEN_MAX / 64]);

typedef struct {
  int saved_fd;
  int read_fd;
} stderr_capture;

/* Redirects fd 2 into a non-blocking pipe until stderr_capture_end. A library
 * that writes more than the pipe holds loses the excess (never blocks). */
void stderr_capture_begin(stderr_capture *cap);
/* Restores fd 2, copies everything captured to the real stderr, and keeps the
 * last `tail_len - 1` bytes (trimmed) in `tail`. */
void stderr_capture_end(stderr_capture *cap, char *tail, size_t tail_len);

#endif /* EDGEBENCH_PROCINFO_H_ */
