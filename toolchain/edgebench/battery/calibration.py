"""Per-device unit and sign calibration of current_now against the charge counter
(docs/measurement-methodology.md §1.3).

Vendors print current_now in µA or mA and with either sign (§1.2); the charge counter is µAh on
every device documented so far (§1.1), so its slope is the reference. calibrate() tries the four
(scale, sign) pairs and keeps the one whose mean current matches dQ/dt within 10 %.

The slope is taken between the first and the last *step* of the counter, not between its first and
last samples: a 0.5 mAh counter (MAX17047, §1.4) is floored, so the charge between two steps is an
exact number of quanta while the charge between two arbitrary samples is off by up to one quantum.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from edgebench.battery.gauge import GaugeSeries, change_times_s, integrate
from edgebench.errors import EdgebenchError

AGREEMENT_LIMIT = 0.10  # §1.3: reject the device if no pair agrees within ~10 %
MIN_COUNTER_STEPS = 3  # at least 2 whole quanta between the first and the last step
MIN_COUNTER_SPAN_S = 60.0  # the step times are known to ± one counter sample period; keep that small
SCALES_TO_UA = (1.0, 1000.0)  # µA (kernel ABI) or mA (Samsung, Huawei... §1.2)
SAMPLE_PERIOD_FLOOR_S = 0.100  # §4.1: sample every 100 ms or half the gauge period, whichever is longer
JSON_KIND = "edgebench.battery.calibration"
JSON_VERSION = 1


class CalibrationError(EdgebenchError):
    """The gauge cannot be calibrated (or a stored calibration is malformed); no energy work on it."""


@dataclass(frozen=True)
class Calibration:
    """How to turn this device's raw current_now into µA with discharge positive."""

    scale_to_ua: float  # 1 (µA) or 1000 (mA)
    discharge_sign: int  # +1 if discharging reads positive, -1 if negative (kernel ABI: negative)
    update_period_s: float | None  # measured mean time between changes of current_now
    charge_quantum_uah: float | None  # smallest nonzero step of charge_counter seen
    agreement: float  # |mean calibrated current - dQ/dt| / |dQ/dt| for the chosen pair
    source: str  # e.g. "calibrated from 600 s idle on run <id>" or "reused from <profile file>"
    counter_discharge_ua: float | None = None  # the reference: -dQ/dt in µA (positive = discharging)
    span_s: float | None = None  # seconds between the first and last counter step used

    def __post_init__(self) -> None:
        if self.scale_to_ua not in SCALES_TO_UA:
            raise CalibrationError(f"scale_to_ua must be 1 (µA) or 1000 (mA), got {self.scale_to_ua!r}")
        if self.discharge_sign not in (1, -1):
            raise CalibrationError(f"discharge_sign must be +1 or -1, got {self.discharge_sign!r}")

    def discharge_current_ua(self, raw: np.ndarray) -> np.ndarray:
        """Raw current_now → µA, positive = discharging (nan stays nan)."""
        return np.asarray(raw, dtype=np.float64) * self.scale_to_ua * self.discharge_sign

    def to_json(self) -> dict[str, Any]:
        return {"kind": JSON_KIND, "version": JSON_VERSION, "scale_to_ua": self.scale_to_ua,
                "discharge_sign": self.discharge_sign, "update_period_s": self.update_period_s,
                "charge_quantum_uah": self.charge_quantum_uah, "agreement": self.agreement,
                "source": self.source, "counter_discharge_ua": self.counter_discharge_ua,
                "span_s": self.span_s}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, source: str | None = None) -> Calibration:
        """Read back to_json() output. `source` replaces the stored one (e.g. "reused from <file>")."""
        if not isinstance(data, Mapping) or data.get("kind") != JSON_KIND:
            raise CalibrationError(f"expected a mapping with kind={JSON_KIND!r}, got {data!r:.200}")
        if data.get("version") != JSON_VERSION:
            raise CalibrationError(f"calibration version {data.get('version')!r} is not {JSON_VERSION}; "
                                   "recalibrate the device (edgebench writes version "
                                   f"{JSON_VERSION})")

        def num(key: str, *, optional: bool) -> float | None:
            value = data.get(key)
            if value is None and optional:
                return None
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise CalibrationError(f"calibration field {key!r} must be a finite number, got {value!r}")
            return float(value)

        stored_source = data.get("source")
        if not isinstance(stored_source, str):
            raise CalibrationError(f"calibration field 'source' must be text, got {stored_source!r}")
        sign = num("discharge_sign", optional=False)
        return cls(scale_to_ua=num("scale_to_ua", optional=False),  # type: ignore[arg-type]
                   discharge_sign=int(sign),  # type: ignore[arg-type]
                   update_period_s=num("update_period_s", optional=True),
                   charge_quantum_uah=num("charge_quantum_uah", optional=True),
                   agreement=num("agreement", optional=False),  # type: ignore[arg-type]
                   source=source or stored_source,
                   counter_discharge_ua=num("counter_discharge_ua", optional=True),
                   span_s=num("span_s", optional=True))


def update_period_s(series: GaugeSeries) -> float | None:
    """Mean time between changes of current_now (span of the changes / their count - 1).

    The mean, not the median: with a 100 ms sampler and a 175.8 ms gauge the intervals seen are
    100 or 200 ms, whose median is one of the two, while their mean converges on 175.8 ms. Two equal
    consecutive conversions look like one, so this is an upper bound; and when every sample differs
    the sampler is slower than the gauge and the value is just the sampling period.
    """
    changes = change_times_s(series.t_s, series.current_raw)
    if changes.size < 2:
        return None
    return float((changes[-1] - changes[0]) / (changes.size - 1))


def charge_quantum_uah(series: GaugeSeries) -> float | None:
    """Smallest nonzero step between consecutive readable charge_counter values."""
    q = series.charge_counter_uah[np.isfinite(series.charge_counter_uah)]
    steps = np.abs(np.diff(q))
    steps = steps[steps > 0]
    return float(steps.min()) if steps.size else None


def sample_period_s(calibration: Calibration | None) -> float:
    """The sampler period §4.1 asks for: 100 ms, or half the measured gauge period if that is longer."""
    if calibration is None or calibration.update_period_s is None:
        return SAMPLE_PERIOD_FLOOR_S
    return max(SAMPLE_PERIOD_FLOOR_S, calibration.update_period_s / 2.0)


def mean_over(t_s: np.ndarray, values: np.ndarray, start_s: float, end_s: float) -> float | None:
    """Trapezoid time-average of the readable values with start_s ≤ t ≤ end_s (None below 2 samples)."""
    keep = (t_s >= start_s) & (t_s <= end_s) & np.isfinite(values)
    t, v = t_s[keep], values[keep]
    if t.size < 2 or t[-1] <= t[0]:
        return None
    return integrate(t, v) / float(t[-1] - t[0])


@dataclass(frozen=True)
class UnitSignFit:
    """current_now's (scale, sign) that best matches the charge counter's slope over one recording."""

    scale_to_ua: float
    discharge_sign: int
    agreement: float  # |mean calibrated current - dQ/dt| / |dQ/dt| for this pair
    counter_discharge_ua: float  # -dQ/dt in µA (positive = discharging)
    span_s: float  # between the first and the last counter step used
    steps: int  # counter steps seen
    mean_raw: float  # time-average of current_now as printed, between the first and last step
    tried: tuple[tuple[float, float, int], ...]  # (agreement, scale, discharge sign) of all four pairs

    def listing(self) -> str:
        return ", ".join(f"×{s:g} sign {sg:+d}: {a:.0%} off" for a, s, sg in self.tried)


TOO_FEW_STEPS_ADVICE = ("Record longer (≥ 10 min, §1.3) while discharging (USB power cut or input suspended). "
                        "Some gauges hold the counter at low current (§1.4): if it never moves, this device "
                        "cannot be calibrated")


def fit_unit_sign(series: GaugeSeries, *, min_span_s: float = MIN_COUNTER_SPAN_S,
                  too_few_steps_advice: str = TOO_FEW_STEPS_ADVICE) -> UnitSignFit:
    """Try the four (scale, sign) pairs of current_now against the counter's slope between its first
    and last step; CalibrationError when the counter cannot serve as the reference."""
    q_ok = np.isfinite(series.charge_counter_uah)
    if q_ok.sum() < 2:
        raise CalibrationError("charge_counter is missing (fewer than 2 readable samples): it is the reference "
                               "for current_now's unit and sign, so this device cannot be calibrated for energy "
                               "work; use ODPM rails or an external meter instead")
    tq, q = series.t_s[q_ok], series.charge_counter_uah[q_ok]
    step_idx = np.flatnonzero(np.diff(q) != 0) + 1  # first sample after each step
    span = float(tq[step_idx[-1]] - tq[step_idx[0]]) if step_idx.size else 0.0
    if step_idx.size < MIN_COUNTER_STEPS or span < min_span_s:
        what = ("did not move" if step_idx.size == 0 else
                f"stepped only {step_idx.size} time(s) over {span:.0f} s")
        raise CalibrationError(
            f"charge_counter {what} in {tq[-1] - tq[0]:.0f} s of samples; calibration needs ≥ {MIN_COUNTER_STEPS} "
            f"steps spanning ≥ {min_span_s:.0f} s. {too_few_steps_advice}")
    t0, t1 = float(tq[step_idx[0]]), float(tq[step_idx[-1]])
    rate_ua = (q[step_idx[-1]] - q[step_idx[0]]) / (t1 - t0) * 3600.0  # µAh/s → µA, positive = charging
    if rate_ua == 0:
        raise CalibrationError(f"charge_counter came back to its starting value over {t1 - t0:.0f} s (net zero "
                               "charge): the battery was neither charging nor discharging steadily; recalibrate")
    # The counter is remaining charge: it falls while discharging. If status disagrees, the counter
    # counts something else (e.g. charge consumed) and cannot fix the sign.
    statuses = {st for st in series.between(t0, t1).status if st is not None}
    if (statuses == {"Discharging"} and rate_ua > 0) or (statuses == {"Charging"} and rate_ua < 0):
        raise CalibrationError(f"charge_counter {'rose' if rate_ua > 0 else 'fell'} ({rate_ua:+.0f} µA) while status "
                               f"read {statuses.pop()!r} throughout: it does not count remaining charge, so it "
                               "cannot calibrate current_now's sign on this device")
    mean_raw = mean_over(series.t_s, series.current_raw, t0, t1)
    if mean_raw is None:
        raise CalibrationError(f"current_now has fewer than 2 readable samples between {t0:.1f} s and {t1:.1f} s "
                               "(the counter steps used); cannot calibrate")
    tried = []
    for scale in SCALES_TO_UA:
        for into_sign in (1, -1):  # into_sign: raw × scale × into_sign = current into the battery
            agreement = abs(mean_raw * scale * into_sign - rate_ua) / abs(rate_ua)
            tried.append((float(agreement), scale, -into_sign))
    tried.sort()
    agreement, scale, sign = tried[0]
    return UnitSignFit(scale_to_ua=scale, discharge_sign=sign, agreement=agreement,
                       counter_discharge_ua=float(-rate_ua), span_s=t1 - t0, steps=int(step_idx.size),
                       mean_raw=float(mean_raw), tried=tuple(tried))


def calibrate(series: GaugeSeries, *, source: str) -> Calibration:
    """Find the (scale, sign) of current_now from a quiet, discharging recording (≥ 10 min, §1.3)."""
    fit = fit_unit_sign(series)
    if fit.agreement > AGREEMENT_LIMIT:
        rate_ua = -fit.counter_discharge_ua
        ratio = rate_ua / fit.mean_raw if fit.mean_raw else math.inf
        raise CalibrationError(
            f"no (scale, sign) of current_now agrees with the charge counter within {AGREEMENT_LIMIT:.0%}: "
            f"dQ/dt = {rate_ua:.0f} µA, mean current_now = {fit.mean_raw:.1f} (raw), ratio {ratio:.3g}; "
            f"tried {fit.listing()}. "
            "The node may use another unit, or the load varied; recalibrate with the screen off and USB power "
            "cut, or do not use this device for energy work")
    return Calibration(scale_to_ua=fit.scale_to_ua, discharge_sign=fit.discharge_sign,
                       update_period_s=update_period_s(series), charge_quantum_uah=charge_quantum_uah(series),
                       agreement=fit.agreement, source=source, counter_discharge_ua=fit.counter_discharge_ua,
                       span_s=fit.span_s)
