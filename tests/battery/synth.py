"""A synthetic fuel gauge that behaves like a real one, with known truth, for the battery tests.

Like a Maxim MAX17047 (its datasheet's figures): the current register holds the mean current of each 175.8 ms
conversion until the next one (plus read noise and an offset that drifts), voltage_now holds the
cell voltage (OCV minus I·R) at 0.625 mV resolution, the charge counter integrates the gauge's
current (no read noise) floored to 0.5 mAh. The sampler reads every 100 ms (with jitter) what the
registers hold at that instant; the counter, temperature and capacity every 10th sample.
Printed in µA or mA, with either sign convention, voltage in µV or mV.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from edgebench.battery import GaugeSeries, Windows
from edgebench.battery.checks import ThermalEvidence

T0_S = 1000.0  # CLOCK_BOOTTIME at the start of the recording
R_OHM = 0.12


@dataclass(frozen=True)
class GaugeSpec:
    unit: str = "uA"  # "uA" or "mA"
    discharge_positive: bool = False  # kernel ABI: discharging reads negative
    voltage_unit: str = "uV"
    update_period_s: float = 0.1758
    quantum_uah: float = 500.0
    noise_ma: float = 3.0
    offset_ma: float = 0.4
    offset_drift_ma_per_h: float = 2.0
    sample_period_s: float = 0.1
    counter_every: int = 10
    seed: int = 1


@dataclass
class Truth:
    """The true battery power on a fine time grid (8 points per conversion)."""

    t_s: np.ndarray = field(repr=False)
    power_mw: np.ndarray = field(repr=False)

    def mean_power_mw(self, start: float, end: float) -> float:
        keep = (self.t_s >= start) & (self.t_s < end)
        return float(self.power_mw[keep].mean())


def simulate(power_fn: Callable[[np.ndarray], np.ndarray], duration_s: float, spec: GaugeSpec = GaugeSpec(), *,
             charge_uah: float = 3_000_000.0) -> tuple[GaugeSeries, Truth]:
    """Record `duration_s` seconds of a battery delivering power_fn(t) mW (negative = charging)."""
    rng = np.random.default_rng(spec.seed)
    period = spec.update_period_s
    n_periods = int(math.ceil(duration_s / period)) + 2
    sub = 8  # truth resolution: 8 points per conversion
    t_fine = T0_S + (np.arange(n_periods * sub) + 0.5) * (period / sub)
    p_fine = np.asarray(power_fn(t_fine), dtype=np.float64)
    ocv_uv = 3.95e6 - 80.0 * (t_fine - T0_S)  # ~0.29 V/h sag: slow, like a real discharge
    # P = V·I with V = OCV - I·R: solve the quadratic for I (µA), positive = discharging.
    ocv_v = ocv_uv / 1e6
    i_a = (ocv_v - np.sqrt(ocv_v ** 2 - 4 * R_OHM * p_fine / 1000.0)) / (2 * R_OHM)
    v_fine_uv = (ocv_v - i_a * R_OHM) * 1e6
    i_fine_ua = i_a * 1e6
    i_period = i_fine_ua.reshape(n_periods, sub).mean(axis=1)
    v_period = v_fine_uv.reshape(n_periods, sub)[:, sub // 2]
    t_period_end = T0_S + (np.arange(n_periods) + 1) * period
    hours = (t_period_end - T0_S) / 3600.0
    gauge_ua = i_period + (spec.offset_ma + spec.offset_drift_ma_per_h * hours) * 1000.0
    read_ua = gauge_ua + rng.normal(0.0, spec.noise_ma * 1000.0, n_periods)
    counter = charge_uah - np.cumsum(gauge_ua * period / 3600.0)
    counter_printed = np.floor(counter / spec.quantum_uah) * spec.quantum_uah
    sign = 1.0 if spec.discharge_positive else -1.0
    divisor = 1000.0 if spec.unit == "mA" else 1.0
    current_printed = np.round(read_ua / divisor) * sign
    v_printed = np.round(v_period / 625.0) * 625.0
    if spec.voltage_unit == "mV":
        v_printed = np.round(v_printed / 1000.0)

    n_samples = int(duration_s / spec.sample_period_s)
    t_samples = T0_S + np.arange(n_samples) * spec.sample_period_s + rng.uniform(0.0, 0.004, n_samples)
    # What the registers hold at time t: the last completed conversion (none yet: the first one).
    k = np.clip(np.floor((t_samples - T0_S) / period).astype(int) - 1, 0, n_periods - 1)
    every = np.arange(n_samples) % spec.counter_every == 0
    series = GaugeSeries(
        t_s=t_samples, current_raw=current_printed[k],
        voltage_uv=v_printed[k] * (1000.0 if spec.voltage_unit == "mV" else 1.0),
        charge_counter_uah=np.where(every, counter_printed[k], np.nan),
        status=("Discharging",) * n_samples,
        temp_decic=np.where(every, 300.0, np.nan), capacity_pct=np.where(every, 70.0, np.nan),
        voltage_source_unit=spec.voltage_unit)
    power_true = v_fine_uv * i_fine_ua * 1e-9
    return series, Truth(t_s=t_fine, power_mw=power_true)


# A standard run: 120 s idle, 30 s warm-up, 300 s measured, 120 s idle; one inference every 20 ms.
IDLE_MW = 350.0
ACTIVE_MW = 1350.0
WINDOWS = Windows(idle_pre=(T0_S, T0_S + 120), warmup=(T0_S + 120, T0_S + 150),
                  measured=(T0_S + 150, T0_S + 450), idle_post=(T0_S + 450, T0_S + 570))
RUN_SECONDS = 570.0
INFERENCE_PERIOD_S = 0.02
INFERENCE_TIMES = np.arange(WINDOWS.warmup[0], WINDOWS.measured[1], INFERENCE_PERIOD_S) + 0.001
N_MEASURED = int(((INFERENCE_TIMES >= WINDOWS.measured[0]) & (INFERENCE_TIMES <= WINDOWS.measured[1])).sum())


def run_power(idle_mw: float = IDLE_MW, active_mw: float = ACTIVE_MW, post_idle_mw: float | None = None
              ) -> Callable[[np.ndarray], np.ndarray]:
    """Idle, then the workload (with a slow wobble and per-inference ripple), then idle again."""
    post = idle_mw if post_idle_mw is None else post_idle_mw

    def power(t: np.ndarray) -> np.ndarray:
        rel = t - T0_S
        active = (rel >= 120) & (rel < 450)
        wobble = 40.0 * np.sin(2 * np.pi * rel / 37.0) + 60.0 * np.sign(np.sin(2 * np.pi * rel / INFERENCE_PERIOD_S))
        return np.where(active, active_mw + wobble, np.where(rel >= 450, post, idle_mw))

    return power


def true_net_mj(truth: Truth) -> float:
    w = WINDOWS
    idle = (truth.mean_power_mw(*w.idle_pre) + truth.mean_power_mw(*w.idle_post)) / 2
    seconds = w.measured[1] - w.measured[0]
    return (truth.mean_power_mw(*w.measured) - idle) * seconds / N_MEASURED


def clean_run(spec: GaugeSpec = GaugeSpec(), **power_kwargs: float) -> tuple[GaugeSeries, Truth]:
    return simulate(run_power(**power_kwargs), RUN_SECONDS, spec)


def idle_recording(spec: GaugeSpec = GaugeSpec(), seconds: float = 600.0, idle_mw: float = IDLE_MW
                   ) -> GaugeSeries:
    """What §1.3 calibrates from: ≥ 10 min quiet discharge."""
    series, _ = simulate(lambda t: np.full(t.shape, idle_mw), seconds, replace(spec, seed=spec.seed + 100))
    return series


def with_columns(series: GaugeSeries, **changes: object) -> GaugeSeries:
    """A copy of `series` with some columns replaced (GaugeSeries is frozen)."""
    return replace(series, **changes)


# Thermal status 0 read before and after the run; 300 cooling-device readings at 0 in the measured window.
CLEAN_THERMAL = ThermalEvidence(status_at_start=0, status_at_end=0, cooling_samples_in_window=300,
                                cooling_max_in_window=("cooling_device0", 0, WINDOWS.measured[0] + 1.0))


def estimate(series: GaugeSeries, calibration, **overrides):  # type: ignore[no-untyped-def]
    """estimate_run with a clean lab's inputs; override any keyword to craft a failure."""
    from edgebench.battery import estimate_run

    kwargs = dict(inference_times_s=INFERENCE_TIMES, sample_period_s=0.1, input_suspended=True,
                  updates_stopped=False, thermal=CLEAN_THERMAL, cooling_max_state=0, screen_changed=False,
                  airplane_changed=False, expected_duration_s=RUN_SECONDS, shortened_reason=None)
    windows = overrides.pop("windows", WINDOWS)
    inferences = overrides.pop("inferences", N_MEASURED)
    kwargs.update(overrides)
    return estimate_run(series, calibration, windows, inferences, **kwargs)
