/* edgebench_runner: the warm-up and timed loops, and what the process looked
 * like around them (threads, CPUs). */
#ifndef EDGEBENCH_MEASURE_H_
#define EDGEBENCH_MEASURE_H_

#include <stddef.h>
#include <stdint.h>

#include "procinfo.h"
#include "runner_ctx.h"

/* Per-run latencies and start stamps (ns), kept in memory. */
typedef struct {
  uint64_t *latency_ns;
  uint64_t *start_ns;
  size_t count, capacity;
} series;

typedef struct {
  series warm, timed;
  const char *stop_reason;      /* of the last loop: "completed", "max_seconds", "out_of_memory" */
  char first_run_said[768];     /* library stderr of a failed first run */
  long long threads_seen;       /* most threads seen around the loops; -1 unknown */
  int have_tasks;               /* cpus_seen is known */
  task_snapshot tasks_before, tasks_after;
  uint64_t cpus_seen[CPU_SEEN_MAX / 64];
} measurement;

/* --warmup-runs / --warmup-seconds at the timed loop's pace; writes the warmup
 * lines and fails the run (EXIT_RUN) when a run fails. */
void measure_warmup(runner *r, measurement *m);
/* The timed loop (--runs, --min-seconds, --max-seconds); writes the run lines
 * and fails the run (EXIT_RUN) when a run fails. */
void measure_timed(runner *r, measurement *m);

#endif /* EDGEBENCH_MEASURE_H_ */
