"""Battery/thermal traces to replay a policy over: a CSV, or a stored run's device samples.

CSV: a header naming time_s, battery_pct (or level / battery_level / capacity), charging and thermal_status;
comma, semicolon or tab separated (a semicolon file may write decimals with a comma), UTF-8 with or without
a BOM, any line ending. charging: true/false, 1/0, yes/no, or the power_supply status text (Charging, Full =
charging; Discharging, Not charging = not).

A stored run (`run:RUN_ID`): the sampler's power_supply `capacity` (%) and `status` nodes over time
(report/traces.py reads the same nodes). The sampler does not read the framework thermal status, so the
run's recorded status (its thermal check: status at start and end, or the maximum) applies throughout;
a run without one needs --thermal-status.
"""
from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from edgebench.errors import UsageError
from edgebench.policy.measured import run_thermal_status
from edgebench.records import RunRecord
from edgebench.store import DeviceSample

COLUMN_NAMES = {
    "time_s": ("time_s", "t_s", "time", "seconds"),
    "battery_pct": ("battery_pct", "level", "battery_level", "battery_level_pct", "capacity", "battery"),
    "charging": ("charging", "is_charging", "battery_status", "charge_status"),
    "thermal_status": ("thermal_status", "thermal", "thermal_state"),
}
TRUE = {"true", "1", "yes", "y", "charging", "full"}
FALSE = {"false", "0", "no", "n", "discharging", "not charging", "not_charging"}
_CAPACITY = re.compile(r"/power_supply/[^/]+/capacity$")
_STATUS = re.compile(r"/power_supply/[^/]+/status$")


@dataclass(frozen=True)
class TracePoint:
    time_s: float
    battery_pct: float
    charging: bool
    thermal_status: int


@dataclass(frozen=True)
class Trace:
    points: tuple[TracePoint, ...]
    source: str
    notes: tuple[str, ...] = ()


def _charging(text: str, where: str) -> bool:
    value = text.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise UsageError(f"{where}: charging must be true/false, 1/0, yes/no or Charging/Discharging/Full/Not charging;"
                     f" received {text!r}")


def _number(text: str, where: str, decimal_comma: bool) -> float:
    cleaned = text.strip().replace(",", ".") if decimal_comma else text.strip()
    try:
        value = float(cleaned)
    except ValueError:
        raise UsageError(f"{where}: expected a number, received {text!r}") from None
    if not math.isfinite(value):
        raise UsageError(f"{where}: expected a finite number, received {text!r}")
    return value


def read_csv_trace(path: str | Path) -> Trace:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"no trace file {file}: give a CSV of time_s, battery_pct, charging, thermal_status"
                         " or run:RUN_ID of a stored run") from None
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if len(lines) < 3:
        raise UsageError(f"{file}: expected a header and at least two rows (a trace spans time); received {len(lines)} line(s)")
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ("\t" if "\t" in lines[0] else ",")
    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
    header = [h.strip().lower() for h in rows[0]]
    index = {}
    for key, names in COLUMN_NAMES.items():
        found = next((header.index(n) for n in names if n in header), None)
        if found is None:
            raise UsageError(f"{file}: no {key} column; expected a header with time_s, battery_pct, charging,"
                             f" thermal_status (or {', '.join(names[1:])} for {key}); received {', '.join(header)}")
        index[key] = found
    points = []
    for number, row in enumerate(rows[1:], start=2):
        where = f"{file} line {number}"
        if len(row) < len(header):
            raise UsageError(f"{where}: {len(row)} field(s), the header has {len(header)}")
        level = _number(row[index["battery_pct"]], where, delimiter == ";")
        status = _number(row[index["thermal_status"]], where, delimiter == ";")
        if not 0 <= level <= 100:
            raise UsageError(f"{where}: battery level must be 0..100 %, received {level:g}")
        if status != int(status) or not 0 <= status <= 6:
            raise UsageError(f"{where}: thermal status must be an integer 0..6 (Android THERMAL_STATUS_*), received {status:g}")
        points.append(TracePoint(_number(row[index["time_s"]], where, delimiter == ";"), level,
                                 _charging(row[index["charging"]], where), int(status)))
    return Trace(_ordered(points, str(file)), str(file))


def _ordered(points: Sequence[TracePoint], source: str) -> tuple[TracePoint, ...]:
    for before, after in zip(points, points[1:]):
        if after.time_s < before.time_s:
            raise UsageError(f"{source}: time goes backwards ({before.time_s:g} s, then {after.time_s:g} s): sort the trace")
    return tuple(points)


def trace_from_samples(run: RunRecord, samples: Sequence[DeviceSample], thermal_status: int | None) -> Trace:
    """A stored run's trace: capacity and status samples; the run's recorded thermal status throughout."""
    recorded, was_recorded, _ = run_thermal_status(run)
    notes = []
    if thermal_status is None:
        if recorded is None or not was_recorded:
            raise UsageError(f"run {run.run_id} recorded no thermal status (its thermal check: "
                             f"{next((c.outcome for c in run.checks if c.name == 'thermal'), 'absent')}):"
                             " give --thermal-status N (0..6) for the whole trace")
        thermal_status = recorded
        notes.append(f"thermal status {recorded} throughout: the run's recorded status (the sampler does not"
                     " read the framework's thermal status over time)")
    else:
        notes.append(f"thermal status {thermal_status} throughout, as given by --thermal-status")
    if not samples:
        raise UsageError(f"run {run.run_id} has no device samples in the store (sampling was off, or the target has"
                         " no power_supply nodes): give a CSV trace instead")
    start = min(s.t_ns for s in samples)
    level: float | None = None
    charging: bool | None = None
    points: list[TracePoint] = []
    for sample in samples:
        text = (sample.value_text or "").strip()
        if _CAPACITY.search(sample.channel) and text.lstrip("-").isdigit():
            level = float(text)
        elif _STATUS.search(sample.channel) and text.lower() in TRUE | FALSE:
            charging = text.lower() in TRUE
        else:
            continue
        if level is not None and charging is not None:
            point = TracePoint((sample.t_ns - start) / 1e9, level, charging, thermal_status)
            if points and points[-1].time_s == point.time_s:
                points[-1] = point
            else:
                points.append(point)
    if len(points) < 2:
        raise UsageError(f"run {run.run_id}: fewer than two samples with both battery capacity and status;"
                         " give a CSV trace instead")
    return Trace(tuple(points), f"run {run.run_id}", tuple(notes))
