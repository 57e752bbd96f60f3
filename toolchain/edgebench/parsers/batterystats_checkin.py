"""`adb shell dumpsys batterystats --checkin`: comma-separated rows (AOSP BatteryStats.dumpLine).

Each row is `<row version>,<uid>,<category>,<type>,<values...>`: the row version is the frozen
BATTERY_STATS_CHECKIN_VERSION (9 since Android 4.4), the category `i` (info), `l` (since last
charge; `t` total on Android <= 4.3), `c` (current) or `u` (since unplugged). History rows have
no uid or category: `9,h,<time>,<events>` and the string pool `9,hsp,<index>,<uid>,"<name>"`.

Rows read here (others are counted in `row_type_counts` and kept raw in `unknown_rows`):
- `i,vers`: checkin format version, parcel version, start and end platform build
- `i,uid`: uid -> package name (one row per package of a shared uid)
- `bt`: start count, on-battery realtime/uptime ms, total realtime/uptime ms, start clock time
  (epoch ms), screen-off realtime/uptime ms, estimated capacity mAh, min/max learned capacity uAh,
  screen doze ms (fields appended over releases; missing ones are None)
- `dc`: discharged % low/high, % while screen on/off, discharged mAh, screen-off mAh,
  % and mAh while screen doze, light and deep doze mAh
- `pws`: capacity, computed drain, actual drain low and high (mAh)
- `pwi`: one consumer: label (uid, user, scrn, cell, wifi, blue, idle, phone, flashlight,
  camera, memory, ambi, unacc, over; on Android 12+ also cpu, audio, video, sensors, gnss),
  mAh, then on Android 8.1+ excluded-from-smearing flag, screen mAh and proportional smear mAh
- `h` / `hsp`: counted only.
A `err` row (the dump failed) raises ParseError.

Android 5.0-5.1 printed mAh in the device locale, so in a decimal-comma locale `12,5` became two
fields. Those releases print every value below 100 with a fraction and every larger one without,
so pws/pwi rows with too many fields are rejoined that way (`uid,81,8` -> 81.8 mAh).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from edgebench.errors import ParseError
from edgebench.parsers._common import NAME_HINT_SCORE, parse_int, sniff_sample, text_lines
from edgebench.parsers.batterystats_values import parse_number

_ROW_RE = re.compile(r"([0-9]{1,2}),(?:(h|hsp)(?:,(.*))?|(-?[0-9]{1,10}),([a-z]),([a-z]{1,10})"
                     r"(?:,(.*))?)", re.ASCII)
_NOISE_RE = re.compile(r"DUMP OF SERVICE batterystats:|-{5,}.*|-{3,} \d+ ms .*|NEXT: -?[0-9]{1,20}")
_BT_FIELDS = ("start_count", "on_battery_realtime_ms", "on_battery_uptime_ms", "total_realtime_ms",
              "total_uptime_ms", "start_clock_time_ms", "screen_off_realtime_ms",
              "screen_off_uptime_ms", "estimated_capacity_mah", "min_learned_capacity_uah",
              "max_learned_capacity_uah", "screen_doze_ms")
_DC_FIELDS = ("discharged_low_pct", "discharged_high_pct", "discharged_screen_on_pct",
              "discharged_screen_off_pct", "discharge_mah", "screen_off_discharge_mah",
              "discharged_screen_doze_pct", "screen_doze_discharge_mah",
              "light_doze_discharge_mah", "deep_doze_discharge_mah")


@dataclass(frozen=True)
class CheckinRow:
    line_number: int
    uid: int | None  # None for history rows
    category: str | None
    row_type: str
    values: tuple[str, ...]  # comma-split as printed (quoted names with commas stay split)


@dataclass(frozen=True)
class CheckinPowerItem:
    line_number: int
    label: str
    uid: int  # as printed: the app's uid for `uid` rows (other labels print 0 or a stale uid)
    power_mah: float
    excluded_from_smearing: bool | None  # None: row from before Android 8.1
    screen_power_mah: float | None
    proportional_smear_mah: float | None
    extra_values: tuple[str, ...]  # values past the fifth, as printed (none in AOSP so far)


@dataclass(frozen=True)
class CheckinPeriod:
    category: str  # l | t | u | c
    battery: dict[str, int | None]  # `bt`: _BT_FIELDS -> value; empty when no row
    discharge: dict[str, int | None]  # `dc`: _DC_FIELDS -> value; empty when no row
    capacity_mah: float | None
    computed_drain_mah: float | None
    actual_drain_low_mah: float | None
    actual_drain_high_mah: float | None
    power_items: tuple[CheckinPowerItem, ...]
    extra_values: dict[str, tuple[str, ...]]  # bt/dc values past the known fields, as printed


@dataclass(frozen=True)
class BatteryStatsCheckin:
    row_version: int  # the leading number of every row (9)
    checkin_version: int | None  # `vers`: CHECKIN_VERSION (e.g. 35)
    parcel_version: int | None
    start_platform_version: str | None
    end_platform_version: str | None
    uid_packages: dict[int, tuple[str, ...]]
    # Figures of the main period (`l`, else `t`, else the first printed):
    time_on_battery_ms: int | None
    screen_off_time_on_battery_ms: int | None
    capacity_mah: float | None
    computed_drain_mah: float | None
    actual_drain_low_mah: float | None
    actual_drain_high_mah: float | None
    periods: dict[str, CheckinPeriod]
    history_rows: int
    history_string_pool_rows: int
    row_type_counts: dict[str, int]  # every row type seen, known or not
    unknown_rows: tuple[CheckinRow, ...]


def parse_batterystats_checkin(text: str, *, source: str | None = None) -> BatteryStatsCheckin:
    src = source
    rows: list[CheckinRow] = []
    versions: set[int] = set()
    for number, line in enumerate(text_lines(text), start=1):
        stripped = line.strip()
        if not stripped or _NOISE_RE.fullmatch(stripped):
            continue
        match = _ROW_RE.fullmatch(stripped)
        if match is None:
            raise ParseError("expected a checkin row such as '9,0,l,bt,...' or '9,h,...'; "
                             "human-readable output is read by parse_dumpsys_batterystats",
                             source=src, line_number=number, line=line)
        versions.add(int(match.group(1)))
        if match.group(2):
            rows.append(CheckinRow(number, None, None, match.group(2),
                                   _split(match.group(3))))
        else:
            rows.append(CheckinRow(number, int(match.group(4)), match.group(5), match.group(6),
                                   _split(match.group(7))))
    if not rows:
        raise ParseError("no checkin rows; expected `dumpsys batterystats --checkin` output "
                         "(lines such as '9,0,i,vers,35,...')", source=src)
    if len(versions) > 1:
        raise ParseError(f"rows of several checkin formats ({sorted(versions)}); expected one "
                         "dump per file", source=src)
    return _build(rows, versions.pop(), src)


def _split(values: str | None) -> tuple[str, ...]:
    return () if values is None else tuple(values.split(","))


def _build(rows: list[CheckinRow], row_version: int, src: str | None) -> BatteryStatsCheckin:
    counts: dict[str, int] = {}
    vers: CheckinRow | None = None
    packages: dict[int, list[str]] = {}
    period_rows: dict[str, dict[str, list[CheckinRow]]] = {}
    unknown: list[CheckinRow] = []
    for row in rows:
        counts[row.row_type] = counts.get(row.row_type, 0) + 1
        if row.row_type == "err":
            raise ParseError(f"the device reported an error instead of statistics: "
                             f"{','.join(row.values)}", source=src, line_number=row.line_number)
        if row.row_type in ("h", "hsp"):
            continue
        if row.category == "i" and row.row_type == "vers" and vers is None:
            vers = row
        elif row.category == "i" and row.row_type == "uid" and len(row.values) >= 2:
            uid = _int(row, 0, src)
            packages.setdefault(uid, []).append(",".join(row.values[1:]))  # type: ignore[arg-type]
        elif row.category != "i" and row.row_type in ("bt", "dc", "pws", "pwi"):
            period_rows.setdefault(row.category or "", {}).setdefault(row.row_type, []).append(row)
        else:
            unknown.append(row)
    periods = {category: _period(category, by_type, src)
               for category, by_type in period_rows.items()}
    main = periods.get("l") or periods.get("t") or next(iter(periods.values()), None)
    return BatteryStatsCheckin(
        row_version=row_version,
        checkin_version=_int(vers, 0, src) if vers else None,
        parcel_version=_int(vers, 1, src) if vers else None,
        start_platform_version=vers.values[2] if vers and len(vers.values) > 2 else None,
        end_platform_version=vers.values[3] if vers and len(vers.values) > 3 else None,
        uid_packages={uid: tuple(names) for uid, names in packages.items()},
        time_on_battery_ms=main.battery.get("on_battery_realtime_ms") if main else None,
        screen_off_time_on_battery_ms=main.battery.get("screen_off_realtime_ms") if main else None,
        capacity_mah=main.capacity_mah if main else None,
        computed_drain_mah=main.computed_drain_mah if main else None,
        actual_drain_low_mah=main.actual_drain_low_mah if main else None,
        actual_drain_high_mah=main.actual_drain_high_mah if main else None,
        periods=periods, history_rows=counts.get("h", 0),
        history_string_pool_rows=counts.get("hsp", 0), row_type_counts=counts,
        unknown_rows=tuple(unknown))


def _int(row: CheckinRow, index: int, src: str | None) -> int | None:
    if index >= len(row.values):
        return None
    return parse_int(row.values[index], what=f"{row.row_type} field {index + 1}", source=src,
                     line_number=row.line_number)


def _single(by_type: dict[str, list[CheckinRow]], row_type: str,
            src: str | None) -> CheckinRow | None:
    found = by_type.get(row_type, [])
    if len(found) > 1:
        raise ParseError(f"two '{row_type}' rows in one period; expected one dump per file",
                         source=src, line_number=found[1].line_number)
    return found[0] if found else None


def _period(category: str, by_type: dict[str, list[CheckinRow]], src: str | None) -> CheckinPeriod:
    bt, dc, pws = (_single(by_type, t, src) for t in ("bt", "dc", "pws"))
    battery = {} if bt is None else {
        name: None if (i == 0 and bt.values[:1] == ("N/A",)) else _int(bt, i, src)
        for i, name in enumerate(_BT_FIELDS)}
    discharge = {} if dc is None else {name: _int(dc, i, src) for i, name in enumerate(_DC_FIELDS)}
    summary: list[float | None] = [None] * 4
    if pws is not None:
        values = pws.values if len(pws.values) <= 4 else _rejoin_decimal_commas(pws.values, 4)
        if values is None or len(values) != 4:
            raise ParseError(f"pws row has {len(pws.values)} values; expected 4 (capacity, "
                             "computed drain, drain low, drain high), also after rejoining "
                             "decimal-comma numbers", source=src, line_number=pws.line_number)
        summary = [_mah_text(value, "pws", pws.line_number, src) for value in values]
    extras = {row.row_type: row.values[len(names):] for row, names in ((bt, _BT_FIELDS),
              (dc, _DC_FIELDS)) if row is not None and len(row.values) > len(names)}
    return CheckinPeriod(
        category=category, battery=battery, discharge=discharge, capacity_mah=summary[0],
        computed_drain_mah=summary[1], actual_drain_low_mah=summary[2],
        actual_drain_high_mah=summary[3],
        power_items=tuple(_power_item(row, src) for row in by_type.get("pwi", [])),
        extra_values=extras)


def _mah(row: CheckinRow, index: int, src: str | None) -> float:
    return _mah_text(row.values[index], f"{row.row_type} field {index + 1}", row.line_number, src)


def _mah_text(value: str, what: str, line_number: int, src: str | None) -> float:
    return parse_number(value, what=what, source=src, line_number=line_number, line=None)


def _rejoin_decimal_commas(values: tuple[str, ...], count: int) -> tuple[str, ...] | None:
    """Android 5.0-5.1 in a decimal-comma locale: `12,5` was printed as two fields."""
    joined: list[str] = []
    index = 0
    while index < len(values):
        value = values[index]
        following = values[index + 1] if index + 1 < len(values) else ""
        if _is_digits(value) and int(value) < 100 and _is_digits(following):
            joined.append(f"{value}.{following}")
            index += 2
        else:
            joined.append(value)
            index += 1
    return tuple(joined) if len(joined) == count else None


def _is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 30


def _power_item(row: CheckinRow, src: str | None) -> CheckinPowerItem:
    if len(row.values) == 3:  # a legacy (label, mAh) row whose mAh has a decimal comma
        rejoined = _rejoin_decimal_commas(row.values[1:], 1)
        if rejoined is not None:
            row = CheckinRow(row.line_number, row.uid, row.category, row.row_type,
                             (row.values[0],) + rejoined)
    if len(row.values) != 2 and len(row.values) < 5:
        raise ParseError(f"pwi row has {len(row.values)} values; expected 2 (label, mAh) or 5 "
                         "(label, mAh, hidden, screen mAh, proportional mAh)", source=src,
                         line_number=row.line_number)
    smeared = len(row.values) >= 5
    hidden = row.values[2] if smeared else None
    if hidden not in (None, "0", "1"):
        raise ParseError(f"pwi hidden flag: expected 0 or 1, got {hidden!r}", source=src,
                         line_number=row.line_number)
    return CheckinPowerItem(
        line_number=row.line_number, label=row.values[0], uid=row.uid or 0,
        power_mah=_mah(row, 1, src),
        excluded_from_smearing=None if hidden is None else hidden == "1",
        screen_power_mah=_mah(row, 3, src) if smeared else None,
        proportional_smear_mah=_mah(row, 4, src) if smeared else None,
        extra_values=row.values[5:])


def sniff_batterystats_checkin(text: str, file_name: str) -> int:
    lines = [line.strip() for line in sniff_sample(text) if line.strip()]
    rows = [line for line in lines if _ROW_RE.fullmatch(line)]
    if any(",i,vers," in line for line in rows[:20]) or (rows and len(rows) >= 0.8 * len(lines)):
        return 95
    if rows:
        return 50
    name = os.path.basename(file_name or "").lower()
    return NAME_HINT_SCORE if "batterystats" in name and "checkin" in name else 0
