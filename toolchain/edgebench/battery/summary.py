"""Energy per inference across K repeats, with a Student-t CI over runs (docs/measurement-methodology.md
§1.7 step 6).

Runs, not samples, are the unit: samples within a run are autocorrelated (Kalibera & Jones). Each
run's figure is a mean over thousands of gauge samples, so across runs it is close to normal and the
t-interval of the mean holds its 95 % at any K ≥ 2 (wide at K = 2: t = 12.7). A percentile bootstrap
over 2-4 runs, used before, covered 50-85 % while claiming 95 %. K < 2, or runs that all gave the
same value: no interval (None), never a zero-width one.

An interval that reaches zero means the workload is not resolved above the idle baseline: the summary
says so instead of a point value, with the repeats (or the measured window) that would resolve it,
sized from the observed spread. Fuel-gauge figures are relative, same-device (§1.7 step 7): the
gauge's gain error does not shrink with K, and no interval across runs covers an estimator's bias.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from edgebench.battery.estimate import RunEnergy

CI_LEVEL = 0.95
CV_FLAG = 0.10  # §4.1: CV of E_inf > 10 % → flag and run more
FUEL_GAUGE_LABEL = "relative, same-device (fuel gauge)"
MAX_REPEATS_TO_SUGGEST = 10_000  # beyond this the spread, not the repeat count, is the problem


@dataclass(frozen=True)
class MeanInterval:
    low: float
    high: float
    level: float
    method: str  # "student_t"


@dataclass(frozen=True)
class Resolution:
    """Whether the interval excludes zero and, if not, what would make it: sized from the observed spread."""

    resolved: bool
    repeats_needed: int | None  # runs of the same length whose t half-width falls below the mean (None: mean ≤ 0)
    seconds_needed: float | None  # measured window per run, same repeat count, if noise variance ∝ 1/duration
    reason: str | None  # why unresolved, and what to do


@dataclass(frozen=True)
class EnergySummary:
    value_mj: float | None  # mean net energy per inference over the valid runs (also when unresolved)
    ci_low_mj: float | None
    ci_high_mj: float | None
    ci_method: str | None  # "student_t" | None
    cv: float | None  # std / mean of the valid runs' values (None below 2 runs or mean ≤ 0)
    high_cv: bool | None  # cv > 10 %: more runs needed (None when cv is None)
    n_valid: int
    n_invalid: int  # failed a check, or valid but with no finite energy
    gross_value_mj: float | None  # mean gross energy per inference over the same runs
    values_mj: tuple[float, ...]  # the valid runs' net values, in input order
    note: str | None = None
    label: str = FUEL_GAUGE_LABEL
    ci_level: float | None = None  # the interval's confidence level (None without an interval)
    resolution: Resolution | None = None  # None without an interval: resolution cannot be judged

    @property
    def resolved(self) -> bool | None:
        return None if self.resolution is None else self.resolution.resolved

    @property
    def headline_mj(self) -> float | None:
        """The figure to print as the energy per inference: None when the interval reaches zero."""
        return None if self.resolved is False else self.value_mj

    def to_json(self) -> dict[str, Any]:
        r = self.resolution
        return {"energy_per_inference_mj": self.headline_mj, "mean_mj": self.value_mj,
                "ci_mj": None if self.ci_low_mj is None else [self.ci_low_mj, self.ci_high_mj],
                "ci_level": self.ci_level, "ci_method": self.ci_method, "resolved": self.resolved,
                "repeats_to_resolve": r.repeats_needed if r else None,
                "measured_seconds_to_resolve": r.seconds_needed if r else None,
                "unresolved_reason": r.reason if r else None, "cv": self.cv,
                "high_cv": self.high_cv, "runs_valid": self.n_valid, "runs_invalid": self.n_invalid,
                "gross_energy_per_inference_mj": self.gross_value_mj, "values_mj": list(self.values_mj),
                "note": self.note, "label": self.label}


def headline_json(summary: EnergySummary | None) -> dict[str, Any]:
    """profile-battery's `energy_per_inference_mj` object: value is None when unresolved (the mean stays in `mean`)."""
    r = summary.resolution if summary else None
    return {"value": summary.headline_mj if summary else None, "mean": summary.value_mj if summary else None,
            "ci_low": summary.ci_low_mj if summary else None, "ci_high": summary.ci_high_mj if summary else None,
            "ci_level": summary.ci_level if summary else None, "resolved": r.resolved if r else None,
            "repeats_to_resolve": r.repeats_needed if r else None,
            "measured_seconds_to_resolve": r.seconds_needed if r else None,
            "unresolved_reason": r.reason if r else None}


def t_quantile(level: float, df: int) -> float:
    """Two-sided critical value of Student's t: the (1 + level) / 2 quantile."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be ≥ 1, got {df}")
    from scipy.stats import t  # lazy: scipy is slow to import and the CLI's --help never needs it

    return float(t.ppf((1.0 + level) / 2.0, df))


def t_quantile_975(df: int) -> float:
    return t_quantile(0.95, df)


def mean_interval(values: Sequence[float], level: float = CI_LEVEL) -> MeanInterval | None:
    """Student-t interval of the mean of run-level values; None below 2 values or with no spread."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size < 2 or float(np.std(arr)) == 0.0:
        return None
    mean = float(arr.mean())
    half = t_quantile(level, arr.size - 1) * float(arr.std(ddof=1)) / math.sqrt(arr.size)
    return MeanInterval(mean - half, mean + half, level, "student_t")


def mean_ci95(values: Sequence[float]) -> tuple[float, float, str] | None:
    """(low, high, method) of the 95 % t-interval of the mean; None below 2 values or with no spread."""
    ci = mean_interval(values, 0.95)
    return None if ci is None else (ci.low, ci.high, ci.method)


def resolution(values: Sequence[float], measured_seconds: float, level: float = CI_LEVEL) -> Resolution | None:
    """Is the mean resolved above zero at `level`? If not, the repeats or window length that would resolve it.

    Sizing assumes the spread seen is the spread to come (it is itself uncertain with few runs, so
    treat the figure as a floor). Longer windows help only as far as the spread is gauge noise that
    averages out (variance ∝ 1/duration), not drift between runs.
    """
    ci = mean_interval(values, level)
    if ci is None:
        return None
    if ci.low > 0:
        return Resolution(True, None, None, None)
    arr = np.asarray(values, dtype=np.float64)
    n, mean, sd = arr.size, float(arr.mean()), float(arr.std(ddof=1))
    span = f"the {level:.0%} interval [{ci.low:.3g}, {ci.high:.3g}] mJ includes zero"
    if mean <= 0:
        return Resolution(False, None, None, f"{span} and the mean net energy {mean:.3g} mJ is not above idle: "
                          "the workload is below this gauge's noise; run it faster (more inferences per "
                          "second) or measure on a device with power rails")
    repeats = next((k for k in range(n + 1, MAX_REPEATS_TO_SUGGEST + 1)
                    if t_quantile(level, k - 1) * sd / math.sqrt(k) < mean), None)
    half = (ci.high - ci.low) / 2.0
    seconds = measured_seconds * (half / mean) ** 2
    repeats_text = f"≥ {repeats} repeats" if repeats else f"more than {MAX_REPEATS_TO_SUGGEST} repeats"
    return Resolution(False, repeats, seconds,
                      f"{span}: not resolved above idle; {repeats_text}, or measured windows of ≥ {seconds:.0f} s "
                      f"with {n} repeats (if the spread is gauge noise), would resolve it")


def summarize_repeats(runs: Sequence[RunEnergy]) -> EnergySummary:
    """Mean net energy per inference over the valid runs, its t-interval, whether it is resolved, CV, counts."""
    usable = [r for r in runs if r.valid and math.isfinite(r.energy_per_inference_mj)]
    values = [r.energy_per_inference_mj for r in usable]
    n_invalid = len(runs) - len(usable)
    # Runs whose workload the gauge could not tell from idle (checks.net_energy_resolved) carry no
    # figure; the others' mean would overstate the workload, so no headline while any exists.
    unresolved = sum(any(c.name == "net_energy_resolved" and c.outcome == "fail" for c in r.checks) for r in runs)
    notes = []
    if not usable:
        return EnergySummary(None, None, None, None, None, None, 0, n_invalid, None, (),
                             note=f"no valid runs of {len(runs)}" + (
                                 f" ({unresolved} not resolved above idle)" if unresolved else ""))
    mean = float(np.mean(values))
    gross = [r.gross_energy_per_inference_mj for r in usable if math.isfinite(r.gross_energy_per_inference_mj)]
    ci = mean_interval(values)
    resolved = resolution(values, float(np.mean([r.measured_seconds for r in usable])))
    if unresolved:
        resolved = Resolution(False, None, None, f"{unresolved} of {len(runs)} runs' workload power was not "
                              "above idle on this gauge (no energy measured there), so the other runs' mean "
                              "would overstate it; run the workload faster, measure longer, or use power rails")
    cv = None
    if len(values) >= 2 and mean > 0:
        cv = float(np.std(values, ddof=1)) / mean
    if len(values) < 2:
        notes.append(f"{len(values)} valid run: no confidence interval, so whether the workload is resolved "
                     "above idle is unknown")
    elif ci is None:
        notes.append("all valid runs gave the same value: no spread to build an interval from")
    if resolved is not None and resolved.reason:
        notes.append(resolved.reason)
    if cv is not None and cv > CV_FLAG:
        notes.append(f"CV {cv:.1%} > {CV_FLAG:.0%}: run more repeats")
    if n_invalid:
        notes.append(f"{n_invalid} of {len(runs)} runs invalid")
    return EnergySummary(
        value_mj=mean, ci_low_mj=None if ci is None else ci.low, ci_high_mj=None if ci is None else ci.high,
        ci_method=None if ci is None else ci.method, cv=cv, high_cv=None if cv is None else cv > CV_FLAG,
        n_valid=len(usable), n_invalid=n_invalid, gross_value_mj=float(np.mean(gross)) if gross else None,
        values_mj=tuple(values), note="; ".join(notes) or None, ci_level=None if ci is None else ci.level,
        resolution=resolved)
