"""The measured-window markers a battery orchestrator sets, and the host-only energy truth they yield.

Marker protocol (what a battery-profiling run does on a virtual device):

    setprop debug.edgebench.window "<run_id> start"              # measured window begins
    setprop debug.edgebench.window "<run_id> end <inferences>"   # it ends; N inferences ran in it

The device's `setprop` appends each value with the device's CLOCK_BOOTTIME (from /proc/uptime,
10 ms resolution) to /data/vendor/edgebench/window_events. The device's server reads that file
every gauge period and, at each `end`, writes one JSON line to `<device folder>/energy_truth.jsonl`
on the HOST (outside the device's `/`, so never readable through adb):

    run_id, start_boottime_s, end_boottime_s, window_s, inferences,
    workload_energy_mj        the workload's MARGINAL energy in the window: what the device drew
                              minus what the same device would have drawn without the workload
                              (same screen, radio, charger and background: power_soc.MarginalSocPower
                              runs a second SoC model fed the sampler's load alone). The tail and
                              raised frequency a burst leaves count while they fall in the window;
                              gauge lag and noise never do (what a net-of-idle lab estimate measures)
    attributed_energy_mj      diagnostic, not the truth: the workload's share of busy power plus the
                              tail it left (power_soc.SocPeriod.attributed_mw), larger than marginal
    workload_cpu_s, mean_workload_power_mw,
    energy_per_inference_mj   workload_energy_mj / inferences (null when inferences is 0 or absent)
    device_energy_mj          everything the battery supplied to the system in the window
    workload_trace            [[boottime_s, workload mJ since start], ...] at every gauge period of the
                              window (device clock), so the truth of any part of it (the estimator's
                              measured window, without the warm-up's model load or the driver's
                              bookkeeping at the end) is `workload_energy_between(record, t0, t1)`
    status                    ok | no_inferences | no_start (an end without a start: energy null)

run_id: 1-64 characters of [A-Za-z0-9._:-]. A second `start` of the same run_id restarts it.
`edgebench virtual-device energy-truth SERIAL --json` prints the records.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from edgebench.errors import UsageError

WINDOW_PROPERTY = "debug.edgebench.window"
EVENTS_FILE = "data/vendor/edgebench/window_events"  # relative to the device root
TRUTH_FILE = "energy_truth.jsonl"  # in the device folder, next to root/
_RUN_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@dataclass(frozen=True)
class Marker:
    t_s: float  # CLOCK_BOOTTIME seconds
    run_id: str
    kind: str  # start | end
    inferences: int | None


def parse_marker(line: str) -> Marker | None:
    """One window_events line, or None when it is not a well-formed marker (device input: never trusted)."""
    parts = line.split()
    if len(parts) < 3:
        return None
    try:
        t_s = float(parts[0])
    except ValueError:
        return None
    run_id, kind = parts[1], parts[2]
    if not _RUN_ID.fullmatch(run_id):
        return None
    if kind == "start" and len(parts) == 3:
        return Marker(t_s, run_id, "start", None)
    if kind == "end" and len(parts) in (3, 4):
        inferences = None
        if len(parts) == 4:
            if not parts[3].isdigit():
                return None
            inferences = int(parts[3])
        return Marker(t_s, run_id, "end", inferences)
    return None


@dataclass(frozen=True)
class EnergyPoint:
    """Cumulative figures at one instant (field order matters: power_host interpolates them as a tuple)."""

    workload_mj: float  # marginal
    workload_cpu_s: float
    device_mj: float
    attributed_mj: float = 0.0


class WindowTracker:
    """Turns markers into truth records; energy_at(t) gives cumulative energies at boottime t."""

    def __init__(self, truth_path: Path, meta: dict[str, Any]) -> None:
        self.truth_path = truth_path
        self.meta = meta
        self.open: dict[str, tuple[float, EnergyPoint]] = {}
        self.traces: dict[str, list[list[float]]] = {}

    def sample(self, t_s: float, point: EnergyPoint) -> None:
        """One gauge period's cumulative energy (device clock): traced for every open window."""
        for run_id, (t0, p0) in self.open.items():
            if t_s > t0:
                self.traces[run_id].append([round(t_s, 3), round(point.workload_mj - p0.workload_mj, 3)])

    def feed(self, marker: Marker, energy_at: Callable[[float], EnergyPoint]) -> dict[str, Any] | None:
        point = energy_at(marker.t_s)
        if marker.kind == "start":
            self.open[marker.run_id] = (marker.t_s, point)
            self.traces[marker.run_id] = [[round(marker.t_s, 3), 0.0]]
            return None
        started = self.open.pop(marker.run_id, None)
        trace = [p for p in self.traces.pop(marker.run_id, []) if p[0] < marker.t_s]
        record: dict[str, Any] = {"run_id": marker.run_id, "end_boottime_s": round(marker.t_s, 3),
                        "inferences": marker.inferences, **self.meta}
        if started is None:
            record.update(status="no_start", start_boottime_s=None, window_s=None, workload_energy_mj=None,
                          attributed_energy_mj=None, workload_cpu_s=None, mean_workload_power_mw=None, energy_per_inference_mj=None,
                          device_energy_mj=None)
        else:
            t0, p0 = started
            window = max(marker.t_s - t0, 0.0)
            workload = point.workload_mj - p0.workload_mj
            per_inference = workload / marker.inferences if marker.inferences else None
            record.update(
                status="ok" if per_inference is not None else "no_inferences",
                start_boottime_s=round(t0, 3), window_s=round(window, 3),
                workload_energy_mj=round(workload, 3),
                attributed_energy_mj=round(point.attributed_mj - p0.attributed_mj, 3),
                workload_cpu_s=round(point.workload_cpu_s - p0.workload_cpu_s, 3),
                mean_workload_power_mw=round(workload / window, 3) if window > 0 else None,
                energy_per_inference_mj=None if per_inference is None else round(per_inference, 6),
                device_energy_mj=round(point.device_mj - p0.device_mj, 3),
                workload_trace=trace + [[round(marker.t_s, 3), round(workload, 3)]])
        with open(self.truth_path, "a") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")
        return record


def workload_energy_between(record: dict[str, Any], start_s: float, end_s: float) -> float | None:
    """The workload's true energy (mJ) between two device boottimes inside a record's window, linear
    between gauge periods; None when the record has no trace or [start_s, end_s] leaves it."""
    trace = record.get("workload_trace") or []
    if len(trace) < 2 or not trace[0][0] <= start_s <= end_s <= trace[-1][0]:
        return None
    times, energies = [p[0] for p in trace], [p[1] for p in trace]

    def at(t: float) -> float:
        i = max(k for k, tk in enumerate(times) if tk <= t)
        if i == len(times) - 1 or times[i + 1] == times[i]:
            return float(energies[i])
        f = (t - times[i]) / (times[i + 1] - times[i])
        return float(energies[i] + (energies[i + 1] - energies[i]) * f)

    return at(end_s) - at(start_s)


def read_truth(folder: Path) -> list[dict[str, Any]]:
    """Every truth record of a device folder, in the order the windows ended."""
    path = folder / TRUTH_FILE
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}:{number}: not a JSON line ({exc}); the truth log is damaged") from exc
    return records
