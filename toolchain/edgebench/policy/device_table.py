"""The policy as the harness driver evaluates it on a device, and what the driver recorded under it.

`flat_table` writes the policy's decision table as lines a POSIX shell compares with integer arithmetic
(driver.sh EDGEBENCH_POLICY, PROTOCOL.md):

    MIN_PCT MAX_PCT CHARGING THERMAL_STATUS MODEL_PATH

Band edges are rounded up to whole percent: a device reports a whole-percent level L, and for whole L,
L >= 15.5 is L >= 16 and L < 50.5 is L < 51, so the shell's answer is the table's for every level a device
can report. `read_choices` reads the driver's policy.txt: one line per segment, the state it read and the
model it ran.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from edgebench.errors import ParseError, UsageError
from edgebench.policy.decide import State


@dataclass(frozen=True)
class SegmentChoice:
    """What the driver read before one segment, and the model it ran."""

    segment: int
    uptime_s: float  # /proc/uptime (CLOCK_BOOTTIME) when the state was read
    state: State
    battery_source: str  # sysfs | dumpsys
    thermal_source: str  # dumpsys | none (no framework thermal status on the device: 0 taken)
    model_path: str  # device path


def flat_table(policy: Mapping[str, Any], device_paths: Mapping[str, str]) -> str:
    """The decision table with each variant's device path (`device_paths`: sha256 -> path)."""
    lines = [f"# edgebench policy for {policy.get('device', {}).get('model', '?')}: "
             "MIN_PCT MAX_PCT CHARGING THERMAL_STATUS MODEL (bands [min, max), whole percent)"]
    for row in policy["decision_table"]:
        path = device_paths.get(str(row["variant"]))
        if path is None:
            raise UsageError(f"the policy's decision table names variant {row['name']!r} ({str(row['variant'])[:12]}…),"
                             " which is not among the files deployed: run `edgebench policy check` on the folder")
        if any(c.isspace() for c in path):
            raise UsageError(f"device path {path!r} has white space; the driver's table cannot hold it")
        lines.append(f"{math.ceil(float(row['battery_min_pct']))} {math.ceil(float(row['battery_max_pct']))} "
                     f"{1 if row['charging'] else 0} {int(row['thermal_status'])} {path}")
    return "\n".join(lines) + "\n"


def read_choices(path: Path) -> list[SegmentChoice]:
    """policy.txt as driver.sh writes it (tab-separated): SEGMENT UPTIME_S LEVEL CHARGING THERMAL
    BATTERY_SOURCE THERMAL_SOURCE MODEL."""
    if not path.exists():
        raise ParseError("the driver wrote no policy.txt: no segment ran under the policy", source=str(path))
    choices: list[SegmentChoice] = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fields = line.rstrip("\r").split("\t")
        try:
            segment, uptime, level, charging, thermal, battery_source, thermal_source, model = fields
            choice = SegmentChoice(int(segment), float(uptime), State(float(level), charging == "1", int(thermal)),
                                   battery_source, thermal_source, model)
        except ValueError:
            raise ParseError("expected SEGMENT UPTIME_S LEVEL CHARGING THERMAL BATTERY_SOURCE THERMAL_SOURCE MODEL,"
                             " tab-separated", source=str(path), line_number=number, line=line) from None
        if choice.segment != len(choices) or charging not in ("0", "1"):
            raise ParseError(f"expected segment {len(choices)} with CHARGING 0 or 1", source=str(path),
                             line_number=number, line=line)
        choices.append(choice)
    return choices
