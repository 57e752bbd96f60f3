"""Energy per inference from ODPM power rails (docs/measurement-methodology.md
§1.5 "ODPM power rails", §1.7).

The sampler reads every `/sys/bus/iio/devices/iio:deviceN/energy_value` with the battery nodes.
Each rail's counter is cumulative energy (µWs); per window (idle_pre, measured, idle_post) the mean
power is the counter's growth between the window edges, linearly interpolated between the updates
that bracket each edge, over the window's length:

    P_w    = (E(end) - E(start)) / (end - start)          µWs / s = µW
    P_idle = mean(P_idle_pre, P_idle_post)
    E_inf  = (P_measured - P_idle) · T_measured / N        per rail, and summed over SoC rails

Rails sit downstream of the battery, so charging does not touch them; their figures are absolute
(as good as the meter), unlike the fuel gauge's relative, same-device ones (§1.7 step 7).

Update times: each row carries T=<ms>, when the meter last accumulated the rail. T's clock is the
driver's (CLOCK_BOOTTIME ms on Pixels; something else on a virtual device), so it is placed on the
sampler's CLOCK_BOOTTIME by the smallest (read time - T) of a segment: a value cannot be read
before it was accumulated. If that offset wanders by more than OFFSET_SPREAD_MAX_S the T clock is
not trusted and the first read time of each new value is used. A counter that goes backwards (a
reboot, a driver reset) starts a new segment that is stitched onto the last value before it; the
energy between the last update before the restart and the restart itself is lost (less than one
update period), and the run says how many restarts it saw.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from edgebench.battery.estimate import SETTLE_S, Windows
from edgebench.battery.summary import mean_ci95
from edgebench.errors import ParseError
from edgebench.parsers.powerstats import parse_odpm_energy_value

ENERGY_VALUE_RE = re.compile(r"/sys/bus/iio/devices/(iio:device[0-9]+)/energy_value$")
SOC_KEYWORDS = ("CPU", "GPU", "G3D", "TPU", "NPU", "DSP")
MIN_COVERAGE = 0.8  # share of a window the rail's updates must span
OFFSET_SPREAD_MAX_S = 2.0
RAILS_LABEL = "ODPM rails, absolute (SoC: CPU clusters, GPU, TPU/NPU, DSP)"


def is_soc_rail(name: str, subsystem: str | None = None) -> bool:
    """CPU clusters, GPU (G3D on Exynos/Tensor), TPU/NPU, DSP; not display, modem, Wi-Fi, memory.

    Matched on the words of the subsystem and the name (split at non-alphanumerics), by prefix, so
    `S4M_VDD_CPUCL0` and `CPU(LITTLE)` match but `VSYS_PWR_INPUT` does not match NPU.
    """
    words = re.split(r"[^A-Za-z0-9]+", f"{subsystem or ''} {name}".upper())
    return any(word.startswith(k) for word in words if word for k in SOC_KEYWORDS)


@dataclass(frozen=True, eq=False)
class RailTrace:
    """One rail's cumulative energy on the sampler's clock, stitched across counter restarts."""

    key: str  # the rail name; `iio:deviceN/NAME` when two meters report the same name
    name: str
    device: str  # iio:deviceN
    t_s: np.ndarray  # CLOCK_BOOTTIME seconds of each accumulation, increasing
    energy_uws: np.ndarray
    restarts: int
    clock: str  # "T" (the driver's stamps, offset-aligned) or "read" (first read time of each value)


@dataclass(frozen=True)
class RailRun:
    """One rail in one run. Powers in mW; None with `reason` when a window was not covered."""

    name: str
    device: str
    subsystem: str | None
    soc: bool
    idle_pre_power_mw: float | None
    measured_power_mw: float | None
    idle_post_power_mw: float | None
    idle_power_mw: float | None
    energy_per_inference_mj: float | None
    restarts: int
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class RunRails:
    """The rail figures of one run; available False (and no numbers) says why in `reason`."""

    available: bool
    reason: str | None
    rails: tuple[RailRun, ...] = ()
    soc_energy_per_inference_mj: float | None = None
    soc_reason: str | None = None  # why soc_energy_per_inference_mj is None
    measured_seconds: float | None = None
    inferences: int = 0
    notes: tuple[str, ...] = ()

    @property
    def per_rail_energy_per_inference_mj(self) -> dict[str, float]:
        return {r.name: r.energy_per_inference_mj for r in self.rails if r.energy_per_inference_mj is not None}

    def to_json(self) -> dict[str, Any]:
        return {"source": "odpm", "available": self.available, "reason": self.reason,
                "soc_energy_per_inference_mj": self.soc_energy_per_inference_mj, "soc_reason": self.soc_reason,
                "measured_seconds": self.measured_seconds, "inferences": self.inferences,
                "rails": [r.to_json() for r in self.rails], "notes": list(self.notes), "label": RAILS_LABEL}


def rail_traces(samples: Sequence[Any]) -> tuple[list[RailTrace], list[str]]:
    """Each rail's trace from the sampler's energy_value reads, and notes (unreadable reads, ...)."""
    per_rail: dict[tuple[str, str], list[tuple[float, int | None, int]]] = {}  # -> (t_read, T_ms, uWs)
    notes: list[str] = []
    bad = 0
    for sample in samples:
        t_ns, channel, text = _unpack(sample)
        match = ENERGY_VALUE_RE.search(channel)
        if match is None or text is None or not text.strip():
            continue
        try:
            parsed = parse_odpm_energy_value(text, source=channel)
        except ParseError:
            bad += 1
            continue
        device = match.group(1)
        for rail in parsed.rails:
            per_rail.setdefault((device, rail.name), []).append((t_ns / 1e9, rail.t_ms, rail.energy_uws))
    if bad:
        notes.append(f"{bad} energy_value reads did not parse and were skipped")
    names = [name for _, name in per_rail]
    traces = []
    for (device, name), rows in sorted(per_rail.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        key = name if names.count(name) == 1 else f"{device}/{name}"
        trace = _trace(key, name, device, sorted(rows, key=lambda r: r[0]))
        if trace.clock == "read":
            notes.append(f"{key}: the driver's T= stamps drift from the sampler's clock; read times used")
        traces.append(trace)
    return traces, notes


def _trace(key: str, name: str, device: str, rows: list[tuple[float, int | None, int]]) -> RailTrace:
    # Keep the first read of each new (T, value): later reads of the same update add nothing.
    points: list[tuple[float, int | None, int]] = []
    for row in rows:
        if not points or (row[1], row[2]) != (points[-1][1], points[-1][2]):
            points.append(row)
    segments: list[list[tuple[float, int | None, int]]] = []
    for p in points:
        previous = segments[-1][-1] if segments else None
        restarted = previous is not None and (p[2] < previous[2] or (
            p[1] is not None and previous[1] is not None and p[1] < previous[1]))
        if previous is None or restarted:
            segments.append([p])
        else:
            segments[-1].append(p)
    clock = "T"
    for seg in segments:
        offsets = [t - stamp / 1000.0 for t, stamp, _ in seg if stamp is not None]
        if len(offsets) != len(seg) or (offsets and max(offsets) - min(offsets) > OFFSET_SPREAD_MAX_S):
            clock = "read"
    times: list[float] = []
    energies: list[float] = []
    base = 0.0
    for index, seg in enumerate(segments):
        offset = min(t - (stamp or 0) / 1000.0 for t, stamp, _ in seg) if clock == "T" else 0.0
        if index:
            base = energies[-1] if energies else 0.0
        for t_read, stamp, uws in seg:
            t = stamp / 1000.0 + offset if clock == "T" and stamp is not None else t_read
            if times and t <= times[-1]:
                continue  # same instant on the sampler's clock: keep the first
            times.append(t)
            energies.append(base + uws)
    return RailTrace(key, name, device, np.array(times), np.array(energies, dtype=np.float64),
                     len(segments) - 1 if segments else 0, clock)


def window_power_mw(trace: RailTrace, start_s: float, end_s: float) -> tuple[float | None, str | None]:
    """Mean power (mW) of the rail over [start_s, end_s], or (None, why)."""
    t, e = trace.t_s, trace.energy_uws
    if t.size < 2:
        return None, f"{trace.key}: fewer than 2 counter updates"
    low, high = max(start_s, float(t[0])), min(end_s, float(t[-1]))
    span = end_s - start_s
    if span <= 0 or high - low < MIN_COVERAGE * span:
        covered = max(high - low, 0.0)
        return None, (f"{trace.key}: counter updates cover {covered:.3g} s of the {span:.3g} s window "
                      f"({start_s:.3f}-{end_s:.3f}); need {MIN_COVERAGE:.0%}")
    e0, e1 = np.interp([low, high], t, e)
    return float(e1 - e0) / (high - low) / 1000.0, None


def estimate_rails(samples: Sequence[Any], windows: Windows, inferences: int, *,
                   subsystems: Mapping[str, str | None] | None = None, settle_s: float = SETTLE_S) -> RunRails:
    """Per-rail window powers and energy per inference, and the SoC sum, for one run.

    `samples`: the run's (t_ns, channel, text) reads; `subsystems`: rail name -> subsystem from
    `dumpsys powerstats` (decides which rails are SoC rails together with the name). The idle
    baselines skip their first `settle_s` seconds, as the gauge's do (estimate.SETTLE_S: the
    workload's tail is on the rails too). A SoC sum ≤ 0 is not a measurement: None with the reason.
    """
    channels = {(_unpack(s)[1]) for s in samples if ENERGY_VALUE_RE.search(_unpack(s)[1])}
    if not channels:
        return RunRails(False, "no /sys/bus/iio/devices/iio:device*/energy_value was sampled in this run")
    traces, notes = rail_traces(samples)
    if not traces:
        return RunRails(False, f"{', '.join(sorted(channels))} never read (null or unparseable in every "
                        "sample): the shell user may not read it on this build", notes=tuple(notes))
    subsystems = subsystems or {}
    seconds = windows.measured[1] - windows.measured[0]
    rails = []
    base_pre, base_post = windows.baselines(settle_s)
    for trace in traces:
        subsystem = subsystems.get(trace.name)
        pre, why_pre = window_power_mw(trace, *base_pre)
        act, why_act = window_power_mw(trace, *windows.measured)
        post, why_post = window_power_mw(trace, *base_post)
        idle = (pre + post) / 2.0 if pre is not None and post is not None else None
        energy = (act - idle) * seconds / inferences if act is not None and idle is not None and inferences > 0 \
            else None
        reason = "; ".join(w for w in (why_pre, why_act, why_post) if w) or (
            None if energy is not None else "no inferences in the measured window")
        rails.append(RailRun(trace.key, trace.device, subsystem, is_soc_rail(trace.name, subsystem), pre, act, post,
                             idle, energy, trace.restarts, reason))
        if trace.restarts:
            notes.append(f"{trace.key}: counter restarted {trace.restarts}x (stitched)")
    soc = [r for r in rails if r.soc]
    soc_value: float | None = None
    soc_reason = None
    if not soc:
        soc_reason = f"no SoC rail (CPU, GPU, TPU/NPU, DSP) among {', '.join(r.name for r in rails)}"
    elif any(r.energy_per_inference_mj is None for r in soc):
        soc_reason = "; ".join(f"{r.name}: {r.reason}" for r in soc if r.energy_per_inference_mj is None)
    else:
        total = float(sum(r.energy_per_inference_mj for r in soc))  # type: ignore[misc]
        if total > 0:
            soc_value = total
        else:
            soc_reason = (f"the SoC rails' energy above idle is {total:.3g} mJ per inference (≤ 0): the workload "
                          "is not resolved above idle on the rails, so no SoC energy is measured")
    return RunRails(True, None, tuple(rails), soc_value, soc_reason, seconds, inferences, tuple(notes))


@dataclass(frozen=True)
class RailSummary:
    """SoC rail energy per inference over K runs, with the same 95 % CI as the gauge's figure."""

    value_mj: float | None
    ci_low_mj: float | None
    ci_high_mj: float | None
    ci_method: str | None  # "student_t" | None
    n_runs: int  # runs with a SoC figure
    per_rail_energy_per_inference_mj: dict[str, float]  # mean over the runs that had the rail's figure
    note: str | None = None
    label: str = RAILS_LABEL

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value_mj, "ci_low": self.ci_low_mj, "ci_high": self.ci_high_mj,
                "ci_method": self.ci_method, "runs": self.n_runs, "note": self.note, "label": self.label}


def summarize_rails(runs: Sequence[RunRails]) -> RailSummary:
    """Mean SoC rail energy per inference over the given (valid) runs, its CI, and per-rail means."""
    values = [r.soc_energy_per_inference_mj for r in runs if r.soc_energy_per_inference_mj is not None]
    per_rail: dict[str, list[float]] = {}
    for run in runs:
        for name, value in run.per_rail_energy_per_inference_mj.items():
            per_rail.setdefault(name, []).append(value)
    means = {name: float(np.mean(v)) for name, v in per_rail.items()}
    if not values:
        reasons = sorted({r.soc_reason or r.reason or "" for r in runs} - {""})
        return RailSummary(None, None, None, None, 0, means,
                           note="; ".join(reasons) or f"no rail figures in {len(runs)} runs")
    ci = mean_ci95(values)
    notes = []
    if len(values) < 2:
        notes.append("1 run with a rail figure: no confidence interval")
    elif ci is None:
        notes.append("all runs gave the same rail value: no spread to build an interval from")
    if len(values) < len(runs):
        notes.append(f"{len(runs) - len(values)} of {len(runs)} runs had no SoC rail figure")
    return RailSummary(float(np.mean(values)), None if ci is None else ci[0], None if ci is None else ci[1],
                       None if ci is None else ci[2], len(values), means, "; ".join(notes) or None)


def _unpack(sample: Any) -> tuple[int, str, str | None]:
    if hasattr(sample, "t_ns"):
        return sample.t_ns, sample.channel, sample.value_text
    t_ns, channel, text = sample
    return t_ns, channel, text
