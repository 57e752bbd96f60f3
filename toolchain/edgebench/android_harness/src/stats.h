/* Summary statistics over per-run latencies, computed after the timed loop. */
#ifndef EDGEBENCH_STATS_H_
#define EDGEBENCH_STATS_H_

#include <stddef.h>
#include <stdint.h>

typedef struct {
  size_t count;
  /* All in nanoseconds; percentiles use linear interpolation between closest
   * ranks (numpy's default), std is the sample standard deviation (n - 1).
   * Fields that need more samples than `count` are NaN (written as null). */
  double min_ns, p10_ns, median_ns, p90_ns, p99_ns, max_ns, mean_ns, std_ns;
} latency_stats;

/* Sorts `scratch` (a copy of the latencies, `count` long) in place. */
void stats_compute(uint64_t *scratch, size_t count, latency_stats *out);
double stats_percentile_sorted(const uint64_t *sorted, size_t count, double q);

#endif /* EDGEBENCH_STATS_H_ */
