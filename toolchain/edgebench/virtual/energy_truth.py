"""The measured-window markers a battery orchestrator sets, and the host-only energy truth they yield.

Marker protocol (what a battery-profiling run does on a virtual device):

    setprop debug.edgebench.window "<run_id> start"              # measured window begins
    setprop debug.edgebench.window "<run_id> end <inferences>"   # it ends; N inferences ran in it

The device's `setprop` appends each value with the device's CLOCK_BOOTTIME (from /proc/uptime,
10 ms resolution) to /data/vendor/edgebench/window_events. The device's server reads that file
every gauge period and, at each `end`, writes one JSON line to `<device folder>/energy_truth.jsonl`
on the HOST (outside the device's `/`, so never readable through adb):

    run_id, start_boottime_s, end_boottime_s, window_s, inferences,
    workload_energy_mj        CPU energy of the device's processes in the window, sampler excluded:
                              the part of the drain the workload caused (no idle floor, no screen,
                              no radio, no gauge noise)
    workload_cpu_s, mean_workload_power_mw,
    energy_per_inference_mj   workload_energy_mj / inferences (null when inferences is 0 or absent)
    device_energy_mj          everything the battery supplied to the system in the window
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
    workload_mj: float
    workload_cpu_s: float
    device_mj: float


class WindowTracker:
    """Turns markers into truth records; energy_at(t) gives cumulative energies at boottime t."""

    def __init__(self, truth_path: Path, meta: dict[str, Any]) -> None:
        self.truth_path = truth_path
        self.meta = meta
        self.open: dict[str, tuple[float, EnergyPoint]] = {}

    def feed(self, marker: Marker, energy_at: Callable[[float], EnergyPoint]) -> dict[str, Any] | None:
        point = energy_at(marker.t_s)
        if marker.kind == "start":
            self.open[marker.run_id] = (marker.t_s, point)
            return None
        started = self.open.pop(marker.run_id, None)
        record: dict[str, Any] = {"run_id": marker.run_id, "end_boottime_s": round(marker.t_s, 3),
                        "inferences": marker.inferences, **self.meta}
        if started is None:
            record.update(status="no_start", start_boottime_s=None, window_s=None, workload_energy_mj=None,
                          workload_cpu_s=None, mean_workload_power_mw=None, energy_per_inference_mj=None,
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
                workload_cpu_s=round(point.workload_cpu_s - p0.workload_cpu_s, 3),
                mean_workload_power_mw=round(workload / window, 3) if window > 0 else None,
                energy_per_inference_mj=None if per_inference is None else round(per_inference, 6),
                device_energy_mj=round(point.device_mj - p0.device_mj, 3))
        with open(self.truth_path, "a") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")
        return record


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
