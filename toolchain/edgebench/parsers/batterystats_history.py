"""A summary of the `Battery History (...)` section of `dumpsys batterystats`.

Each history line is `<time> (<cmd>) <level> <events>`: the time is `0` at the first record and
then `+1h02m03s004ms` after it (Android 4.x printed negative times before `now`), the level is
the battery percentage as three digits (`084`), and events are `+screen`, `volt=4382`,
`RESET:TIME: 2016-11-06-12-41-42`, ... Samsung adds `current=-6` and several temperatures; the
unit of Samsung's `current=` is not documented (mA by its size), so the values are kept raw.
Lines in the section that are not history records (`Details: ...` on some releases) are kept
as read in `other_lines`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from edgebench.errors import ParseError
from edgebench.parsers.batterystats_values import parse_duration_ms

_RECORD_RE = re.compile(
    r"\s*(?P<time>0|[+-][0-9dhms]{1,40})\s+(?:\((?P<cmd>[0-9]{1,4})\)\s*)?"
    r"(?:(?P<level>[0-9]{3})(?:\s|$))?(?P<rest>.*)", re.ASCII)
_RESET_RE = re.compile(r"RESET:TIME: (\S+)")
_CURRENT_RE = re.compile(r"(?:^|\s)current=(-?[0-9]{1,9})(?=\s|$)", re.ASCII)


@dataclass(frozen=True)
class BatteryHistorySummary:
    line_number: int
    header: str  # e.g. "Battery History (23% used, 60KB used of 256KB, 144 strings using 13KB):"
    record_count: int
    first_time_ms: int | None  # time of the first record as printed (0 = history start)
    last_time_ms: int | None
    reset_clock_time: str | None  # wall clock of the first `RESET:TIME:` record, as printed
    first_level_pct: int | None
    last_level_pct: int | None
    current_raw_values: tuple[int, ...]  # Samsung `current=` values in record order, unit unknown
    other_lines: tuple[str, ...]  # lines of the section that are not history records


def is_record(line: str) -> bool:
    return _RECORD_RE.fullmatch(line) is not None


def summarize_history(header_number: int, header: str, body: list[tuple[int, str]], *,
                      source: str | None) -> BatteryHistorySummary:
    count = 0
    first_time = last_time = None
    first_level = last_level = None
    reset_time = None
    currents: list[int] = []
    other: list[str] = []
    for number, line in body:
        match = _RECORD_RE.fullmatch(line)
        if match is None:
            other.append(line)
            continue
        time_ms = 0 if match.group("time") == "0" else parse_duration_ms(
            match.group("time"), what="history record time", source=source, line_number=number,
            line=line)
        count += 1
        if first_time is None:
            first_time = time_ms
        last_time = time_ms
        if match.group("level") is not None:
            level = int(match.group("level"))
            first_level = level if first_level is None else first_level
            last_level = level
        rest = match.group("rest")
        reset = _RESET_RE.search(rest)
        if reset is not None and reset_time is None:
            reset_time = reset.group(1)
        currents.extend(int(value) for value in _CURRENT_RE.findall(rest))
    if count == 0 and other:
        raise ParseError("the Battery History section holds no history records (expected lines "
                         "such as '+1m05s270ms (2) 100 +screen'); the dump may be damaged",
                         source=source, line_number=header_number, line=header)
    return BatteryHistorySummary(
        line_number=header_number, header=header, record_count=count, first_time_ms=first_time,
        last_time_ms=last_time, reset_clock_time=reset_time, first_level_pct=first_level,
        last_level_pct=last_level, current_raw_values=tuple(currents), other_lines=tuple(other))
