from __future__ import annotations

import math

import numpy as np
import pytest

from edgebench.battery import GaugeSeries, Windows, calibrate, counter_discharge_uah
from edgebench.errors import ParseError
from edgebench.store import DeviceSample

from .synth import (N_MEASURED, T0_S, WINDOWS, GaugeSpec, clean_run, estimate, idle_recording, simulate, true_net_mj,
                    with_columns)

COMBOS = [("uA", False), ("uA", True), ("mA", False), ("mA", True)]


@pytest.mark.parametrize("unit,discharge_positive", COMBOS)
def test_energy_per_inference_lands_on_the_truth(unit: str, discharge_positive: bool) -> None:
    spec = GaugeSpec(unit=unit, discharge_positive=discharge_positive, noise_ma=8.0, offset_drift_ma_per_h=5.0)
    cal = calibrate(idle_recording(spec), source="synthetic")
    series, truth = clean_run(spec)
    run = estimate(series, cal)
    truth_mj = true_net_mj(truth)
    assert truth_mj == pytest.approx(20.0, rel=0.01)  # (1350 - 350) mW × 300 s / 15 000
    assert run.energy_per_inference_mj == pytest.approx(truth_mj, rel=0.02)
    assert run.gross_energy_per_inference_mj == pytest.approx(27.0, rel=0.02)
    assert run.idle_power_mw == pytest.approx(350, rel=0.02) and run.active_power_mw == pytest.approx(1350, rel=0.02)
    assert run.measured_seconds == 300 and run.inferences == N_MEASURED
    assert run.valid, run.invalid_reasons
    assert run.charge_counter_energy_mj == pytest.approx(run.current_integral_energy_mj, rel=0.03)


def test_millivolt_devices_give_the_same_energy() -> None:
    uv = clean_run(GaugeSpec(voltage_unit="uV"))[0]
    mv = clean_run(GaugeSpec(voltage_unit="mV"))[0]
    cal = calibrate(idle_recording(), source="s")
    assert estimate(mv, cal).energy_per_inference_mj == pytest.approx(estimate(uv, cal).energy_per_inference_mj,
                                                                      rel=0.002)


def test_the_full_path_from_raw_sysfs_text_matches_the_truth() -> None:
    """Samples as the store keeps them (text, mA, discharging positive, mV) → series → energy."""
    spec = GaugeSpec(unit="mA", discharge_positive=True, voltage_unit="mV")
    series, truth = clean_run(spec)
    bat = "/sys/class/power_supply/MainBattery"
    samples = []
    for i, t in enumerate(series.t_s):
        t_ns = int(round(t * 1e9))
        for node, column in (("current_now", series.current_raw), ("voltage_now", series.voltage_uv / 1000),
                             ("charge_counter", series.charge_counter_uah), ("temp", series.temp_decic),
                             ("capacity", series.capacity_pct)):
            value = column[i]
            samples.append(DeviceSample(t_ns, f"{bat}/{node}", None if np.isnan(value) else str(int(value))))
        samples.append(DeviceSample(t_ns, f"{bat}/status", "Discharging"))
        samples.append(DeviceSample(t_ns, "/sys/class/thermal/thermal_zone3/temp", "38000"))
    parsed = GaugeSeries.from_samples(samples, bat)
    assert parsed.voltage_source_unit == "mV"
    cal = calibrate(idle_recording(spec), source="s")
    run = estimate(parsed, cal)
    assert run.valid, run.invalid_reasons
    assert run.energy_per_inference_mj == pytest.approx(true_net_mj(truth), rel=0.02)


@pytest.mark.parametrize("profile", ["pixel-8-like", "huawei-mate-20-like"])
def test_agrees_with_the_virtual_devices_independent_gauge_model(profile: str) -> None:
    """Cross-validation against edgebench.virtual's battery model (other code, other author).

    That model adds a 2 % gain error the gauge shares between current and counter, so the estimate
    is within a few % of the truth, not exact: fuel-gauge figures are relative, same-device (§1.7).
    """
    from edgebench.virtual.gauge import BatteryModel
    from edgebench.virtual.profiles import load_profile

    spec = load_profile(profile).battery
    period = spec.update_period_ms / 1000.0

    def record(power_at, seconds: float, seed: str):  # type: ignore[no-untyped-def]
        model = BatteryModel(spec, capacity_pct=70.0, voltage_uv=3_900_000, temp_decic=300, seed=seed)
        rows = []
        t = next_sample = T0_S
        while t < T0_S + seconds:
            reading = model.step(period, power_at(t), charger_online=False, input_suspended=False)
            t += period
            while next_sample < t:  # the sampler reads the held registers every 100 ms
                rows.append((next_sample, reading))
                next_sample += 0.1
        series = GaugeSeries(
            t_s=np.array([r[0] for r in rows]), current_raw=np.array([r[1].current_now for r in rows], float),
            voltage_uv=np.array([r[1].voltage_now_uv for r in rows], float),
            charge_counter_uah=np.array([r[1].charge_counter_uah for r in rows], float),
            status=tuple(r[1].status for r in rows), temp_decic=np.array([r[1].temp_decic for r in rows], float),
            capacity_pct=np.array([r[1].capacity_pct for r in rows], float))
        return series

    def run_power(t: float) -> float:
        rel = t - T0_S
        return 1350.0 if 120 <= rel < 450 else 350.0

    cal = calibrate(record(lambda t: 350.0, 600.0, "cal"), source="virtual idle")
    assert cal.scale_to_ua == spec.unit_divisor
    assert cal.discharge_sign == (1 if spec.sign == "discharging_positive" else -1)
    run = estimate(record(run_power, 570.0, "run"), cal)
    assert run.valid, run.invalid_reasons
    # The virtual model's battery current follows system power / voltage: net ≈ 1000 mW × 300 s / N.
    assert run.energy_per_inference_mj == pytest.approx(20.0 * (1 + spec.gain_error), rel=0.04)


def test_unreadable_samples_are_skipped_not_counted_as_zero() -> None:
    series, truth = clean_run()
    current = series.current_raw.copy()
    current[::7] = np.nan  # every 7th read failed
    cal = calibrate(idle_recording(), source="s")
    run = estimate(with_columns(series, current_raw=current), cal)
    assert run.energy_per_inference_mj == pytest.approx(true_net_mj(truth), rel=0.02)


def test_no_samples_in_a_window_gives_nan_not_zero() -> None:
    series, _ = clean_run()
    cal = calibrate(idle_recording(), source="s")
    gone = series.current_raw.copy()
    gone[series.t_s > WINDOWS.idle_post[0] + 0.05] = np.nan
    run = estimate(with_columns(series, current_raw=gone), cal)
    assert math.isnan(run.idle_post_power_mw) and math.isnan(run.energy_per_inference_mj)
    assert not run.valid and any(r.startswith("energy_measurable") for r in run.invalid_reasons)
    assert run.to_json()["idle_post_power_mw"] is None


def test_zero_inferences_is_an_invalid_run_with_nan_energy() -> None:
    series, _ = clean_run()
    run = estimate(series, calibrate(idle_recording(), source="s"), inferences=0, inference_times_s=None)
    assert math.isnan(run.energy_per_inference_mj)
    assert {c.name: c.outcome for c in run.checks}["inferences"] == "fail"


def test_windows_must_be_ordered() -> None:
    with pytest.raises(ParseError, match="warmup starts"):
        Windows(idle_pre=(0, 120), warmup=(100, 150), measured=(150, 450), idle_post=(450, 570))
    with pytest.raises(ParseError, match="start < end"):
        Windows(idle_pre=(0, 120), warmup=(120, 120), measured=(150, 450), idle_post=(450, 570))


def test_counter_discharge_takes_the_held_value_at_each_edge() -> None:
    series, _ = clean_run()
    dq = counter_discharge_uah(series, *WINDOWS.measured)
    assert dq is not None and dq % 500 == 0  # whole quanta
    # ~1350 mW at ~3.85 V for 300 s is ~29 mAh.
    assert dq == pytest.approx(29_000, rel=0.08)
    assert counter_discharge_uah(with_columns(series, charge_counter_uah=np.full(len(series), np.nan)),
                                 *WINDOWS.measured) is None


def test_the_workloads_tail_after_it_is_not_taken_as_idle_baseline(cal) -> None:
    # A phone does not drop to idle when the workload stops: the SoC stays out of deep idle for a tail
    # and the gauge's current register is a low-pass, so the first seconds after the workload still
    # draw (or show) part of it. Here: 10 s idle windows, a 1 W workload, then a decay back to idle
    # (time constant 0.7 s, a MAX17047 AverageCurrent's shortest filter) plus 45 mW for 1 s (cpu.active).
    windows = Windows(idle_pre=(T0_S, T0_S + 10), warmup=(T0_S + 10, T0_S + 12), measured=(T0_S + 12, T0_S + 42),
                      idle_post=(T0_S + 42, T0_S + 52))
    times = np.arange(T0_S + 10, T0_S + 42, 0.02) + 0.001
    n = int((times >= T0_S + 12).sum())

    def power(t: np.ndarray) -> np.ndarray:
        after = t - (T0_S + 42)
        tail = np.where(after >= 0, 1000.0 * np.exp(-np.maximum(after, 0) / 0.7) + 45.0 * (after < 1.0), 0.0)
        return np.where((t >= T0_S + 10) & (t < T0_S + 42), 1350.0, 350.0 + tail)

    series, _ = simulate(power, 53.0, GaugeSpec(noise_ma=0.5))
    true_mj = 1000.0 * 30.0 / n  # the workload's own energy: 1 W over the measured window
    settled = estimate(series, cal, windows=windows, inferences=n, inference_times_s=times, expected_duration_s=52.0)
    assert abs(settled.energy_per_inference_mj - true_mj) / true_mj < 0.01
    naive = estimate(series, cal, windows=windows, inferences=n, inference_times_s=times, expected_duration_s=52.0,
                     settle_s=0.0)
    assert (naive.energy_per_inference_mj - true_mj) / true_mj < -0.03  # the tail counted as idle: low
