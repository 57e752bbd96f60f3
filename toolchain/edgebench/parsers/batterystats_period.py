"""One statistics period of `dumpsys batterystats` (`Statistics since last charge:` and its
older siblings): the lines it knows become fields, every other block is kept raw.

Known lines: System starts, Estimated/Last/Min/Max learned battery capacity (mAh), Time on
battery (+ screen off, screen doze; realtime and uptime), Total run time, Start clock time,
Screen on (+ count and Interactive), Charge/Battery time remaining, `Discharge: N mAh` and its
screen/doze variants (Android 8+, coulomb counter), the `Device battery use since last full
charge` percentages (and the Android 2-4 `Device is currently unplugged` blocks) and the
`Estimated power use (mAh):` block (batterystats_power). Percentages in parentheses follow the
device locale (`98,2%`) and are not read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from edgebench.errors import ParseError
from edgebench.parsers._common import parse_int
from edgebench.parsers.batterystats_power import PowerUseSummary, parse_power_use
from edgebench.parsers.batterystats_values import parse_duration_ms, parse_number

_PERIOD_KINDS = (("since last charge", "since_charged"), ("since last unplugged",
                 "since_unplugged"), ("Total Statistics", "total"), ("Last Run", "last_run"),
                 ("Current", "current"), ("Unplugged", "since_unplugged"))
_MAH_KEYS = {"Discharge": "discharge", "Screen off discharge": "screen_off_discharge",
             "Screen doze discharge": "screen_doze_discharge",
             "Screen on discharge": "screen_on_discharge",
             "Device light doze discharge": "light_doze_discharge",
             "Device deep doze discharge": "deep_doze_discharge",
             "Estimated battery capacity": "estimated_capacity",
             "Last learned battery capacity": "last_learned_capacity",
             "Min learned battery capacity": "min_learned_capacity",
             "Max learned battery capacity": "max_learned_capacity"}
_TIME_KEYS = {"Time on battery": "on_battery", "Time on battery screen off": "screen_off",
              "Time on battery screen doze": "screen_doze", "Total run time": "total",
              "Charge time remaining": "charge_remaining",
              "Battery time remaining": "battery_remaining"}
_DISCHARGE_BLOCKS = ("Device battery use since last full charge", "Device is currently unplugged",
                     "Device is currently plugged into power")
_DISCHARGE_KEYS = {"Amount discharged (lower bound)": "low", "Amount discharged (upper bound)":
                   "high", "Amount discharged while screen on": "screen_on",
                   "Amount discharged while screen off": "screen_off",
                   "Amount discharged while screen doze": "screen_doze"}
POWER_USE_HEADER = "Estimated power use (mAh):"
_POWER_AT_BASE_RE = re.compile(r"(?:UID|User) [A-Za-z0-9]{1,40}: -?[0-9]")


@dataclass(frozen=True)
class RawBlock:
    """A block kept as printed: its first line and the more-indented lines under it."""
    line_number: int
    header: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class StatsPeriod:
    line_number: int
    name: str  # header without the colon: "Statistics since last charge"
    kind: str  # since_charged | since_unplugged | total | last_run | current | other
    system_starts: int | None
    currently_on_battery: bool | None
    estimated_battery_capacity_mah: float | None
    last_learned_capacity_mah: float | None  # Android 14+
    min_learned_capacity_mah: float | None
    max_learned_capacity_mah: float | None
    time_on_battery_ms: int | None  # realtime
    time_on_battery_uptime_ms: int | None
    time_on_battery_screen_off_ms: int | None
    time_on_battery_screen_off_uptime_ms: int | None
    time_on_battery_screen_doze_ms: int | None
    total_run_time_ms: int | None  # realtime
    total_uptime_ms: int | None
    start_clock_time: str | None  # as printed: 2016-11-06-12-41-42 (device local time)
    screen_on_ms: int | None
    screen_on_count: int | None
    interactive_ms: int | None
    charge_time_remaining_ms: int | None
    battery_time_remaining_ms: int | None
    discharge_mah: float | None  # coulomb counter: `Discharge: N mAh` (Android 8+)
    screen_off_discharge_mah: float | None
    screen_doze_discharge_mah: float | None
    screen_on_discharge_mah: float | None
    light_doze_discharge_mah: float | None
    deep_doze_discharge_mah: float | None
    discharged_low_pct: int | None  # `Amount discharged (lower bound)`, battery percent
    discharged_high_pct: int | None
    discharged_screen_on_pct: int | None
    discharged_screen_off_pct: int | None
    discharged_screen_doze_pct: int | None
    discharge_extras: dict[str, str]  # other lines of the discharge blocks (cycle levels, ...)
    power_use: PowerUseSummary | None
    other: tuple[RawBlock, ...]


def _blocks(body: list[tuple[int, str]]) -> list[tuple[int, str, list[tuple[int, str]]]]:
    """Group a period's lines: a line at the base indentation and the deeper lines under it."""
    blocks: list[tuple[int, str, list[tuple[int, str]]]] = []  # (number, line as read, children)
    base: int | None = None
    for number, line in body:
        indent = len(line) - len(line.lstrip())
        if base is None:
            base = indent
        if indent <= base or not blocks:
            blocks.append((number, line, []))
        else:
            blocks[-1][2].append((number, line))
    return blocks


def read_period(header_number: int, header: str, body: list[tuple[int, str]],
            src: str | None) -> StatsPeriod:
    name = header[:-1]
    kind = next((k for marker, k in _PERIOD_KINDS if marker in name), "other")
    found: dict[str, object] = {}
    discharge: dict[str, int] = {}
    extras: dict[str, str] = {}
    power_at: int | None = None
    power_body: list[tuple[int, str]] = []
    absorbing = False
    other: list[RawBlock] = []
    for number, line, children in _blocks(body):
        head = line.strip()
        key, sep, value = head.partition(": ")
        if head == POWER_USE_HEADER and power_at is None:
            power_at, power_body, absorbing = number, list(children), True
            continue
        if absorbing and (head == "Global" or _POWER_AT_BASE_RE.match(head)):
            # Some builds print `Global` and the UID lines at the header's own indentation.
            power_body += [(number, line)] + children
            continue
        absorbing = False
        if head in _DISCHARGE_BLOCKS:
            _discharge_block(children, discharge, extras, src)
        elif sep and key in _MAH_KEYS:
            _once(found, _MAH_KEYS[key], _mah(value, key, src, number, line), src, number, line)
        elif sep and key in _TIME_KEYS:
            realtime, uptime = _realtime_uptime(value, key, src, number, line)
            _once(found, _TIME_KEYS[key], (realtime, uptime), src, number, line)
        elif sep and key == "Screen on":
            _once(found, "screen_on", _screen_on(value, src, number, line), src, number, line)
        elif sep and key == "Start clock time":
            _once(found, "start_clock", value.strip(), src, number, line)
        elif sep and key == "System starts":
            _once(found, "starts", _system_starts(value, src, number, line), src, number, line)
        else:
            other.append(RawBlock(number, head, tuple(text for _, text in children)))
    power = None if power_at is None else parse_power_use(power_at, power_body, source=src)
    starts = found.get("starts", (None, None))
    screen = found.get("screen_on", (None, None, None))

    def time(key: str, index: int = 0) -> int | None:
        pair = found.get(key)
        return None if pair is None else pair[index]  # type: ignore[index]

    return StatsPeriod(
        line_number=header_number, name=name, kind=kind,
        system_starts=starts[0], currently_on_battery=starts[1],  # type: ignore[index]
        estimated_battery_capacity_mah=found.get("estimated_capacity"),  # type: ignore[arg-type]
        last_learned_capacity_mah=found.get("last_learned_capacity"),  # type: ignore[arg-type]
        min_learned_capacity_mah=found.get("min_learned_capacity"),  # type: ignore[arg-type]
        max_learned_capacity_mah=found.get("max_learned_capacity"),  # type: ignore[arg-type]
        time_on_battery_ms=time("on_battery"), time_on_battery_uptime_ms=time("on_battery", 1),
        time_on_battery_screen_off_ms=time("screen_off"),
        time_on_battery_screen_off_uptime_ms=time("screen_off", 1),
        time_on_battery_screen_doze_ms=time("screen_doze"),
        total_run_time_ms=time("total"), total_uptime_ms=time("total", 1),
        start_clock_time=found.get("start_clock"),  # type: ignore[arg-type]
        screen_on_ms=screen[0], screen_on_count=screen[1],  # type: ignore[index]
        interactive_ms=screen[2],  # type: ignore[index]
        charge_time_remaining_ms=time("charge_remaining"),
        battery_time_remaining_ms=time("battery_remaining"),
        **{f"{key}_mah": found.get(key) for key in (  # type: ignore[arg-type]
            "discharge", "screen_off_discharge", "screen_doze_discharge", "screen_on_discharge",
            "light_doze_discharge", "deep_doze_discharge")},
        discharged_low_pct=discharge.get("low"), discharged_high_pct=discharge.get("high"),
        discharged_screen_on_pct=discharge.get("screen_on"),
        discharged_screen_off_pct=discharge.get("screen_off"),
        discharged_screen_doze_pct=discharge.get("screen_doze"),
        discharge_extras=extras, power_use=power, other=tuple(other))


def _once(found: dict[str, object], key: str, value: object, src: str | None, number: int,
          line: str) -> None:
    if key in found:
        raise ParseError("this line appears twice in one statistics period; expected one dump "
                         "per file", source=src, line_number=number, line=line)
    found[key] = value


def _mah(value: str, key: str, src: str | None, number: int, line: str) -> float:
    text = value.strip()
    text = text[:-3].strip() if text.endswith("mAh") else text
    return parse_number(text, what=key, source=src, line_number=number, line=line)


_LEAD_DURATION_RE = re.compile(r"\s*([+-]?[0-9][0-9dhms ]{0,60}?)\s*(?:\(|realtime\b|uptime\b|$)",
                               re.ASCII)


def _lead_duration(text: str, key: str, src: str | None, number: int, line: str) -> int:
    match = _LEAD_DURATION_RE.match(text)
    if match is None:
        raise ParseError(f"{key}: expected a duration such as '1h 2m 3s 456ms', got {text!r}",
                         source=src, line_number=number, line=line)
    return parse_duration_ms(match.group(1), what=key, source=src, line_number=number, line=line)


def _realtime_uptime(value: str, key: str, src: str | None, number: int,
                     line: str) -> tuple[int, int | None]:
    # "X (p%) realtime, Y (p%) uptime"; a decimal comma ("98,2%") has no space after it.
    parts = value.split(", ")
    realtime = _lead_duration(parts[0], key, src, number, line)
    uptime = next((_lead_duration(p, key, src, number, line) for p in parts[1:]
                   if p.rstrip().endswith("uptime")), None)
    return realtime, uptime


def _screen_on(value: str, src: str | None, number: int,
               line: str) -> tuple[int, int | None, int | None]:
    on_ms = _lead_duration(value, "Screen on", src, number, line)
    count = re.search(r"\) ([0-9]{1,9})x", value)
    interactive = value.partition("Interactive: ")[2]
    return (on_ms, int(count.group(1)) if count else None,
            _lead_duration(interactive, "Interactive", src, number, line) if interactive else None)


def _system_starts(value: str, src: str | None, number: int, line: str) -> tuple[int, bool | None]:
    starts, _, rest = value.partition(", ")
    count = parse_int(starts, what="System starts", source=src, line_number=number, line=line)
    flag = rest.partition("currently on battery: ")[2].strip()
    return count, {"true": True, "false": False}.get(flag)


def _discharge_block(children: list[tuple[int, str]], discharge: dict[str, int],
                     extras: dict[str, str], src: str | None) -> None:
    for number, line in children:
        key, _, value = line.strip().partition(": ")
        if key in _DISCHARGE_KEYS:
            discharge[_DISCHARGE_KEYS[key]] = parse_int(value, what=key, source=src,
                                                        line_number=number, line=line)
        else:
            name, suffix = key, 2
            while name in extras:  # keep every line, even a repeated one
                name, suffix = f"{key}#{suffix}", suffix + 1
            extras[name] = value
