"""Energy per inference across K repeats, with a 95 % CI over runs (methodology §1.7 step 6).

Runs, not samples, are the unit: samples within a run are autocorrelated (Kalibera & Jones).
K ≥ 5: Student-t interval of the mean. 2 ≤ K < 5: percentile bootstrap of the mean (B = 10 000,
fixed seed, so the same runs always give the same interval); with so few runs it under-covers, so
treat it as indicative. K < 2, or runs that all gave the same value: no interval (None), never a
zero-width one. Fuel-gauge figures are relative, same-device (§1.7 step 7): the gauge's gain error
does not shrink with K.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from edgebench.battery.estimate import RunEnergy

BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 20260514
STUDENT_T_MIN_RUNS = 5
CV_FLAG = 0.10  # §4.1: CV of E_inf > 10 % → flag and run more
FUEL_GAUGE_LABEL = "relative, same-device (fuel gauge)"


@dataclass(frozen=True)
class EnergySummary:
    value_mj: float | None  # mean net energy per inference over the valid runs
    ci_low_mj: float | None
    ci_high_mj: float | None
    ci_method: str | None  # "student_t" | "bootstrap" | None
    cv: float | None  # std / mean of the valid runs' values (None below 2 runs or mean ≤ 0)
    high_cv: bool | None  # cv > 10 %: more runs needed (None when cv is None)
    n_valid: int
    n_invalid: int  # failed a check, or valid but with no finite energy
    gross_value_mj: float | None  # mean gross energy per inference over the same runs
    values_mj: tuple[float, ...]  # the valid runs' net values, in input order
    note: str | None = None
    label: str = FUEL_GAUGE_LABEL

    def to_json(self) -> dict[str, Any]:
        return {"energy_per_inference_mj": self.value_mj, "ci95_mj": None if self.ci_low_mj is None
                else [self.ci_low_mj, self.ci_high_mj], "ci_method": self.ci_method, "cv": self.cv,
                "high_cv": self.high_cv, "runs_valid": self.n_valid, "runs_invalid": self.n_invalid,
                "gross_energy_per_inference_mj": self.gross_value_mj, "values_mj": list(self.values_mj),
                "note": self.note, "label": self.label}


def _two_sided_t_mass(t: float, df: int) -> float:
    """P(|T| ≤ t) for Student's t with integer df (Abramowitz & Stegun 26.7.3-4, exact finite series)."""
    theta = math.atan(t / math.sqrt(df))
    s, c2 = math.sin(theta), math.cos(theta) ** 2
    if df % 2:  # odd: (2/π)(θ + sinθ(cosθ + 2/3 cos³θ + ...)), the bracket empty for df = 1
        term, total, k = math.cos(theta), 0.0, 1
        while k <= df - 2:
            total += term
            term *= c2 * (k + 1) / (k + 2)
            k += 2
        return 2.0 / math.pi * (theta + s * total)
    term, total, k = 1.0, 0.0, 0  # even: sinθ(1 + 1/2 cos²θ + 1·3/(2·4) cos⁴θ + ...)
    while k <= df - 2:
        total += term
        term *= c2 * (k + 1) / (k + 2)
        k += 2
    return s * total


def t_quantile_975(df: int) -> float:
    """The 97.5 % quantile of Student's t (no scipy in the core dependencies): bisection on the CDF."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be ≥ 1, got {df}")
    low, high = 0.0, 100.0  # t(1) is 12.7; the quantile only falls with df
    for _ in range(100):
        mid = (low + high) / 2.0
        if _two_sided_t_mass(mid, df) < 0.95:
            low = mid
        else:
            high = mid
    return (low + high) / 2.0


def mean_ci95(values: Sequence[float]) -> tuple[float, float, str] | None:
    """(low, high, method) of the mean of run-level values; None below 2 values or with no spread."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size < 2 or float(np.std(arr)) == 0.0:
        return None
    mean = float(arr.mean())
    if arr.size >= STUDENT_T_MIN_RUNS:
        half = t_quantile_975(arr.size - 1) * float(arr.std(ddof=1)) / math.sqrt(arr.size)
        return mean - half, mean + half, "student_t"
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    means = rng.choice(arr, size=(BOOTSTRAP_RESAMPLES, arr.size), replace=True).mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high), "bootstrap"


def summarize_repeats(runs: Sequence[RunEnergy]) -> EnergySummary:
    """Mean net energy per inference over the valid runs, its 95 % CI, CV and the run counts."""
    usable = [r for r in runs if r.valid and math.isfinite(r.energy_per_inference_mj)]
    values = [r.energy_per_inference_mj for r in usable]
    n_invalid = len(runs) - len(usable)
    notes = []
    if not usable:
        return EnergySummary(None, None, None, None, None, None, 0, n_invalid, None, (),
                             note=f"no valid runs of {len(runs)}")
    mean = float(np.mean(values))
    gross = [r.gross_energy_per_inference_mj for r in usable if math.isfinite(r.gross_energy_per_inference_mj)]
    ci = mean_ci95(values)
    cv = None
    if len(values) >= 2 and mean > 0:
        cv = float(np.std(values, ddof=1)) / mean
    if len(values) < 2:
        notes.append(f"{len(values)} valid run: no confidence interval")
    elif ci is None:
        notes.append("all valid runs gave the same value: no spread to build an interval from")
    elif ci[2] == "bootstrap":
        notes.append(f"bootstrap CI over {len(values)} runs under-covers; run ≥ {STUDENT_T_MIN_RUNS} repeats")
    if cv is not None and cv > CV_FLAG:
        notes.append(f"CV {cv:.1%} > {CV_FLAG:.0%}: run more repeats")
    if n_invalid:
        notes.append(f"{n_invalid} of {len(runs)} runs invalid")
    return EnergySummary(
        value_mj=mean, ci_low_mj=None if ci is None else ci[0], ci_high_mj=None if ci is None else ci[1],
        ci_method=None if ci is None else ci[2], cv=cv, high_cv=None if cv is None else cv > CV_FLAG,
        n_valid=len(usable), n_invalid=n_invalid, gross_value_mj=float(np.mean(gross)) if gross else None,
        values_mj=tuple(values), note="; ".join(notes) or None)
