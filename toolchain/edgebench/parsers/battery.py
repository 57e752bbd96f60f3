"""`adb shell dumpsys battery`, every Android generation and the vendor extras.

AOSP BatteryService prints `  key: value` lines under `Current Battery Service state:`; the key
set grew over time (Max charging current/voltage and Charge counter in 7, Dock powered and
Charging state/policy in 14, Capacity level later). Vendors append their own lines (Samsung:
unindented FEATURE_* flags, a lowercase duplicate `charge counter`, a `BatteryInfoBackUp`
block); those are kept in `extras`, never dropped. Units are the ones BatteryService documents:
voltage mV, temperature tenths of a degree C, charge counter uAh, max charging current uA and
voltage uV. A value the device printed is reported as printed (an emulator's `voltage: 0` stays
0); a field the device did not print is None.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from edgebench.errors import ParseError
from edgebench.parsers._common import (NAME_HINT_SCORE, parse_bool, parse_int, sniff_sample,
                                        sysfs_name_hint, text_lines)

HEADER = "Current Battery Service state:"
_UPDATES_STOPPED = "(UPDATES STOPPED -- use 'reset' to restart)"
# BatteryManager.BATTERY_STATUS_* and BATTERY_HEALTH_* codes.
STATUS_NAMES = {1: "unknown", 2: "charging", 3: "discharging", 4: "not_charging", 5: "full"}
HEALTH_NAMES = {1: "unknown", 2: "good", 3: "overheat", 4: "dead", 5: "over_voltage",
                6: "unspecified_failure", 7: "cold"}
_POWERED_KEYS = {"AC powered": "ac", "USB powered": "usb", "Wireless powered": "wireless",
                 "Dock powered": "dock"}
_INT_KEYS = {"status", "health", "level", "scale", "voltage", "temperature",
             "Max charging current", "Max charging voltage", "Charge counter",
             "Charging state", "Charging policy", "Capacity level"}
_KNOWN_KEYS = set(_POWERED_KEYS) | _INT_KEYS | {"present", "technology"}
_SECTION_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_ .\-]*")
# `dumpsys` wrappers: present when the text was cut out of a bugreport or a `dumpsys` run.
_WRAPPER_RE = re.compile(r"DUMP OF SERVICE battery:|-{5,}|-{3,} \d+ ms .*|-+ was the duration .*")


@dataclass(frozen=True)
class DumpsysBattery:
    level_pct: float | None  # level * 100 / scale
    level: int | None
    scale: int | None
    status: str | None  # charging | discharging | not_charging | full | unknown (None: code not 1..5)
    status_code: int | None
    health: str | None
    health_code: int | None
    powered: tuple[str, ...] | None  # ac, usb, wireless, dock reported true; None: no such lines
    present: bool | None
    voltage_mv: int | None
    temperature_c: float | None
    technology: str | None
    charge_counter_uah: int | None
    max_charging_current_ua: int | None
    max_charging_voltage_uv: int | None
    charging_state: int | None  # Android 14+ HealthInfo.chargingState
    charging_policy: int | None  # Android 14+ HealthInfo.chargingPolicy
    capacity_level: int | None
    updates_stopped: bool  # `dumpsys battery unplug/set` froze the values shown
    has_header: bool
    extras: dict[str, str]  # vendor and unknown lines, key -> value (`Section.key` inside a block)


def parse_dumpsys_battery(text: str, *, source: str | None = None) -> DumpsysBattery:
    src = source
    values: dict[str, str] = {}
    extras: dict[str, str] = {}
    header = False
    updates_stopped = False
    section: tuple[str, int] | None = None  # vendor block name and its indentation
    for number, line in enumerate(text_lines(text), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        indent = len(line) - len(line.lstrip(" \t"))
        if stripped == HEADER:
            if header:
                raise ParseError("a second 'Current Battery Service state:' header; expected "
                                 "one dump per file", source=src, line_number=number, line=line)
            header = True
            section = None
            continue
        if stripped == _UPDATES_STOPPED:
            updates_stopped = True
            continue
        if _WRAPPER_RE.fullmatch(stripped):
            continue
        if stripped.startswith(("Can't find service", "Permission Denial")):
            raise ParseError("dumpsys could not dump the battery service; expected its state",
                             source=src, line_number=number, line=line)
        if section is not None and indent <= section[1]:
            section = None
        if ":" not in stripped:
            # A colon-less line names a vendor block (Samsung's `BatteryInfoBackUp`); its
            # more-indented lines are kept under that name.
            if not _SECTION_RE.fullmatch(stripped):
                raise ParseError("expected `key: value` or a block name", source=src,
                                 line_number=number, line=line)
            section = (stripped, indent)
            continue
        key, _, value = stripped.partition(":")
        key, value = key.strip(), value.strip()
        if not key or not key.isprintable():
            raise ParseError(f"expected `key: value`, got a key {key!r}", source=src,
                             line_number=number, line=line)
        if section is None and key in _KNOWN_KEYS:
            if key in values:
                raise ParseError(f"{key!r} appears twice; expected one battery dump per file",
                                 source=src, line_number=number, line=line)
            _check_known(key, value, src, number, line)
            values[key] = value
            continue
        name = f"{section[0]}.{key}" if section is not None else key
        suffix = 2
        base = name
        while name in extras:  # keep every line, even a vendor's repeated key
            name = f"{base}#{suffix}"
            suffix += 1
        extras[name] = value
    if "level" not in values:
        raise ParseError("no 'level:' line; expected `dumpsys battery` output starting with "
                         f"{HEADER!r}", source=src)
    return _build(values, extras, header, updates_stopped)


def _check_known(key: str, value: str, src: str | None, number: int, line: str) -> None:
    if key in _POWERED_KEYS or key == "present":
        parse_bool(value, what=key, source=src, line_number=number, line=line)
    elif key in _INT_KEYS:
        parse_int(value, what=key, source=src, line_number=number, line=line)


def _build(values: dict[str, str], extras: dict[str, str], header: bool,
           updates_stopped: bool) -> DumpsysBattery:
    def num(key: str) -> int | None:
        return int(values[key]) if key in values else None

    level, scale = num("level"), num("scale")
    level_pct = None
    if level is not None and scale is not None and scale > 0:
        level_pct = level * 100 / scale
    status_code, health_code = num("status"), num("health")
    temperature = num("temperature")
    technology = values.get("technology") or None
    return DumpsysBattery(
        level_pct=level_pct, level=level, scale=scale,
        status=STATUS_NAMES.get(status_code) if status_code is not None else None,
        status_code=status_code,
        health=HEALTH_NAMES.get(health_code) if health_code is not None else None,
        health_code=health_code,
        powered=tuple(name for key, name in _POWERED_KEYS.items() if values.get(key) == "true")
        if any(key in values for key in _POWERED_KEYS) else None,
        present=None if "present" not in values else values["present"] == "true",
        voltage_mv=num("voltage"),
        temperature_c=None if temperature is None else temperature / 10,
        technology=technology,
        charge_counter_uah=num("Charge counter"),
        max_charging_current_ua=num("Max charging current"),
        max_charging_voltage_uv=num("Max charging voltage"),
        charging_state=num("Charging state"), charging_policy=num("Charging policy"),
        capacity_level=num("Capacity level"),
        updates_stopped=updates_stopped, has_header=header, extras=extras)


def sniff_dumpsys_battery(text: str, file_name: str) -> int:
    lines = [line.strip() for line in sniff_sample(text)]
    if HEADER in lines[:5]:
        return 98
    keys = {line.partition(":")[0].strip() for line in lines if ":" in line}
    if {"level", "scale"} <= keys and keys & set(_POWERED_KEYS):
        return 70
    return NAME_HINT_SCORE if sysfs_name_hint(file_name) == "dumpsys_battery" else 0
