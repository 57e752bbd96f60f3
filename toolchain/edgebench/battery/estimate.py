"""Energy per inference of one battery profiling run (docs/measurement-methodology.md
§1.7 steps 1-5, §4.1).

    P_idle = mean(P_idle,pre, P_idle,post)       each the trapezoid time-average of V·I over the
                                                 idle window after its first settle_s seconds
    P_act  = (1/T)·∫V·I dt over the measured window
    E_inf  = (P_act - P_idle)·T / N              net; gross = P_act·T / N
    cross-check: V̄·ΔQ from charge_counter vs ∫V·I dt over the same window

A net energy ≤ 0, or a net power below one step of the current register, is not a measurement: the
run's figure is nan and the `net_energy_resolved` check fails it with the reason.

Units: V in µV × I in µA = 1e-12 W, so power_mw = V·I·1e-9; mW × s = mJ.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from edgebench.battery import checks as C
from edgebench.battery.calibration import Calibration, charge_quantum_uah, mean_over
from edgebench.battery.gauge import GaugeSeries
from edgebench.errors import ParseError
from edgebench.records import Check

UV_UA_TO_MW = 1e-9
UV_UAH_TO_MJ = 1e-6 * 3.6e-3 * 1e3  # V × (µAh → C) × (J → mJ)
# An idle window does not start idle. Before idle_pre the driver has just run its set-up commands;
# after the workload the SoC stays out of deep idle for a tail (cpuidle and the governor's ramp down:
# ~0.1-1 s), the driver counts the runner's lines, and the gauge's current register is a low-pass
# (AverageCurrent ≥ 0.7 s on MAX17047-class gauges, §1.4; 0.3 s on the virtual device) that still
# shows the workload. Counted as baseline, that run's own energy raises P_idle and lowers every
# estimate. So each baseline starts SETTLE_S in: 1 s of tail plus 5 time constants of a 0.7 s
# filter (e^-5 < 1 % left), rounded up. Never more than half the window, so a short one keeps a baseline.
SETTLE_S = 5.0


@dataclass(frozen=True)
class Windows:
    """Phase windows (start_s, end_s) in CLOCK_BOOTTIME seconds, from the device's phase markers."""

    idle_pre: tuple[float, float]
    warmup: tuple[float, float]
    measured: tuple[float, float]
    idle_post: tuple[float, float]

    def __post_init__(self) -> None:
        order = (("idle_pre", self.idle_pre), ("warmup", self.warmup), ("measured", self.measured),
                 ("idle_post", self.idle_post))
        previous_end = -math.inf
        for name, (start, end) in order:
            if not (math.isfinite(start) and math.isfinite(end) and start < end):
                raise ParseError(f"window {name} = ({start}, {end}): expected finite start < end",
                                 source="phase markers")
            if start < previous_end:
                raise ParseError(f"window {name} starts at {start} before the previous window ends at "
                                 f"{previous_end}: expected idle_pre, warmup, measured, idle_post in time order",
                                 source="phase markers")
            previous_end = end

    @property
    def span(self) -> tuple[float, float]:
        return self.idle_pre[0], self.idle_post[1]

    def baselines(self, settle_s: float) -> tuple[tuple[float, float], tuple[float, float]]:
        """The idle_pre and idle_post parts that count as baseline: each from settle_s after its start
        (at most half the window in), to its end."""
        def settled(window: tuple[float, float]) -> tuple[float, float]:
            start, end = window
            return start + min(max(settle_s, 0.0), (end - start) / 2.0), end

        return settled(self.idle_pre), settled(self.idle_post)


@dataclass(frozen=True)
class RunEnergy:
    """One run's energy figures (nan when a window had too few samples) and its validity checks."""

    idle_pre_power_mw: float
    idle_post_power_mw: float
    idle_power_mw: float  # mean of pre and post
    active_power_mw: float  # trapezoid ∫V·I dt / T over the measured window (discharge positive)
    measured_seconds: float
    inferences: int
    energy_per_inference_mj: float  # net: (active - idle)·T / N; nan when not resolved above idle
    gross_energy_per_inference_mj: float  # active·T / N
    charge_counter_energy_mj: float | None  # V̄·ΔQ over the measured window, None without a counter
    current_integral_energy_mj: float  # ∫V·I dt over the measured window
    checks: tuple[Check, ...]

    @property
    def valid(self) -> bool:
        return C.is_valid(self.checks)

    @property
    def invalid_reasons(self) -> tuple[str, ...]:
        return tuple(f"{c.name}: {c.reason}" for c in self.checks if c.outcome == "fail" and not c.advisory)

    def to_json(self) -> dict[str, Any]:
        def num(x: float | None) -> float | None:
            return None if x is None or not math.isfinite(x) else x

        return {"idle_pre_power_mw": num(self.idle_pre_power_mw), "idle_post_power_mw": num(self.idle_post_power_mw),
                "idle_power_mw": num(self.idle_power_mw), "active_power_mw": num(self.active_power_mw),
                "measured_seconds": self.measured_seconds, "inferences": self.inferences,
                "energy_per_inference_mj": num(self.energy_per_inference_mj),
                "gross_energy_per_inference_mj": num(self.gross_energy_per_inference_mj),
                "charge_counter_energy_mj": num(self.charge_counter_energy_mj),
                "current_integral_energy_mj": num(self.current_integral_energy_mj), "valid": self.valid,
                "checks": {c.name: c.outcome for c in self.checks},
                "check_reasons": {c.name: c.reason for c in self.checks if c.reason}}


def voltage_filled_uv(series: GaugeSeries) -> np.ndarray:
    """voltage_now at every row: readable values, linear in between (voltage moves slowly), nan if none."""
    v = series.voltage_uv
    ok = np.isfinite(v)
    if not ok.any():
        return np.full(v.shape, math.nan)
    return np.where(ok, v, np.interp(series.t_s, series.t_s[ok], v[ok]))


def power_mw(series: GaugeSeries, calibration: Calibration) -> np.ndarray:
    """Battery discharge power at every row (mW, positive = discharging; nan where current is unreadable)."""
    power: np.ndarray = voltage_filled_uv(series) * calibration.discharge_current_ua(series.current_raw) * UV_UA_TO_MW
    return power


def _nan(x: float | None) -> float:
    return math.nan if x is None else x


def counter_discharge_uah(series: GaugeSeries, start_s: float, end_s: float) -> float | None:
    """Charge the counter says left the battery between start_s and end_s (µAh, + = discharged).

    Each edge takes the last counter reading at or before it (the counter holds its value between
    steps), or the first after it when none came before. None without two distinct readings.
    """
    ok = np.isfinite(series.charge_counter_uah)
    t, q = series.t_s[ok], series.charge_counter_uah[ok]
    if t.size < 2:
        return None

    def at(x: float) -> int:
        i = int(np.searchsorted(t, x, side="right")) - 1
        return max(i, 0)

    i0, i1 = at(start_s), at(end_s)
    if i1 <= i0:
        return None
    return float(q[i0] - q[i1])


def current_step_ua(series: GaugeSeries, calibration: Calibration) -> float | None:
    """The smallest step between distinct current readings (µA): the register's resolution as the run
    shows it (1 mA on a gauge that prints mA). None with fewer than two distinct readings."""
    ok = series.current_raw[np.isfinite(series.current_raw)]
    steps = np.diff(np.unique(ok))
    if steps.size == 0:
        return None
    return float(steps.min()) * calibration.scale_to_ua


def estimate_run(series: GaugeSeries, calibration: Calibration, windows: Windows, inferences: int, *,
                 inference_times_s: np.ndarray | None = None, sample_period_s: float, input_suspended: bool | None,
                 updates_stopped: bool | None, thermal: C.ThermalEvidence | None, cooling_max_state: int | None,
                 screen_changed: bool | None, airplane_changed: bool | None, expected_duration_s: float,
                 shortened_reason: str | None, settle_s: float = SETTLE_S) -> RunEnergy:
    """Energy per inference of one run plus every §4.1 check.

    `inferences` is N, the inferences counted in the measured window; `inference_times_s` (optional,
    CLOCK_BOOTTIME) cross-checks N and finds suspend gaps. `expected_duration_s` is how long the
    run (idle_pre start to idle_post end) was planned to last; coverage is judged per window against
    the window's own length (checks.sample_coverage). The thermal, cooling, screen and airplane
    inputs are what the caller saw during the measured window (None = not recorded → not_checked).
    `settle_s`: seconds at the start of each idle window not counted as baseline (SETTLE_S).
    """
    if sample_period_s <= 0 or expected_duration_s <= 0:
        raise ValueError(f"sample_period_s ({sample_period_s}) and expected_duration_s ({expected_duration_s}) "
                         "must be positive")
    run = series.between(*windows.span)
    t = run.t_s
    p = power_mw(run, calibration)
    base_pre, base_post = windows.baselines(settle_s)
    pre = _nan(mean_over(t, p, *base_pre))
    post = _nan(mean_over(t, p, *base_post))
    idle = (pre + post) / 2.0
    active = _nan(mean_over(t, p, *windows.measured))
    seconds = windows.measured[1] - windows.measured[0]
    per = 1.0 / inferences if inferences > 0 else math.nan
    gross = active * seconds * per
    integral_mj = active * seconds

    v_mean = _nan(mean_over(t, voltage_filled_uv(run), *windows.measured))
    step_ua = current_step_ua(run, calibration)
    resolved = C.net_energy_resolved(active - idle, None if step_ua is None or not math.isfinite(v_mean)
                                     else step_ua * v_mean * UV_UA_TO_MW)
    net = (active - idle) * seconds * per if resolved.outcome == "pass" else math.nan
    dq = counter_discharge_uah(run, *windows.measured)
    counter_mj = None if dq is None or not math.isfinite(v_mean) else v_mean * dq * UV_UAH_TO_MJ
    quantum = calibration.charge_quantum_uah or charge_quantum_uah(run)
    quantum_mj = quantum * v_mean * UV_UAH_TO_MJ if quantum and math.isfinite(v_mean) else None

    readable = np.isfinite(run.current_raw)
    checks = (
        C.status(run.status),
        C.current_direction(t, calibration.discharge_current_ua(run.current_raw)),
        C.updates_stopped(updates_stopped, input_suspended),
        C.thermal(thermal),
        C.cooling(cooling_max_state),
        C.sample_coverage(t[readable], asdict(windows), sample_period_s),
        C.sample_gaps(t[readable], windows.span, sample_period_s),
        C.stale_gauge(t, run.current_raw, calibration.update_period_s),
        C.baseline_drift(pre, post),
        C.charge_counter_crosscheck(counter_mj, integral_mj, quantum_mj),
        C.state_change("screen", screen_changed, "screen state (dumpsys power mWakefulness)"),
        C.state_change("airplane", airplane_changed, "airplane or radio state"),
        C.suspend_gap(inference_times_s, windows.measured),
        C.inference_count(inferences, inference_times_s, windows.measured),
        C.battery_low(run.capacity_pct),
        C.battery_temp_rise(run.temp_decic),
        C.energy_measurable({"idle_pre": pre, "measured": active, "idle_post": post},
                            int(np.isfinite(run.voltage_uv).sum()), len(run)),
        resolved,
        C.shortened(shortened_reason),
    )
    return RunEnergy(idle_pre_power_mw=pre, idle_post_power_mw=post, idle_power_mw=idle, active_power_mw=active,
                     measured_seconds=seconds, inferences=inferences, energy_per_inference_mj=net,
                     gross_energy_per_inference_mj=gross, charge_counter_energy_mj=counter_mj,
                     current_integral_energy_mj=integral_mj, checks=checks)
