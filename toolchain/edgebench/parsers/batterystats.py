"""`adb shell dumpsys batterystats` (human text), every generation from Android 2.x to 15.

Top-level sections start at column 0: `Battery History (...)` (summarized, see
batterystats_history), statistics periods (`Statistics since last charge:`, on Android 4-8 also
`Statistics since last unplugged:`, on Android 2.x `Total Statistics (Current and Historic):`,
`Current Battery Statistics (...)`, ...) and everything else (`Per-PID Stats:`, `Discharge step
durations:`, `Daily stats:`, Samsung's `Memory Stats`), which is kept raw in `sections`.

Periods are read by batterystats_period (known lines into fields, other blocks kept raw). A
package-scoped dump (`dumpsys batterystats PKG`) has no history: `history` is then None.
`dumpsys batterystats --usage` (Android 12+) prints the power-use block alone; it is read too.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from edgebench.errors import ParseError
from edgebench.parsers._common import NAME_HINT_SCORE, sniff_sample, text_lines
from edgebench.parsers.batterystats_history import (BatteryHistorySummary, is_record,
                                                    summarize_history)
from edgebench.parsers.batterystats_period import (POWER_USE_HEADER, RawBlock, StatsPeriod,
                                                   read_period)
from edgebench.parsers.batterystats_power import PowerUseSummary, parse_power_use

_PERIOD_RE = re.compile(r"(Statistics since .{1,60}|.{0,40}Statistics \(.{1,60}\)):")
_WRAPPER_RE = re.compile(r"DUMP OF SERVICE batterystats:|-{5,}.*|-{3,} \d+ ms .*")
_CHECKIN_ROW_RE = re.compile(r"[0-9]{1,2},(?:[0-9]{1,10},[a-z],[a-z]{1,8}|h|hsp)(?:,.*)?")
_ERRORS = ("Can't find service", "Permission Denial", "ERROR: BatteryStats", "Unknown option",
           "Error: ")


@dataclass(frozen=True)
class BatteryStatsDump:
    format_generation: str | None  # power-use generation (batterystats_power.GENERATIONS)
    # Figures of the main period (since last charge, else the first period printed):
    capacity_mah: float | None
    computed_drain_mah: float | None
    actual_drain_low_mah: float | None
    actual_drain_high_mah: float | None
    time_on_battery_ms: int | None
    screen_on_ms: int | None
    discharge_mah: float | None
    power_use: PowerUseSummary | None
    periods: tuple[StatsPeriod, ...]
    history: BatteryHistorySummary | None  # None: the dump has no history (package-scoped)
    sections: tuple[RawBlock, ...]  # top-level sections kept as printed


def parse_dumpsys_batterystats(text: str, *, source: str | None = None) -> BatteryStatsDump:
    src = source
    # Top level: (kind, header number, header, body lines)
    sections: list[tuple[str, int, str, list[tuple[int, str]]]] = []
    for number, line in enumerate(text_lines(text), start=1):
        if not line.strip():
            continue
        current = sections[-1] if sections else None
        if line[0] not in " \t" and not (current and current[0] == "history" and is_record(line)):
            stripped = line.strip()
            if _WRAPPER_RE.fullmatch(stripped):
                continue
            if stripped.startswith(_ERRORS):
                raise ParseError("dumpsys could not dump batterystats; expected its statistics",
                                 source=src, line_number=number, line=line)
            if _CHECKIN_ROW_RE.fullmatch(stripped):
                raise ParseError("this is `dumpsys batterystats --checkin` CSV; read it with "
                                 "parse_batterystats_checkin (format dumpsys_batterystats_checkin)",
                                 source=src, line_number=number, line=line)
            kind = ("history" if stripped.startswith("Battery History")
                    else "period" if _PERIOD_RE.fullmatch(stripped) else "raw")
            sections.append((kind, number, stripped, []))
        elif current is None and line.strip() == POWER_USE_HEADER:
            # `dumpsys batterystats --usage` (Android 12+): the power-use block alone, indented.
            sections.append(("usage", number, POWER_USE_HEADER, []))
        elif current is None:
            raise ParseError("indented text before any section; expected `dumpsys batterystats` "
                             "output starting with 'Battery History' or 'Statistics since ...:'",
                             source=src, line_number=number, line=line)
        else:
            current[3].append((number, line))
    periods = [read_period(n, h, body, src) for kind, n, h, body in sections if kind == "period"]
    histories = [(n, h, body) for kind, n, h, body in sections if kind == "history"]
    usage = [parse_power_use(n, body, source=src) for kind, n, _, body in sections
             if kind == "usage"]
    if not periods and not histories and not usage:
        raise ParseError("no 'Statistics since ...:' or 'Battery History' section; expected "
                         "`adb shell dumpsys batterystats` output", source=src)
    if len(histories) > 1:
        raise ParseError("a second Battery History section; expected one dump per file",
                         source=src, line_number=histories[1][0], line=histories[1][1])
    history = summarize_history(*histories[0], source=src) if histories else None
    main = next((p for p in periods if p.kind == "since_charged"), periods[0] if periods else None)
    power = main.power_use if main is not None else (usage[0] if usage else None)
    generations = [p.power_use.generation for p in periods if p.power_use] + [
        u.generation for u in usage]
    return BatteryStatsDump(
        format_generation=generations[0] if generations else None,
        capacity_mah=power.capacity_mah if power else None,
        computed_drain_mah=power.computed_drain_mah if power else None,
        actual_drain_low_mah=power.actual_drain_low_mah if power else None,
        actual_drain_high_mah=power.actual_drain_high_mah if power else None,
        time_on_battery_ms=main.time_on_battery_ms if main else None,
        screen_on_ms=main.screen_on_ms if main else None,
        discharge_mah=main.discharge_mah if main else None, power_use=power,
        periods=tuple(periods), history=history,
        sections=tuple(RawBlock(n, h, tuple(line for _, line in body))
                       for kind, n, h, body in sections if kind == "raw"))


def sniff_dumpsys_batterystats(text: str, file_name: str) -> int:
    lines = sniff_sample(text)
    top = [line.strip() for line in lines if line[:1] not in (" ", "\t", "")]
    if any(_PERIOD_RE.fullmatch(line) for line in top) or any(
            line.startswith("Battery History") for line in top[:5]):
        return 95
    stripped = {line.strip().partition(": ")[0] for line in lines}
    if POWER_USE_HEADER in stripped or {"Time on battery", "Total run time"} <= stripped:
        return 80
    name = os.path.basename(file_name or "").lower()
    return NAME_HINT_SCORE if "batterystats" in name and "checkin" not in name else 0
