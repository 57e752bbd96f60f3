"""Statistics for latency runs: per-run distribution and across-repeat confidence intervals.

Percentiles use linear interpolation between order statistics (numpy's default), so every figure
can be recomputed from the raw samples kept in the store.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from edgebench.records import LatencyStats

BOOTSTRAP_RESAMPLES = 4000
# Fixed seed: the same stored samples always give the same interval.
BOOTSTRAP_SEED = 20261122


def latency_stats(latencies_us: Sequence[float]) -> LatencyStats:
    """Summarize one run's timed latencies. Raises ValueError on an empty run (never zeros)."""
    if len(latencies_us) == 0:
        raise ValueError("no timed latencies: a run with zero inferences has no statistics")
    values = np.asarray(latencies_us, dtype=np.float64)
    p10, p50, p90, p99 = np.percentile(values, [10, 50, 90, 99])
    return LatencyStats(
        count=int(values.size), min_us=float(values.min()), p10_us=float(p10),
        median_us=float(p50), p90_us=float(p90), p99_us=float(p99), max_us=float(values.max()),
        mean_us=float(values.mean()), std_us=float(values.std(ddof=1)) if values.size > 1 else None,
    )


def median_ci95(per_repeat_medians: Sequence[float]) -> tuple[float, float] | None:
    """Bootstrap 95% CI of the median across repeats (resampling runs, not inferences).

    Inferences within one process are serially dependent (thermal drift, caches), so the unit of
    resampling is the repeat. Fewer than 2 repeats give no interval (None), never a zero-width one.
    """
    if len(per_repeat_medians) < 2:
        return None
    values = np.asarray(per_repeat_medians, dtype=np.float64)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    samples = rng.choice(values, size=(BOOTSTRAP_RESAMPLES, values.size), replace=True)
    medians = np.median(samples, axis=1)
    low, high = np.percentile(medians, [2.5, 97.5])
    return float(low), float(high)


def relative_spread(values: Sequence[float]) -> float | None:
    """(max - min) / median, the MLPerf-style replicability measure; None below 2 values."""
    if len(values) < 2:
        return None
    median = float(np.median(values))
    if median <= 0 or math.isnan(median):
        return None
    return (max(values) - min(values)) / median
