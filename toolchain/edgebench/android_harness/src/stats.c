#include "stats.h"

#include <math.h>
#include <stdlib.h>

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

double stats_percentile_sorted(const uint64_t *sorted, size_t count, double q) {
  if (count == 0) return NAN;
  double pos = q * (double)(count - 1);
  size_t lo = (size_t)floor(pos);
  if (lo >= count - 1) return (double)sorted[count - 1];
  double frac = pos - (double)lo;
  return (double)sorted[lo] + frac * ((double)sorted[lo + 1] - (double)sorted[lo]);
}

void stats_compute(uint64_t *scratch, size_t count, latency_stats *out) {
  out->count = count;
  out->min_ns = out->p10_ns = out->median_ns = out->p90_ns = NAN;
  out->p99_ns = out->max_ns = out->mean_ns = out->std_ns = NAN;
  if (count == 0) return;
  qsort(scratch, count, sizeof(uint64_t), cmp_u64);
  out->min_ns = (double)scratch[0];
  out->max_ns = (double)scratch[count - 1];
  out->p10_ns = stats_percentile_sorted(scratch, count, 0.10);
  out->median_ns = stats_percentile_sorted(scratch, count, 0.50);
  out->p90_ns = stats_percentile_sorted(scratch, count, 0.90);
  out->p99_ns = stats_percentile_sorted(scratch, count, 0.99);
  double sum = 0.0;
  for (size_t i = 0; i < count; ++i) sum += (double)scratch[i];
  out->mean_ns = sum / (double)count;
  if (count >= 2) {
    double ss = 0.0;
    for (size_t i = 0; i < count; ++i) {
      double d = (double)scratch[i] - out->mean_ns;
      ss += d * d;
    }
    out->std_ns = sqrt(ss / (double)(count - 1));
  }
}
