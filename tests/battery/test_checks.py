"""Each §4.1 invalid-run check fires on a crafted series and passes on a clean one."""
from __future__ import annotations

import numpy as np
import pytest

from edgebench.battery import Calibration, GaugeSeries, RunEnergy, calibrate

from .synth import INFERENCE_TIMES, WINDOWS, GaugeSpec, clean_run, estimate, idle_recording, with_columns

M0, M1 = WINDOWS.measured


@pytest.fixture(scope="module")
def cal() -> Calibration:
    return calibrate(idle_recording(), source="synthetic idle")


@pytest.fixture(scope="module")
def clean() -> GaugeSeries:
    return clean_run()[0]


def check(run: RunEnergy, name: str) -> tuple[str, str | None]:
    found = [c for c in run.checks if c.name == name]
    assert len(found) == 1, f"expected one {name!r} check, got {[c.name for c in run.checks]}"
    return found[0].outcome, found[0].reason


def test_a_clean_run_passes_every_check(clean: GaugeSeries, cal: Calibration) -> None:
    run = estimate(clean, cal)
    assert {c.name: c.outcome for c in run.checks} == {name: "pass" for name in (
        "discharging", "current_direction", "updates_stopped", "thermal", "cooling", "sample_coverage",
        "sample_gaps", "stale_gauge", "baseline_drift", "charge_counter_crosscheck", "screen", "airplane",
        "suspend_gap", "inferences", "battery_low", "battery_temp_rise", "energy_measurable", "net_energy_positive",
        "shortened")}
    assert run.valid and run.invalid_reasons == ()


def test_charging_current_is_caught_even_when_status_says_discharging(cal: Calibration) -> None:
    # The HAL keeps printing Discharging (as after `dumpsys battery unplug`), but current flows in.
    series, _ = clean_run(post_idle_mw=-2000.0)
    run = estimate(series, cal)
    assert check(run, "discharging")[0] == "pass"
    outcome, reason = check(run, "current_direction")
    assert outcome == "fail" and "INTO the battery" in reason
    assert not run.valid and any(r.startswith("current_direction") for r in run.invalid_reasons)


def test_the_charging_direction_follows_the_calibration_not_the_raw_sign() -> None:
    # A discharging-positive gauge prints positive numbers while discharging: that is not charging.
    spec = GaugeSpec(discharge_positive=True)
    run = estimate(clean_run(spec)[0], calibrate(idle_recording(spec), source="s"))
    assert check(run, "current_direction")[0] == "pass"


def test_status_charging_fails_the_run(clean: GaugeSeries, cal: Calibration) -> None:
    status = list(clean.status)
    status[100:130] = ["Charging"] * 30
    status[200] = "Full"
    outcome, reason = check(estimate(with_columns(clean, status=tuple(status)), cal), "discharging")
    assert outcome == "fail" and "'Charging' ×30" in reason and "'Full' ×1" in reason


def test_unreadable_status_is_not_checked(clean: GaugeSeries, cal: Calibration) -> None:
    run = estimate(with_columns(clean, status=(None,) * len(clean)), cal)
    assert check(run, "discharging")[0] == "not_checked"


def test_stale_gauge(clean: GaugeSeries, cal: Calibration) -> None:
    current = clean.current_raw.copy()
    frozen = (clean.t_s > M0 + 100) & (clean.t_s < M0 + 105)
    current[frozen] = current[np.argmax(frozen)]
    outcome, reason = check(estimate(with_columns(clean, current_raw=current), cal), "stale_gauge")
    assert outcome == "fail" and "held one value for 5.0 s" in reason
    no_period = Calibration(cal.scale_to_ua, cal.discharge_sign, None, cal.charge_quantum_uah, cal.agreement, "s")
    assert check(estimate(clean, no_period), "stale_gauge")[0] == "not_checked"


def test_sample_gap(clean: GaugeSeries, cal: Calibration) -> None:
    current = clean.current_raw.copy()
    current[(clean.t_s > M0 + 50) & (clean.t_s < M0 + 51)] = np.nan
    run = estimate(with_columns(clean, current_raw=current), cal)
    outcome, reason = check(run, "sample_gaps")
    assert outcome == "fail" and "no readable current sample for 1.1" in reason  # 1 s lost + one period
    assert check(run, "sample_coverage")[0] == "pass"  # 10 of 5700 missing is still > 90 %


def test_sample_coverage(clean: GaugeSeries, cal: Calibration) -> None:
    current = clean.current_raw.copy()
    current[np.random.default_rng(3).random(len(clean)) < 0.15] = np.nan
    outcome, reason = check(estimate(with_columns(clean, current_raw=current), cal), "sample_coverage")
    assert outcome == "fail" and "< 90%" in reason
    # The planned run was longer than what the windows and samples cover.
    assert check(estimate(clean, cal, expected_duration_s=700.0), "sample_coverage")[0] == "fail"


def test_baseline_drift(cal: Calibration) -> None:
    outcome, reason = check(estimate(clean_run(post_idle_mw=450.0)[0], cal), "baseline_drift")
    assert outcome == "fail" and "> 10%" in reason
    assert check(estimate(clean_run(post_idle_mw=370.0)[0], cal), "baseline_drift")[0] == "pass"


def test_charge_counter_crosscheck(clean: GaugeSeries, cal: Calibration) -> None:
    q = clean.charge_counter_uah
    q0 = q[np.isfinite(q)][0]
    slow = q0 + np.floor((q - q0) * 0.8 / 500.0) * 500.0  # a counter that sees 20 % less charge
    outcome, reason = check(estimate(with_columns(clean, charge_counter_uah=slow), cal), "charge_counter_crosscheck")
    assert outcome == "fail" and "disagree" in reason
    missing = estimate(with_columns(clean, charge_counter_uah=np.full(len(clean), np.nan)), cal)
    assert check(missing, "charge_counter_crosscheck")[0] == "not_checked"
    assert missing.charge_counter_energy_mj is None


@pytest.mark.parametrize("kwargs,name", [
    ({"thermal_status_max": 2}, "thermal"),
    ({"cooling_max_state": 1}, "cooling"),
    ({"updates_stopped": True, "input_suspended": False}, "updates_stopped"),
    ({"screen_changed": True}, "screen"),
    ({"airplane_changed": True}, "airplane"),
])
def test_reported_state_checks_fail(clean: GaugeSeries, cal: Calibration, kwargs: dict, name: str) -> None:
    run = estimate(clean, cal, **kwargs)
    assert check(run, name)[0] == "fail" and not run.valid


@pytest.mark.parametrize("kwargs,name", [
    ({"thermal_status_max": None}, "thermal"),
    ({"cooling_max_state": None}, "cooling"),
    ({"updates_stopped": None}, "updates_stopped"),
    ({"screen_changed": None}, "screen"),
    ({"airplane_changed": None}, "airplane"),
    ({"inference_times_s": None}, "suspend_gap"),
])
def test_missing_inputs_are_not_checked_never_passed(clean: GaugeSeries, cal: Calibration, kwargs: dict,
                                                     name: str) -> None:
    outcome, reason = check(estimate(clean, cal, **kwargs), name)
    assert outcome == "not_checked" and reason


def test_updates_stopped_is_fine_when_input_was_really_suspended(clean: GaugeSeries, cal: Calibration) -> None:
    assert check(estimate(clean, cal, updates_stopped=True, input_suspended=True), "updates_stopped")[0] == "pass"


def test_suspend_gap_in_the_inference_timeline(clean: GaugeSeries, cal: Calibration) -> None:
    times = INFERENCE_TIMES[(INFERENCE_TIMES < M0 + 200) | (INFERENCE_TIMES > M0 + 204)]
    n = int(((times >= M0) & (times <= M1)).sum())
    run = estimate(clean, cal, inference_times_s=times, inferences=n)
    outcome, reason = check(run, "suspend_gap")
    assert outcome == "fail" and "no inference for 4.0" in reason
    assert check(run, "inferences")[0] == "pass"


def test_inference_count_must_match_the_timestamps(clean: GaugeSeries, cal: Calibration) -> None:
    outcome, reason = check(estimate(clean, cal, inferences=14_000), "inferences")
    assert outcome == "fail" and "15000 timestamps" in reason


def test_battery_low(clean: GaugeSeries, cal: Calibration) -> None:
    low = np.where(np.isfinite(clean.capacity_pct), 19.0, np.nan)
    outcome, reason = check(estimate(with_columns(clean, capacity_pct=low), cal), "battery_low")
    assert outcome == "fail" and "19 %" in reason
    assert check(estimate(with_columns(clean, capacity_pct=np.full(len(clean), np.nan)), cal),
                 "battery_low")[0] == "not_checked"


def test_battery_temperature_rise(clean: GaugeSeries, cal: Calibration) -> None:
    ramp = 300.0 + 60.0 * (clean.t_s - clean.t_s[0]) / (clean.t_s[-1] - clean.t_s[0])
    temp = np.where(np.isfinite(clean.temp_decic), np.round(ramp), np.nan)
    outcome, reason = check(estimate(with_columns(clean, temp_decic=temp), cal), "battery_temp_rise")
    assert outcome == "fail" and "rose 6.0 °C" in reason
    mild = np.where(np.isfinite(clean.temp_decic), np.round(300.0 + (ramp - 300.0) * 0.5), np.nan)
    assert check(estimate(with_columns(clean, temp_decic=mild), cal), "battery_temp_rise")[0] == "pass"


def test_shortened_is_advisory(clean: GaugeSeries, cal: Calibration) -> None:
    run = estimate(clean, cal, shortened_reason="measured 60 s below the battery preset's minimum 300")
    outcome, reason = check(run, "shortened")
    assert outcome == "fail" and "no comparison verdicts" in reason
    assert run.valid


def test_a_workload_not_resolvable_above_idle_is_flagged_but_kept(cal: Calibration) -> None:
    run = estimate(clean_run(active_mw=340.0)[0], cal)
    assert check(run, "net_energy_positive")[0] == "fail"
    assert run.valid  # advisory: dropping low values would bias the mean upwards


def test_energy_not_measurable_without_voltage_or_window_samples(clean: GaugeSeries, cal: Calibration) -> None:
    no_voltage = estimate(with_columns(clean, voltage_uv=np.full(len(clean), np.nan)), cal)
    outcome, reason = check(no_voltage, "energy_measurable")
    assert outcome == "fail" and "voltage_now unreadable in all 5700 samples" in reason and not no_voltage.valid
    current = clean.current_raw.copy()
    current[clean.t_s < WINDOWS.idle_pre[1]] = np.nan
    outcome, reason = check(estimate(with_columns(clean, current_raw=current), cal), "energy_measurable")
    assert outcome == "fail" and "idle_pre window" in reason
