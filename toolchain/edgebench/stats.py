"""Statistics for latency runs: per-run distribution and the across-repeat interval of the median.

Percentiles use linear interpolation between order statistics (numpy's default), so every figure
can be recomputed from the raw samples kept in the store.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from edgebench.records import LatencyStats

# The level a median interval aims for; with too few repeats the achieved (lower) level is reported.
TARGET_LEVEL = 0.95


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


@dataclass(frozen=True)
class MedianInterval:
    """A distribution-free interval of the median across repeats, and the level it truly has."""

    low_us: float
    high_us: float
    level: float  # exact probability that [low, high] holds the population median (any continuous spread)
    ranks: tuple[int, int]  # 1-based order statistics of the repeat medians that bound it


def order_statistic_level(n: int, k: int) -> float:
    """Coverage of [x_(k), x_(n+1-k)] for the median of a continuous distribution: P(k ≤ B ≤ n−k), B~Bin(n, ½)."""
    if not 1 <= k <= (n + 1) // 2:
        raise ValueError(f"order statistic k={k} out of range for n={n}: expected 1 ≤ k ≤ {(n + 1) // 2}")
    from scipy.stats import binom  # lazy: scipy is slow to import and the CLI's --help never needs it

    return float(1.0 - 2.0 * binom.cdf(k - 1, n, 0.5))


def repeats_for_level(level: float = TARGET_LEVEL) -> int:
    """Fewest repeats whose [min, max] already covers the median with probability ≥ level (6 for 95 %)."""
    n = 2
    while order_statistic_level(n, 1) < level:
        n += 1
    return n


def median_interval(per_repeat_medians: Sequence[float], target: float = TARGET_LEVEL) -> MedianInterval | None:
    """The narrowest order-statistic interval of the median across repeats that reaches `target`, else [min, max].

    The repeat is the unit (inferences within one process are serially dependent), and repeat-to-repeat
    drift is real variance, so the interval is of the population median of repeat medians. With n
    repeats, [x_(k), x_(n+1-k)] holds it with probability 1 − 2·P(Bin(n, ½) ≤ k−1) whatever the
    distribution; below 6 repeats even [min, max] falls short of 95 % (75 % at 3, 50 % at 2), and that
    lower level is what is reported, not 95 %. A bootstrap over so few repeats under-covers the same way
    while claiming 95 %. Fewer than 2 repeats give no interval (None), never a zero-width one.
    """
    n = len(per_repeat_medians)
    if n < 2:
        return None
    values = np.sort(np.asarray(per_repeat_medians, dtype=np.float64))
    k = 1
    while k + 1 <= (n + 1) // 2 and order_statistic_level(n, k + 1) >= target:
        k += 1
    return MedianInterval(low_us=float(values[k - 1]), high_us=float(values[n - k]),
                          level=order_statistic_level(n, k), ranks=(k, n + 1 - k))


def format_level(level: float) -> str:
    """'75 %', '93.7 %' (for 93.75 %), '96.8 %': the achieved level, rounded down, never up to a nominal one."""
    percent = math.floor(level * 1000) / 10
    return f"{percent:.0f} %" if percent == int(percent) else f"{percent:.1f} %"


def relative_spread(values: Sequence[float]) -> float | None:
    """(max - min) / median, the MLPerf-style replicability measure; None below 2 values."""
    if len(values) < 2:
        return None
    median = float(np.median(values))
    if median <= 0 or math.isnan(median):
        return None
    return (max(values) - min(values)) / median
