"""The SoC power of a virtual device: per-cluster power by frequency step, DVFS that follows load,
a tail after bursts and a radio that wakes on its own. The host-side truth integrates this; the
device shows only what a phone shows (its fuel gauge, cpufreq nodes, ODPM rails).

The `soc_power` section of a profile's battery_model has the shape of Android's power_profile.xml
(values in mA at the battery, as power_profile.xml gives them; `nominal_voltage_mv` turns them into mW):

  clusters[i]: core_speeds_khz / core_power_ma   (cpu.core_speeds.clusterN / cpu.core_power.clusterN:
               one busy core at each step), cluster_power_ma (cpu.cluster_power.clusterN)
  cpu_suspend_ma, cpu_idle_ma, cpu_active_ma     (cpu.suspend, cpu.idle, cpu.active)
  governor: up_steps_per_period (ramp up), down_hold_ms (how long lower demand must last before the
            frequency falls one step per period), target_load (schedutil's 1/1.25 = 0.8)
  tail_ms   after the last busy period the SoC stays out of deep idle (cpu.active, cluster power)
  deep_idle_residency_ms  cpuidle's target residency of the SoC's deepest idle state: a load that wakes
            a CPU more often than this keeps the SoC out of it (awake, as in the tail), however little
            CPU time it uses (a 1 kHz timer loop); wake-ups are voluntary context switches (cpu_account.py)
  radio:    active_ma (radio.active), every_s / active_ms (a background wake-up: sync, paging) + tail_ms
  notes     where the numbers come from

The profile's own cpufreq table gives the steps; power at a step is interpolated from the source
table by frequency (clamped at its ends), since the source phone's table rarely matches the profile's.

The workload's true energy is MARGINAL (`MarginalSocPower`): what the device drew minus what the same
device would have drawn without the workload, from a second instance of the model fed the background
(the sampler) alone, with the same governor, ceilings and radio. A burst's tail and the frequency it left
raised count while they last; a background's own bursts and tails cancel. This is what a lab measures
(energy in the run minus idle power x time). `SocPeriod.attributed_mw` is the other reading (the
workload's share of busy power and of the tail it left), kept as a diagnostic.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgebench.errors import UsageError

BUSY_UTILISATION = 0.05  # below this (the sampler, the shell) the SoC counts as idle: the tail runs out


@dataclass(frozen=True)
class ClusterPower:
    core_speeds_khz: tuple[int, ...]
    core_power_ma: tuple[float, ...]
    cluster_power_ma: float


@dataclass(frozen=True)
class SocPowerSpec:
    nominal_voltage_mv: float
    clusters: tuple[ClusterPower, ...]
    cpu_suspend_ma: float
    cpu_idle_ma: float
    cpu_active_ma: float
    up_steps_per_period: int
    down_hold_ms: float
    target_load: float
    tail_ms: float
    deep_idle_residency_ms: float
    radio_active_ma: float
    radio_every_s: float
    radio_active_ms: float
    notes: str

    def mw(self, ma: float) -> float:
        return ma * self.nominal_voltage_mv / 1000.0


def _numbers(data: dict[str, Any], key: str, where: str) -> tuple[float, ...]:
    value = data.get(key)
    if not isinstance(value, list) or not value or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in value):
        raise UsageError(f"profile {where}: battery_model.soc_power {key!r} needs a list of non-negative numbers, "
                         f"got {value!r}")
    return tuple(float(v) for v in value)


def _number(data: dict[str, Any], key: str, where: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise UsageError(f"profile {where}: battery_model.soc_power.{key} should be a non-negative number, "
                         f"got {value!r}")
    return float(value)


def parse_soc_power(data: Any, where: str, n_clusters: int) -> SocPowerSpec:
    if not isinstance(data, dict):
        raise UsageError(f"profile {where}: battery_model needs 'soc_power' (power_profile.xml-shaped CPU power by "
                         "frequency); see edgebench/virtual/power_soc.py")
    clusters_data = data.get("clusters")
    if not isinstance(clusters_data, list) or len(clusters_data) != n_clusters:
        raise UsageError(f"profile {where}: battery_model.soc_power.clusters needs {n_clusters} entries "
                         f"(one per CPU cluster), got {clusters_data!r:.80}")
    clusters = []
    for index, item in enumerate(clusters_data):
        here = f"{where} cluster {index}"
        speeds, power = _numbers(item, "core_speeds_khz", here), _numbers(item, "core_power_ma", here)
        if len(speeds) != len(power) or list(speeds) != sorted(speeds):
            raise UsageError(f"profile {here}: core_speeds_khz must be ascending and as long as core_power_ma "
                             f"({len(speeds)} speeds, {len(power)} powers)")
        clusters.append(ClusterPower(tuple(int(s) for s in speeds), power, _number(item, "cluster_power_ma", here)))
    governor, radio = data.get("governor", {}), data.get("radio", {})
    return SocPowerSpec(
        nominal_voltage_mv=_number(data, "nominal_voltage_mv", where), clusters=tuple(clusters),
        cpu_suspend_ma=_number(data, "cpu_suspend_ma", where), cpu_idle_ma=_number(data, "cpu_idle_ma", where),
        cpu_active_ma=_number(data, "cpu_active_ma", where),
        up_steps_per_period=max(1, int(_number(governor, "up_steps_per_period", where))),
        down_hold_ms=_number(governor, "down_hold_ms", where),
        target_load=min(max(_number(governor, "target_load", where), 0.1), 1.0),
        tail_ms=_number(data, "tail_ms", where), deep_idle_residency_ms=_number(data, "deep_idle_residency_ms", where),
        radio_active_ma=_number(radio, "active_ma", where), radio_every_s=max(_number(radio, "every_s", where), 1.0),
        radio_active_ms=_number(radio, "active_ms", where), notes=str(data.get("notes", "")))


@dataclass(frozen=True)
class SocPeriod:
    """One period's SoC power (mW, mean over the period) and the frequencies it ran at."""

    cpu_mw: float  # all CPU power: cores, clusters, active/idle/suspend, tail
    attributed_mw: float  # the workload's share of the busy power and of the tail it left (not marginal)
    cluster_mw: tuple[float, ...]  # per cluster: its cores and cluster power
    # Per cluster, what its ODPM rail carries: cluster_mw plus a share of the SoC-wide cpu.active
    # (tail included) split by the cluster's busy time (all on cluster 0 when nothing ran), and on
    # cluster 0 the constant cpu.idle/suspend. It sums to cpu_mw: a phone's CPU rails meter the CPU's
    # whole draw, not a part.
    rail_mw: tuple[float, ...]
    radio_mw: float  # radio wake-ups above the radio's idle (0 in airplane mode)
    freq_khz: tuple[int, ...]  # what each cluster ran at in this period


class SocPowerModel:
    """Frequency governor + power per period. Work runs at host speed: frequency changes power, not speed."""

    def __init__(self, spec: SocPowerSpec, steps_khz: list[list[int]], seed: str) -> None:
        self.spec = spec
        self.steps = [sorted(s) for s in steps_khz]
        # Power of one busy core at each of the profile's own steps, interpolated from the source table.
        self.core_mw = [[spec.mw(float(np.interp(f, c.core_speeds_khz, c.core_power_ma))) for f in steps]
                        for c, steps in zip(spec.clusters, self.steps)]
        self.index = [0] * len(self.steps)  # each cluster starts at its lowest step
        self.low_since_s = [0.0] * len(self.steps)  # how long demand has been below the current step
        self.since_busy_s = float("inf")
        self.tail_share = 0.0  # the workload's share of the last busy period
        self.rng = random.Random(f"radio-{seed}")
        self.next_radio_s = self.rng.uniform(0.0, spec.radio_every_s)
        self.radio_left_s = 0.0
        self.clock_s = 0.0

    def freq_khz(self, cluster: int, ceiling_khz: int) -> int:
        """The governor's current request for a cluster (what scaling_cur_freq shows)."""
        return self.steps[cluster][self._capped(cluster, ceiling_khz)]

    def step(self, dt_s: float, cluster_cpu_s: list[float], workload_cpu_s: list[float],
             ceilings_khz: list[int], radio_on: bool, peak_cpu_s: list[float] | None = None,
             wakeups: float = 0.0) -> SocPeriod:
        """`cluster_cpu_s`: busy core-seconds per cluster in this period (the workload's part in
        `workload_cpu_s`); `peak_cpu_s`: per cluster, the busiest single process's seconds there
        (the load of the busiest CPU, which the governor follows; default: cluster_cpu_s);
        `wakeups`: how often the device's processes were woken from a sleep in the period, all of them together."""
        s = self.spec
        index = [self._capped(i, ceilings_khz[i]) for i in range(len(self.steps))]
        busy = sum(cluster_cpu_s) / dt_s > BUSY_UTILISATION
        # Woken more often than the deepest state's residency: cpuidle never picks it (awake, like the tail).
        wakes_often = wakeups / dt_s * s.deep_idle_residency_ms / 1000.0 >= 1.0
        self.since_busy_s = 0.0 if busy or wakes_often else self.since_busy_s + dt_s
        in_tail = busy or wakes_often or self.since_busy_s * 1000.0 < s.tail_ms
        if busy:  # whoever kept the SoC busy owns the tail that follows (attributed reading)
            self.tail_share = sum(workload_cpu_s) / max(sum(cluster_cpu_s), 1e-12)
        cluster_mw, attributed_mw, tail_mw = [], 0.0, 0.0
        active_fraction = min(1.0, sum(cluster_cpu_s) / dt_s)
        for i, used_s in enumerate(cluster_cpu_s):
            util = min(1.0, used_s / dt_s)  # how much of the period the cluster had work
            own_mw = s.mw(s.clusters[i].cluster_power_ma)
            cores = self.core_mw[i][index[i]] * used_s / dt_s
            if used_s > 0:  # cluster power while its CPUs run...
                cluster_mw.append(cores + own_mw * util)
                attributed_mw += (cores + own_mw * util) * workload_cpu_s[i] / used_s
            else:  # ...and in the tail, while its frequency is still raised
                raised = in_tail and not busy and index[i] > 0
                cluster_mw.append(own_mw if raised else 0.0)
                tail_mw += own_mw if raised else 0.0
        total_busy = sum(cluster_cpu_s)
        active_mw = s.mw(s.cpu_active_ma) * active_fraction
        if total_busy > 0:
            attributed_mw += active_mw * sum(workload_cpu_s) / total_busy
        # Busy, woken often or in the tail, the SoC is out of deep idle for the whole period: cpu.active
        # in full, also in a period its CPUs ran only a little of (else such a period would cost less
        # than the idle tail after it, and a light load would read below its own absence).
        if in_tail:
            tail_mw += s.mw(s.cpu_active_ma) - active_mw
            active_mw = s.mw(s.cpu_active_ma)
        attributed_mw += tail_mw * self.tail_share
        # cpu.idle is drawn whenever the device is awake (adb keeps it from suspending); cpu.active
        # comes on top while a CPU runs (Pixel files list idle > active: running never saves power).
        base_mw = s.mw(s.cpu_suspend_ma) + s.mw(s.cpu_idle_ma)
        freqs = tuple(self.steps[i][index[i]] for i in range(len(self.steps)))
        shares = [used / total_busy for used in cluster_cpu_s] if total_busy > 0 else \
            [1.0] + [0.0] * (len(cluster_cpu_s) - 1)
        rail_mw = tuple(own + active_mw * share + (base_mw if i == 0 else 0.0)
                        for i, (own, share) in enumerate(zip(cluster_mw, shares)))
        self._govern(dt_s, peak_cpu_s if peak_cpu_s is not None else cluster_cpu_s, ceilings_khz)
        return SocPeriod(cpu_mw=sum(cluster_mw) + active_mw + base_mw, attributed_mw=attributed_mw,
                         cluster_mw=tuple(cluster_mw), rail_mw=rail_mw, radio_mw=self._radio(dt_s) if radio_on else 0.0,
                         freq_khz=freqs)

    def _capped(self, cluster: int, ceiling_khz: int) -> int:
        allowed = [i for i, f in enumerate(self.steps[cluster]) if f <= ceiling_khz] or [0]
        return min(self.index[cluster], allowed[-1])

    def _govern(self, dt_s: float, load_cpu_s: list[float], ceilings_khz: list[int]) -> None:
        """schedutil-like: next frequency = util / target_load x max, reached over a ramp up; down
        one step per period once demand stayed lower for down_hold_ms (so a burst leaves a tail)."""
        s = self.spec
        for i, steps in enumerate(self.steps):
            util = min(1.0, load_cpu_s[i] / dt_s)
            wanted_khz = util / s.target_load * steps[-1]
            top = max([k for k, f in enumerate(steps) if f <= ceilings_khz[i]] or [0])
            target = min(next((k for k, f in enumerate(steps) if f >= wanted_khz), len(steps) - 1), top)
            current = min(self.index[i], top)
            if target > current:
                self.index[i] = min(target, current + s.up_steps_per_period)
                self.low_since_s[i] = 0.0
            elif target < current:
                self.low_since_s[i] += dt_s
                self.index[i] = current - 1 if self.low_since_s[i] * 1000.0 >= s.down_hold_ms else current
            else:
                self.index[i] = current
                self.low_since_s[i] = 0.0

    def _radio(self, dt_s: float) -> float:
        """Mean extra radio power (mW) over the period: a background wake-up every ~every_s seconds."""
        s = self.spec
        self.clock_s += dt_s
        on_s = 0.0
        if self.radio_left_s > 0:
            on_s = min(self.radio_left_s, dt_s)
            self.radio_left_s -= on_s
        if self.clock_s >= self.next_radio_s:
            self.next_radio_s = self.clock_s + s.radio_every_s * self.rng.uniform(0.5, 1.5)
            self.radio_left_s = s.radio_active_ms / 1000.0
        return s.mw(s.radio_active_ma) * on_s / dt_s


class MarginalSocPower:
    """The device's SoC model and its counterfactual: the same model, seed and ceilings fed only the
    background's CPU time (the sampler's), so the difference of their power is what the workload added."""

    def __init__(self, spec: SocPowerSpec, steps_khz: list[list[int]], seed: str) -> None:
        self.device = SocPowerModel(spec, steps_khz, seed)
        self.without_workload = SocPowerModel(spec, steps_khz, seed)  # same seed: the same radio wake-ups

    def step(self, dt_s: float, cluster_cpu_s: list[float], workload_cpu_s: list[float],
             ceilings_khz: list[int], radio_on: bool, peak_cpu_s: list[float],
             background_peak_cpu_s: list[float], wakeups: float = 0.0,
             background_wakeups: float = 0.0) -> tuple[SocPeriod, float]:
        """The device's period and the workload's marginal power (mW, the difference as it is, never
        clamped); arguments as SocPowerModel.step, `background_peak_cpu_s` and `background_wakeups`
        the background's alone."""
        period = self.device.step(dt_s, cluster_cpu_s, workload_cpu_s, ceilings_khz, radio_on, peak_cpu_s, wakeups)
        background = [max(used - work, 0.0) for used, work in zip(cluster_cpu_s, workload_cpu_s)]
        without = self.without_workload.step(dt_s, background, [0.0] * len(background), ceilings_khz, radio_on,
                                             background_peak_cpu_s, background_wakeups)
        return period, (period.cpu_mw + period.radio_mw) - (without.cpu_mw + without.radio_mw)
