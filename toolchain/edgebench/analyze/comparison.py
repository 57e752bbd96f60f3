"""Compare two measurements (A, B): ratio B/A and difference with a CI at a stated level, a verdict,
and the repeats needed to resolve the observed difference.

A side is a list of repeats, each a list of raw samples (latency in ms, or one energy-per-inference
value per battery run). Each repeat is summarized by its median m; drift between repeats (thermal
state, scheduling, the run's own warm-up) is real variance, so the repeat is the unit.

    θ̂  = mean(ln m_B) − mean(ln m_A)          ratio = exp(θ̂): the ratio of the geometric means of
                                               the repeat medians
    SE² = Σ_side n/(n − 1) · Var*(mean ln m*)  Var*: over the two-stage bootstrap draws
                                               (`bootstrap.hierarchical_repeat_medians`: resample
                                               repeats, then samples within each drawn repeat)
    CI(ratio) = exp(θ̂ ± t(1 − α/2; n_A + n_B − 2) · SE)

Why not the bootstrap's own percentiles: with 3 repeats a resample holds only those 3 repeat medians,
so the percentile interval of the median of medians is about [min_B − max_A, max_B − min_A] and covers
~90 % (one side alone: 75 %) while claiming 95 %. Two small-sample corrections fix it: n/(n − 1)
undoes the bootstrap's plug-in variance (s²(n − 1)/n per side), and the t quantile with the repeats'
degrees of freedom pays for estimating that spread from so few repeats. With normal log repeat medians
this is the two-sample t interval; the within-repeat resampling adds each median's sampling noise once
more (slightly conservative). tests/analyze/test_comparison.py measures the coverage by simulation. The
mean of log medians, not their median, is the centre because the t interval is exact for it; with 3
repeats it is also the more precise of the two.

Repeats needed (per side, equal sides) to resolve the observed difference with 80 % power at the level:
the smallest n with  n ≥ (t(1 − α/2; 2n − 2) + t(0.8; 2n − 2))² · (s_A² + s_B²) / θ̂²,  s² being the
sample variance of the log repeat medians (the between-repeat variance, which holds the within-repeat
noise of each median too).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal, Sequence

import numpy as np

from edgebench.analyze.bootstrap import hierarchical_repeat_medians

Metric = Literal["latency", "energy"]
Verdict = Literal["faster", "slower", "less energy", "more energy", "no detectable difference"]

# Power with which `repeats_needed` repeats would resolve a true difference the size of the observed one.
POWER = 0.8
# Beyond this many repeats per side the answer is "not practical" (None), not a number.
MAX_REPEATS_NEEDED = 10_000
METHOD = "two-stage bootstrap SE with n/(n-1) correction, Student t (n_A + n_B - 2 df), log scale"


@dataclass(frozen=True)
class Comparison:
    """B relative to A. ratio > 1: B is higher (slower, or more energy) than A."""

    metric: Metric
    unit: str  # of median_a, median_b, difference (e.g. "ms", "mJ")
    confidence: float  # the level the intervals are built for, e.g. 0.95
    median_a: float  # median of A's per-repeat medians (the figure the tables show)
    median_b: float
    difference: float  # B − A at A's level: median_a · (ratio − 1)
    difference_ci: tuple[float, float]  # median_a · (ratio_ci − 1)
    ratio: float  # B / A: ratio of the geometric means of the repeat medians
    ratio_ci: tuple[float, float]
    relative_difference: float  # ratio − 1 (+0.03: B 3 % higher than A)
    verdict: Verdict
    repeats_a: int
    repeats_b: int
    between_repeat_sd_log_a: float  # sample SD of ln(repeat medians): ~ relative drift between repeats
    between_repeat_sd_log_b: float
    repeats_needed: int | None  # per side to resolve relative_difference (80 % power); None: no difference
    # or more than MAX_REPEATS_NEEDED
    draws: int
    seed: int
    method: str = METHOD

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["difference_ci"] = list(self.difference_ci)
        out["ratio_ci"] = list(self.ratio_ci)
        return out


def compare(a_repeats: Sequence[Sequence[float]], b_repeats: Sequence[Sequence[float]], *,
            confidence: float = 0.95, draws: int = 2000, seed: int = 0, metric: Metric = "latency",
            unit: str = "ms") -> Comparison:
    """Compare B with A (see the module docstring for the method). Each side needs ≥ 2 repeats (the
    between-repeat spread cannot be estimated from one) of positive, finite values."""
    from scipy.stats import t as student_t  # lazy: scipy is slow to import

    if not 0.5 <= confidence < 1:
        raise ValueError(f"confidence must be in [0.5, 1), got {confidence}")
    if draws < 100:
        raise ValueError(f"draws must be >= 100 for a standard error, got {draws}")
    a = _checked("A", a_repeats)
    b = _checked("B", b_repeats)
    log_med_a = np.log([np.median(r) for r in a])
    log_med_b = np.log([np.median(r) for r in b])
    rng_a, rng_b = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    boot_a = np.log(hierarchical_repeat_medians(a_repeats, draws, rng_a)).mean(axis=1)
    boot_b = np.log(hierarchical_repeat_medians(b_repeats, draws, rng_b)).mean(axis=1)
    # The bootstrap's variance of a mean over n resampled repeats is the plug-in s²(n-1)/n / n.
    log_se = math.sqrt(sum(len(side) / (len(side) - 1) * float(np.var(boot, ddof=1))
                           for side, boot in ((a, boot_a), (b, boot_b))))
    t_quantile = float(student_t.ppf(0.5 + confidence / 2, len(a) + len(b) - 2))
    log_ratio = float(log_med_b.mean() - log_med_a.mean())
    ratio = math.exp(log_ratio)
    ratio_ci = (math.exp(log_ratio - t_quantile * log_se), math.exp(log_ratio + t_quantile * log_se))
    median_a = float(np.median(np.exp(log_med_a)))
    median_b = float(np.median(np.exp(log_med_b)))

    sd_a = float(np.std(log_med_a, ddof=1))
    sd_b = float(np.std(log_med_b, ddof=1))
    return Comparison(
        metric=metric, unit=unit, confidence=confidence, median_a=median_a, median_b=median_b,
        difference=median_a * (ratio - 1), difference_ci=(median_a * (ratio_ci[0] - 1), median_a * (ratio_ci[1] - 1)),
        ratio=ratio, ratio_ci=ratio_ci, relative_difference=ratio - 1, verdict=_verdict(ratio_ci, metric),
        repeats_a=len(a), repeats_b=len(b), between_repeat_sd_log_a=sd_a, between_repeat_sd_log_b=sd_b,
        repeats_needed=repeats_needed(log_ratio, sd_a, sd_b, confidence), draws=draws, seed=seed)


def repeats_needed(log_ratio: float, sd_log_a: float, sd_log_b: float, confidence: float,
                   power: float = POWER) -> int | None:
    """Repeats per side for a two-sided t-test at `confidence` to detect a true log ratio of `log_ratio`
    with `power`, given the between-repeat SDs of the log repeat medians. None when there is no
    difference to resolve or it takes more than MAX_REPEATS_NEEDED."""
    from scipy.stats import t as student_t

    variance = sd_log_a ** 2 + sd_log_b ** 2
    if log_ratio == 0 or not math.isfinite(log_ratio):
        return None
    n = 2
    while n <= MAX_REPEATS_NEEDED:
        df = 2 * n - 2
        quantiles = float(student_t.ppf(0.5 + confidence / 2, df)) + float(student_t.ppf(power, df))
        if n >= quantiles ** 2 * variance / log_ratio ** 2:
            return n
        n = n + 1 if n < 100 else int(n * 1.05) + 1  # coarse steps where one repeat more hardly matters
    return None


def _verdict(ratio_ci: tuple[float, float], metric: Metric) -> Verdict:
    low, high = ratio_ci
    if high < 1:
        return "faster" if metric == "latency" else "less energy"
    if low > 1:
        return "slower" if metric == "latency" else "more energy"
    return "no detectable difference"


def _checked(side: str, repeats: Sequence[Sequence[float]]) -> list[np.ndarray]:
    arrays = [np.asarray(r, dtype=float) for r in repeats]
    if len(arrays) < 2:
        raise ValueError(f"{side}: expected at least 2 repeats (the spread between repeats cannot be "
                         f"estimated from {len(arrays)}); measure with --repeats 3 or more")
    for i, values in enumerate(arrays, 1):
        if values.size == 0:
            raise ValueError(f"{side}: repeat {i} has no samples")
        if not np.all(np.isfinite(values)) or np.any(values <= 0):
            bad = values[~np.isfinite(values) | (values <= 0)][0]
            raise ValueError(f"{side}: repeat {i} holds {float(bad)!r}; expected positive, finite values")
    return arrays
