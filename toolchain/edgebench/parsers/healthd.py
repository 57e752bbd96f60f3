"""healthd's battery lines in a kernel log (`dmesg`) or logcat:
`healthd: battery l=39 v=3849 t=27.0 h=2 st=2 c=-379 fc=2623000 cc=0 chg=u`.

Keys (AOSP BatteryMonitor::logValues): l level %, v voltage mV, t temperature degC (one decimal),
h health code, st status code (BatteryManager), c current, fc full charge uAh, cc cycle count,
chg charger letters (a=AC, u=USB, w=wireless, d=dock). The unit of `c` changed across Android
releases (older healthd divided the driver's uA by 1000 and printed mA; newer ones print uA) and
its sign follows the driver, so it is kept raw with a flagged guess (|c| >= 20000 is uA, since
20 A is impossible; else mA as in the old format, marked inferred).
Other log lines are counted in `other_lines`, not parsed: a log holds far more than healthd.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from edgebench.errors import ParseError
from edgebench.parsers._common import (NAME_HINT_SCORE, parse_float, parse_int, sniff_sample,
                                        sysfs_name_hint, text_lines)

_LINE_RE = re.compile(r"(?:<[0-9]+>)?(?:\[\s*([0-9]+\.[0-9]+)\])?.*?\bhealthd\b[^:]*:\s*battery (.*)$")
_CHARGERS = {"a": "ac", "u": "usb", "w": "wireless", "d": "dock"}
_INT_KEYS = {"l", "v", "h", "st", "c", "fc", "cc"}


@dataclass(frozen=True)
class HealthdSample:
    line_number: int
    timestamp_s: float | None  # kernel log time since boot, when the line has `[ 123.456]`
    battery_present: bool  # False for healthd's `battery none`
    level_pct: int | None
    voltage_mv: int | None
    temperature_c: float | None
    health_code: int | None
    status_code: int | None
    current_raw: int | None  # `c=` as printed; unit and sign: see module docstring
    current_unit_inferred: str | None  # "uA" or "mA" (inferred, see module docstring)
    full_charge_uah: int | None
    cycle_count: int | None
    chargers: tuple[str, ...]  # ac, usb, wireless, dock
    extras: dict[str, str]


@dataclass(frozen=True)
class HealthdLog:
    samples: tuple[HealthdSample, ...]
    other_lines: int  # non-empty lines that were not healthd battery lines


def parse_healthd_log(text: str, *, source: str | None = None) -> HealthdLog:
    src = source
    samples = []
    other = 0
    for number, line in enumerate(text_lines(text), start=1):
        if not line.strip():
            continue
        match = _LINE_RE.match(line)
        if match is None:
            other += 1
            continue
        samples.append(_sample(match, src, number, line))
    if not samples:
        raise ParseError("no `healthd: battery ...` lines; expected a kernel log or logcat "
                         "holding healthd's battery reports", source=src)
    return HealthdLog(samples=tuple(samples), other_lines=other)


def _sample(match: re.Match[str], src: str | None, number: int, line: str) -> HealthdSample:
    stamp, body = match.groups()
    values: dict[str, str] = {}
    tokens = body.split()
    present = True
    if tokens[:1] == ["none"]:  # no battery: only the charger part follows
        present = False
        tokens = tokens[1:]
    for token in tokens:
        key, eq, value = token.partition("=")
        if not eq or not key:
            raise ParseError(f"expected key=value after 'battery', got {token!r}",
                             source=src, line_number=number, line=line)
        if key in values:
            raise ParseError(f"{key}= appears twice", source=src, line_number=number, line=line)
        values[key] = value

    def num(key: str) -> int | None:
        return None if key not in values else parse_int(
            values[key], what=f"{key}=", source=src, line_number=number, line=line)

    chg = values.get("chg", "")
    if any(c not in _CHARGERS for c in chg):
        raise ParseError(f"chg= letters must be among a, u, w, d; got {chg!r}",
                         source=src, line_number=number, line=line)
    current = num("c")
    unit = None if current is None else ("uA" if abs(current) >= 20_000 else "mA")
    temperature = None if "t" not in values else parse_float(
        values["t"], what="t=", source=src, line_number=number, line=line)
    return HealthdSample(
        line_number=number, timestamp_s=None if stamp is None else float(stamp),
        battery_present=present, level_pct=num("l"), voltage_mv=num("v"),
        temperature_c=temperature, health_code=num("h"), status_code=num("st"),
        current_raw=current, current_unit_inferred=unit, full_charge_uah=num("fc"),
        cycle_count=num("cc"), chargers=tuple(_CHARGERS[c] for c in chg),
        extras={k: v for k, v in values.items() if k not in _INT_KEYS | {"t", "chg"}})


def sniff_healthd_log(text: str, file_name: str) -> int:
    lines = [line for line in sniff_sample(text) if line.strip()]
    hits = sum(1 for line in lines if _LINE_RE.match(line))
    if hits and hits / len(lines) >= 0.5:
        return 95
    if hits:
        return 60
    return NAME_HINT_SCORE // 2 if sysfs_name_hint(file_name) == "healthd_log" else 0
