"""The invalid-run checks of one battery profiling run (docs/measurement-methodology.md §4.1).

Each function returns one `Check`. A failing non-advisory check makes the run invalid (kept with its
reason, never dropped); an input that was not available gives `not_checked` with the reason, never
`pass`. Thresholds are the methodology's; the ones it marks **Rec.** are edgebench's choices.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from edgebench.battery.gauge import longest_hold_s
from edgebench.records import Check

DISCHARGING = "Discharging"
# Readings within 5 mA of zero in the charging direction are gauge noise and offset, not charging:
# a charger pushes hundreds of mA, and a phone awake at idle draws tens of mA.
CHARGING_TOLERANCE_UA = 5_000.0
SAMPLE_COVERAGE_MIN = 0.90  # fewer than 90 % of the expected samples
GAP_FACTOR = 3.0  # any gap > 3 × the sampling period
STALE_FACTOR = 10.0  # current unchanged for > 10 × the measured gauge period
BASELINE_DRIFT_MAX = 0.10  # pre and post idle differ by > 10 %
CROSSCHECK_RELATIVE = 0.05  # current integral vs ΔQ: the gauge quantum plus 5 %
CROSSCHECK_MIN_QUANTA = 10.0  # the window must hold ≥ 10 counter steps, so one step is ≤ 10 % of it
SUSPEND_GAP_FACTOR = 5.0  # an inference gap > 5 × the median interval...
SUSPEND_GAP_MIN_S = 1.0  # ...and > 1 s: the device (or the process) stopped running
BATTERY_LOW_PCT = 20.0  # **Rec.**
TEMP_RISE_MAX_DECIC = 50.0  # 5 °C, **Rec.**


def is_valid(checks: Sequence[Check]) -> bool:
    """A run is valid when no non-advisory check failed (as bench.checks.is_invalid, negated)."""
    return not any(c.outcome == "fail" and not c.advisory for c in checks)


def status(statuses: Sequence[str | None]) -> Check:
    """Every sample's status must read Discharging (§4.1); unreadable samples are counted, not judged."""
    known = [s for s in statuses if s is not None]
    if not known:
        return Check("discharging", "not_checked", "status node unreadable in every sample of the run")
    bad = [s for s in known if s != DISCHARGING]
    # Rows without a status are usually rows of the faster current channel, not failed reads.
    note = f" (status present in {len(known)} of {len(statuses)} sample rows)" if len(known) < len(statuses) else ""
    if bad:
        kinds = ", ".join(f"{k!r} ×{bad.count(k)}" for k in sorted(set(bad)))
        return Check("discharging", "fail", f"status was not Discharging in {len(bad)} of {len(known)} samples "
                     f"({kinds}){note}: the battery was not the only power source")
    return Check("discharging", "pass", f"status Discharging in all {len(known)} readings{note}")


def current_direction(t_s: np.ndarray, discharge_ua: np.ndarray) -> Check:
    """No calibrated current in the charging direction (beyond gauge noise) anywhere in the run."""
    ok = np.isfinite(discharge_ua)
    if not ok.any():
        return Check("current_direction", "not_checked", "current_now unreadable in every sample of the run")
    charging = ok & (discharge_ua < -CHARGING_TOLERANCE_UA)
    if charging.any():
        first = float(t_s[np.argmax(charging)])
        worst = float(-np.nanmin(discharge_ua)) / 1000.0
        return Check("current_direction", "fail",
                     f"{int(charging.sum())} samples show current INTO the battery (up to {worst:.0f} mA, first at "
                     f"t={first:.1f} s): the device was charging; cut USB power or suspend charge input")
    return Check("current_direction", "pass")


def updates_stopped(stopped: bool | None, input_suspended: bool | None) -> Check:
    """'(UPDATES STOPPED' without a real input suspend means `dumpsys battery unplug` was used (§1.5)."""
    if stopped is None:
        return Check("updates_stopped", "not_checked", "`dumpsys battery` could not be read or parsed at the run's "
                     "end, so whether the framework's battery view was frozen (UPDATES STOPPED) is unknown")
    if input_suspended is None:
        return Check("updates_stopped", "not_checked", "whether charge input was suspended was not recorded")
    if stopped and not input_suspended:
        return Check("updates_stopped", "fail", "dumpsys battery showed UPDATES STOPPED while charge input was not "
                     "suspended: `unplug` only freezes the framework's view, the hardware may still charge")
    return Check("updates_stopped", "pass")


@dataclass(frozen=True)
class ThermalEvidence:
    """What is known of the thermal state around and in one run's measured window.

    The framework's thermal status (`dumpsys thermalservice`) is read by the driver just before the
    run's first idle window and just after its last one: sampling it during the window would load the
    device being measured. What the sampler read *inside* the measured window are the cooling devices'
    cur_state, the sysfs face of thermal mitigation.
    """

    status_at_start: int | None  # framework thermal status before idle_pre (None: not read)
    status_at_end: int | None  # framework thermal status after idle_post (None: not read)
    cooling_samples_in_window: int  # cooling-device cur_state readings with a time in the measured window
    cooling_max_in_window: tuple[str, int, float] | None  # (device, cur_state, t_s) of the highest reading


def thermal(evidence: ThermalEvidence | None) -> Check:
    """Thermal status ≥ 1 (or a cooling device active) during the measured window fails the run (§4.1)."""
    if evidence is None:
        return Check("thermal", "not_checked", "no thermal status or thermal samples recorded for this run")
    e = evidence
    for when, value in (("start", e.status_at_start), ("end", e.status_at_end)):
        if value is not None and value >= 1:
            return Check("thermal", "fail", f"thermal status {value} (≥ 1 = throttling) at the run's {when}, "
                         "which brackets the measured window; cool down longer before the next run")
    if e.cooling_max_in_window is not None and e.cooling_max_in_window[1] > 0:
        name, state, t = e.cooling_max_in_window
        read = " and ".join(when for when, value in (("start", e.status_at_start), ("end", e.status_at_end))
                            if value is not None)  # the status read, so the run can be placed at it (policy)
        return Check("thermal", "fail", (f"thermal status 0 at the run's {read}, but " if read else "") +
                     f"{name} at cur_state {state} at t={t:.1f} s, inside the measured window: "
                     "the thermal framework was throttling; cool down longer before the next run")
    unknown = [when for when, value in (("start", e.status_at_start), ("end", e.status_at_end)) if value is None]
    if unknown:
        return Check("thermal", "not_checked", f"`dumpsys thermalservice` gave no thermal status at the run's "
                     f"{' and '.join(unknown)}")
    if e.cooling_samples_in_window == 0:
        return Check("thermal", "not_checked", "thermal status 0 at the run's start and end, but no thermal "
                     "sample (cooling device cur_state) fell inside the measured window to show it stayed 0")
    return Check("thermal", "pass", f"thermal status 0 at the run's start and end; every one of "
                 f"{e.cooling_samples_in_window} cooling-device readings in the measured window at cur_state 0")


def cooling(cooling_max_state: int | None) -> Check:
    if cooling_max_state is None:
        return Check("cooling", "not_checked", "no cooling device cur_state recorded for the measured window")
    if cooling_max_state > 0:
        return Check("cooling", "fail", f"a cooling device reached cur_state {cooling_max_state} (> 0 = mitigation "
                     "active) during the measured window")
    return Check("cooling", "pass")


def sample_coverage(t_s: np.ndarray, windows: Mapping[str, tuple[float, float]], sample_period_s: float) -> Check:
    """Readable current samples per window against what the sampler's period gives in that window.

    Each window [start, end) of length L expects floor(L / period) samples (what a sampler on time
    always gets there), so a sampler at half its rate fails in every window, whatever the others hold.
    A window shorter than one period expects nothing and is not judged.
    """
    t = np.asarray(t_s, dtype=np.float64)
    parts, worst = [], None
    for name, (start, end) in windows.items():
        expected = math.floor((end - start) / sample_period_s + 1e-9)
        if expected < 1:
            parts.append(f"{name} shorter than one {sample_period_s:g} s period (not judged)")
            continue
        seen = int(((t >= start) & (t < end)).sum())
        share = seen / expected
        parts.append(f"{name} {seen}/{expected} ({share:.0%})")
        if worst is None or share < worst[1]:
            worst = (name, share)
    text = "readable current samples per window: " + ", ".join(parts)
    if worst is None:
        return Check("sample_coverage", "not_checked", f"{text}: no window is long enough to judge")
    if worst[1] < SAMPLE_COVERAGE_MIN:
        return Check("sample_coverage", "fail", f"{text}; {worst[0]} < {SAMPLE_COVERAGE_MIN:.0%}: the sampler fell "
                     "behind or stopped")
    return Check("sample_coverage", "pass", text)


def sample_gaps(t_s: np.ndarray, span: tuple[float, float], sample_period_s: float) -> Check:
    """Largest gap between readable samples, counting the run's start and end markers as edges."""
    edges = np.concatenate(([span[0]], t_s, [span[1]]))
    gaps = np.diff(edges)
    i = int(np.argmax(gaps))
    limit = GAP_FACTOR * sample_period_s
    if gaps[i] > limit:
        return Check("sample_gaps", "fail", f"no readable current sample for {gaps[i]:.2f} s from t={edges[i]:.1f} s "
                     f"(> {GAP_FACTOR:g} × the {sample_period_s:g} s sampling period): the device may have suspended")
    return Check("sample_gaps", "pass", f"largest gap {gaps[i]:.2f} s")


def stale_gauge(t_s: np.ndarray, current_raw: np.ndarray, update_period_s: float | None) -> Check:
    if update_period_s is None:
        return Check("stale_gauge", "not_checked", "the calibration has no measured gauge update period")
    hold = longest_hold_s(t_s, current_raw)
    if hold is None:
        return Check("stale_gauge", "not_checked", "fewer than 2 readable current samples")
    duration, start = hold
    limit = STALE_FACTOR * update_period_s
    if duration > limit:
        return Check("stale_gauge", "fail", f"current_now held one value for {duration:.1f} s from t={start:.1f} s "
                     f"(> {STALE_FACTOR:g} × the {update_period_s * 1000:.1f} ms gauge period): the gauge stopped "
                     "updating or the node is cached")
    return Check("stale_gauge", "pass", f"longest hold {duration:.2f} s")


def baseline_drift(pre_mw: float, post_mw: float) -> Check:
    if not (math.isfinite(pre_mw) and math.isfinite(post_mw)):
        return Check("baseline_drift", "not_checked", f"idle power not measurable (pre {pre_mw} mW, post "
                     f"{post_mw} mW): too few samples in an idle window")
    mean = (pre_mw + post_mw) / 2.0
    drift = abs(pre_mw - post_mw) / abs(mean) if mean else math.inf
    text = f"idle {pre_mw:.0f} mW before, {post_mw:.0f} mW after ({drift:.1%})"
    if drift > BASELINE_DRIFT_MAX:
        return Check("baseline_drift", "fail", f"{text} > {BASELINE_DRIFT_MAX:.0%}: the idle baseline moved")
    return Check("baseline_drift", "pass", text)


def charge_counter_crosscheck(counter_mj: float | None, integral_mj: float, tolerance_quantum_mj: float | None
                              ) -> Check:
    """V̄·ΔQ must match ∫V·I dt within one counter quantum plus 5 % (§4.1, §1.7 step 5).

    Only judged when one counter step is small beside the window's energy (≤ 1/10 of it): a 0.5 mAh
    step at 3.9 V is ~7 J, more than a short window's whole integral, and a tolerance that large
    passes anything.
    """
    if not math.isfinite(integral_mj):
        return Check("charge_counter_crosscheck", "not_checked",
                     "current integral not measurable (too few current or voltage samples)")
    if counter_mj is None:
        return Check("charge_counter_crosscheck", "not_checked", "charge_counter missing over the measured window")
    if not tolerance_quantum_mj:
        return Check("charge_counter_crosscheck", "not_checked", "the charge counter's step size is unknown (it did "
                     "not step in the calibration or this run), so the tolerance cannot be set")
    if CROSSCHECK_MIN_QUANTA * tolerance_quantum_mj > abs(integral_mj):
        return Check("charge_counter_crosscheck", "not_checked",
                     f"one charge-counter step ({tolerance_quantum_mj / 1000:.2f} J) is "
                     f"{tolerance_quantum_mj / abs(integral_mj):.0%} of the measured window's current integral "
                     f"({integral_mj / 1000:.2f} J): the counter cannot resolve this window (it needs "
                     f"≥ {CROSSCHECK_MIN_QUANTA:g} steps); measure longer")
    limit = tolerance_quantum_mj + CROSSCHECK_RELATIVE * abs(integral_mj)
    diff = counter_mj - integral_mj
    text = (f"charge counter {counter_mj / 1000:.2f} J vs current integral {integral_mj / 1000:.2f} J "
            f"(difference {diff / 1000:+.2f} J, allowed ±{limit / 1000:.2f} J)")
    if abs(diff) > limit:
        return Check("charge_counter_crosscheck", "fail", f"{text}: the gauge's current and counter disagree")
    return Check("charge_counter_crosscheck", "pass", text)


def state_change(name: str, changed: bool | None, what: str) -> Check:
    if changed is None:
        return Check(name, "not_checked", f"{what} not recorded before and after the run")
    if changed:
        return Check(name, "fail", f"{what} changed during the run")
    return Check(name, "pass")


def suspend_gap(inference_times_s: np.ndarray | None, measured: tuple[float, float]) -> Check:
    """A gap in the inference timeline means the device or the process stopped (suspend, freeze)."""
    if inference_times_s is None:
        return Check("suspend_gap", "not_checked", "no per-inference timestamps")
    t = np.sort(np.asarray(inference_times_s, dtype=np.float64))
    t = t[(t >= measured[0]) & (t <= measured[1])]
    if t.size < 2:
        return Check("suspend_gap", "not_checked", f"{t.size} inference timestamp(s) in the measured window")
    limit = max(SUSPEND_GAP_FACTOR * float(np.median(np.diff(t))), SUSPEND_GAP_MIN_S)
    edges = np.concatenate(([measured[0]], t, [measured[1]]))
    gaps = np.diff(edges)
    i = int(np.argmax(gaps))
    if gaps[i] > limit:
        return Check("suspend_gap", "fail", f"no inference for {gaps[i]:.2f} s from t={edges[i]:.1f} s (limit "
                     f"{limit:.2f} s): the device suspended or the harness stalled")
    return Check("suspend_gap", "pass", f"largest inference gap {gaps[i]:.3f} s")


def inference_count(inferences: int, inference_times_s: np.ndarray | None, measured: tuple[float, float]) -> Check:
    if inferences <= 0:
        return Check("inferences", "fail", f"{inferences} inferences in the measured window: nothing to divide by")
    if inference_times_s is None:
        return Check("inferences", "pass", f"{inferences} inferences (no timestamps to cross-check)")
    t = np.asarray(inference_times_s, dtype=np.float64)
    seen = int(((t >= measured[0]) & (t <= measured[1])).sum())
    if abs(seen - inferences) > 1:  # ±1: an inference straddling a window edge
        return Check("inferences", "fail", f"{inferences} inferences reported but {seen} timestamps fall in the "
                     "measured window")
    return Check("inferences", "pass", f"{inferences} inferences")


def battery_low(capacity_pct: np.ndarray) -> Check:
    ok = capacity_pct[np.isfinite(capacity_pct)]
    if ok.size == 0:
        return Check("battery_low", "not_checked", "capacity unreadable")
    low = float(ok.min())
    if low < BATTERY_LOW_PCT:
        return Check("battery_low", "fail", f"battery at {low:.0f} % (< {BATTERY_LOW_PCT:.0f} %): devices "
                     "change performance and gauges lose accuracy near empty; recharge before the next run")
    return Check("battery_low", "pass", f"lowest {low:.0f} %")


def battery_temp_rise(temp_decic: np.ndarray) -> Check:
    ok = temp_decic[np.isfinite(temp_decic)]
    if ok.size == 0:
        return Check("battery_temp_rise", "not_checked", "battery temperature unreadable")
    rise = float(ok.max() - ok[0])
    if rise > TEMP_RISE_MAX_DECIC:
        return Check("battery_temp_rise", "fail", f"battery temperature rose {rise / 10:.1f} °C (> "
                     f"{TEMP_RISE_MAX_DECIC / 10:g} °C) from {ok[0] / 10:.1f} °C")
    return Check("battery_temp_rise", "pass", f"rise {rise / 10:.1f} °C")


def energy_measurable(powers_mw: dict[str, float], voltage_samples: int, n_samples: int) -> Check:
    """The energy needs V·I in the measured and both idle windows; say which one was missing."""
    if voltage_samples == 0:
        return Check("energy_measurable", "fail", f"voltage_now unreadable in all {n_samples} samples of the run: "
                     "no power without it")
    missing = [name for name, p in powers_mw.items() if not math.isfinite(p)]
    if missing:
        return Check("energy_measurable", "fail", f"fewer than 2 readable current samples in the {', '.join(missing)} "
                     "window(s): no power figure there")
    return Check("energy_measurable", "pass")


def net_energy_resolved(net_power_mw: float, step_mw: float | None) -> Check:
    """The workload's power above idle must exceed one step of the current register, or the run's
    energy is not measured: a figure ≤ 0 (or within one step of it) says the gauge cannot tell the
    workload from idle, and is never stored as an energy. It fails the run, so the figure stays out
    of the mean; summarize_repeats then withholds the session's headline (the mean of the runs that
    happened to come out above it would overstate the workload).
    """
    if not math.isfinite(net_power_mw):
        return Check("net_energy_resolved", "not_checked", "net power not measurable (a window had too few "
                     "samples): the run's energy is not measured")
    floor = step_mw or 0.0
    if net_power_mw <= floor:
        step = f"one current step ({step_mw:.3g} mW)" if step_mw else "zero"
        return Check("net_energy_resolved", "fail", f"the workload's power above idle is {net_power_mw:.3g} mW, "
                     f"not above {step}: the gauge cannot tell it from idle, so the run's energy is not measured; "
                     "run the workload faster (more inferences per second), measure longer, or use power rails")
    return Check("net_energy_resolved", "pass", f"{net_power_mw:.3g} mW above idle" +
                 (f" (current step {step_mw:.3g} mW)" if step_mw else ""))


def shortened(reason: str | None) -> Check:
    if reason:
        return Check("shortened", "fail", f"{reason} (allowed; no comparison verdicts on this run)", advisory=True)
    return Check("shortened", "pass", advisory=True)

