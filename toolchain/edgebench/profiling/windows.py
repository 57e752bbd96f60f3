"""A battery run's windows (idle, warm-up, measured, idle) from the driver's phase marks and the
runner's per-inference timestamps."""
from __future__ import annotations

from pathlib import Path

from edgebench.battery.estimate import Windows
from edgebench.errors import ParseError
from edgebench.harness.output import HarnessOutput


def read_phases(path: Path) -> dict[str, float]:
    """phases.txt as the driver writes it: one 'PHASE SECONDS' line per mark (/proc/uptime seconds)."""
    phases: dict[str, float] = {}
    if not path.exists():
        raise ParseError("the driver wrote no phases.txt: the battery run's windows are unknown", source=str(path))
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        parts = line.split()
        try:
            phases[parts[0]] = float(parts[1])
        except (IndexError, ValueError):
            raise ParseError("expected 'PHASE SECONDS'", source=str(path), line_number=number, line=line) from None
    for needed in ("workload_start", "workload_end"):
        if needed not in phases:
            raise ParseError(f"no {needed} mark", source=str(path))
    return phases


def windows_of(phases: dict[str, float], output: HarnessOutput) -> Windows:
    """The run's windows from the driver's phase marks and the runner's per-inference timestamps.

    The marks come from /proc/uptime (10 ms steps), the timestamps from CLOCK_BOOTTIME (ns), so a
    mark may fall a few ms inside the workload it bounds; the workload's own timestamps win there.
    """
    first_timed_s = output.timed[0].start_ns / 1e9
    last = output.timed[-1]
    measured_end = last.start_ns / 1e9 + last.latency_us / 1e6
    workload_start = min(phases["workload_start"], first_timed_s)
    idle_post_start = max(phases["workload_end"], measured_end)
    return Windows(idle_pre=(min(phases.get("idle_pre_start", workload_start), workload_start), workload_start),
                   warmup=(workload_start, first_timed_s),
                   measured=(first_timed_s, measured_end),
                   idle_post=(idle_post_start, max(phases.get("idle_post_end", idle_post_start), idle_post_start)))
