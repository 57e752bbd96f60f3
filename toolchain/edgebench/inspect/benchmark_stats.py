"""The number and `count=... first=... avg=...` grammar that benchmark_model prints everywhere.

benchmark_model prints a run statistic in one of three shapes (tensorflow::Stat::OutputToStream):
`count=0`; `count=N curr=X` (every value the same; `(all same)` is appended when N > 1); or
`count=N first=.. curr=.. min=.. max=.. avg=.. std=..`, newer builds appending `p5=.. median=.. p95=..`.
Numbers come from C++ streams: integers, decimals, or 6-significant-digit scientific notation
(`1.23457e+06`), and `nan`/`-nan` for the average of zero runs.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from edgebench.errors import ParseError

NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)(?:\([^)]*\))?"
_NUMBER_RE = re.compile(rf"(?:{NUMBER})", re.IGNORECASE)
_TOKEN = re.compile(rf"(\w+)=({NUMBER})(\(all same\))?", re.IGNORECASE)
_STAT_LINE = re.compile(rf"(?:\s*\w+=(?:{NUMBER})(?:\(all same\))?)+\s*", re.IGNORECASE)
_KNOWN = {"count", "first", "curr", "min", "max", "avg", "std", "p5", "median", "p95"}
# Printed averages have 6 significant digits, so avg may overshoot max by rounding.
_ROUNDING = 1e-5


def number(text: str) -> int | float | None:
    """A C++-printed number: int when written as one, float otherwise, None for nan."""
    text = text.strip()
    if not _NUMBER_RE.fullmatch(text):
        raise ValueError(f"not a number: {text!r}")
    lowered = text.lower()
    if "nan" in lowered:
        return None  # the tool prints nan for the average of zero runs: there is no value
    if re.fullmatch(r"[-+]?\d+", text):
        return int(text)
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"infinite value: {text!r}")
    return value


@dataclass(frozen=True)
class RunStats:
    """One `count=...` line of run times in microseconds.

    When the tool printed the short form (`count=N curr=X`, all runs equal), first/min/max/avg
    equal curr and std is 0: those are implied by the tool, not defaulted.
    """

    count: int
    first_us: float | None
    curr_us: float | None
    min_us: float | None
    max_us: float | None
    avg_us: float | None
    std_us: float | None
    p5_us: float | None
    median_us: float | None
    p95_us: float | None
    all_same: bool


@dataclass(frozen=True)
class ByteStats:
    """The profiler's `Memory (bytes): count=...` line."""

    count: int
    curr_bytes: float | None
    min_bytes: float | None
    max_bytes: float | None
    avg_bytes: float | None


def looks_like_stats(text: str) -> bool:
    return text.lstrip().startswith("count=")


def parse_stat_fields(text: str, *, source: str | None, line_number: int, line: str) -> dict[str, Any]:
    """`count=.. first=..` to a dict with the implied values of the short forms filled in."""
    def fail(why: str) -> ParseError:
        return ParseError(f"{why}; expected 'count=N first=.. curr=.. min=.. max=.. avg=.. std=..' "
                          "or 'count=N curr=X' as benchmark_model prints them",
                          source=source, line_number=line_number, line=line)

    if not _STAT_LINE.fullmatch(text):
        raise fail("malformed statistics line")
    fields: dict[str, int | float | None] = {}
    all_same = False
    for key, value, same in _TOKEN.findall(text):
        key = key.lower()
        if key not in _KNOWN:
            raise fail(f"unknown statistic {key!r}")
        if key in fields:
            raise fail(f"statistic {key!r} appears twice")
        try:
            fields[key] = number(value)
        except ValueError as exc:
            raise fail(str(exc)) from None
        all_same = all_same or bool(same)
    count = fields.get("count")
    if not isinstance(count, int) or count < 0:
        raise fail("count must be a whole number >= 0")
    if count == 0:
        if len(fields) > 1:
            raise fail("values given for zero runs")
        return {"count": 0, "all_same": False}
    full = {"first", "min", "max", "avg", "std"}
    if "curr" in fields and not full & fields.keys():
        curr = fields["curr"]
        fields.update(first=curr, min=curr, max=curr, avg=curr, std=0)
        all_same = True
    elif not full <= fields.keys() or "curr" not in fields:
        missing = sorted((full | {"curr"}) - fields.keys())
        raise fail(f"incomplete statistics line (missing {', '.join(missing)})")
    lo, hi, avg = fields["min"], fields["max"], fields["avg"]
    if lo is not None and hi is not None and avg is not None:
        slack = _ROUNDING * max(abs(hi), 1)
        if not (lo <= hi and lo - slack <= avg <= hi + slack):
            raise fail(f"inconsistent statistics (min={lo}, avg={avg}, max={hi})")
    fields["all_same"] = all_same
    return fields


def run_stats(fields: dict[str, Any]) -> RunStats:
    return RunStats(
        count=fields["count"], first_us=fields.get("first"), curr_us=fields.get("curr"),
        min_us=fields.get("min"), max_us=fields.get("max"), avg_us=fields.get("avg"),
        std_us=fields.get("std"), p5_us=fields.get("p5"), median_us=fields.get("median"),
        p95_us=fields.get("p95"), all_same=fields["all_same"])


def byte_stats(fields: dict[str, Any]) -> ByteStats:
    return ByteStats(count=fields["count"], curr_bytes=fields.get("curr"),
                     min_bytes=fields.get("min"), max_bytes=fields.get("max"),
                     avg_bytes=fields.get("avg"))
