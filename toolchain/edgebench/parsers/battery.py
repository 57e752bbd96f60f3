"""`adb shell dumpsys battery`, every Android generation and the vendor extras.

AOSP BatteryService prints `  key: value` lines under `Current Battery Service state:`; the key
set grew over time (Max charging current/voltage and Charge counter in 7, Dock powered and
Charging state/policy in 14, Capacity level later; newer builds add one-space-indented notes such
as ` Time when the latest updated value of the voltage was sent via battery changed broadcast: ...`).
Vendors add their own lines, inside the block and after it: Samsung's indented extras, unindented
FEATURE_* flags and a `BatteryInfoBackUp` block; Xiaomi's `MiuiBatteryService first usage time:`
section of `key=value` lines; others alike. The standard block ends at the first unindented line;
every line that is not a standard field is kept in `extras` (`Section.key` inside a vendor section),
and no vendor line, whatever its shape, fails the parse.

Units are the ones BatteryService documents: voltage mV, temperature tenths of a degree C, charge
counter uAh, max charging current uA and voltage uV. A value the device printed is reported as
printed (an emulator's `voltage: 0` stays 0); a field the device did not print is None. A value
implausible in its documented unit (Xiaomi's charge counter in mAh) is kept as printed and listed
in `implausible` with the reason: it is never rescaled on a guess.
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
# Measurements a vendor might print with a decimal point (a voltage in volts): flagged, not failed.
_MEASURED = {"voltage": ("voltage_mv", "mV"), "temperature": ("temperature_c", "tenths of a degree C"),
             "Charge counter": ("charge_counter_uah", "uAh"),
             "Max charging current": ("max_charging_current_ua", "uA"),
             "Max charging voltage": ("max_charging_voltage_uv", "uV")}
_DECIMAL_RE = re.compile(r"[+-]?[0-9]{1,12}\.[0-9]{1,12}", re.ASCII)
# `dumpsys` wrappers: present when the text was cut out of a bugreport or a `dumpsys` run.
_WRAPPER_RE = re.compile(r"DUMP OF SERVICE battery:|-{5,}|-{3,} \d+ ms .*|-+ was the duration .*")


@dataclass(frozen=True)
class ImplausibleValue:
    """A standard field whose printed value cannot be right in its documented unit."""

    field: str  # the record's field, e.g. "charge_counter_uah"
    printed: str  # the value as the device printed it
    reason: str


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
    extras: dict[str, str]  # vendor and unknown lines, key -> value (`Section.key` inside a vendor section)
    implausible: tuple[ImplausibleValue, ...] = ()  # printed values kept, flagged (see module doc)


def _split_line(stripped: str) -> tuple[str, str, str] | None:
    """(key, separator, value) of `key: value` or `key=value` (whichever separator comes first);
    None for a line with neither."""
    colon, equals = stripped.find(":"), stripped.find("=")
    if colon < 0 and equals < 0:
        return None
    at = colon if equals < 0 or 0 <= colon < equals else equals
    return stripped[:at].strip(), stripped[at], stripped[at + 1:].strip()


def _opens_section(lines: list[str], index: int, indent: int) -> bool:
    """A name line (`BatteryInfoBackUp`, `MiuiBatteryService first usage time:`) followed by deeper lines."""
    for line in lines[index + 1:]:
        if line.strip():
            return len(line) - len(line.lstrip(" \t")) > indent
    return False


def parse_dumpsys_battery(text: str, *, source: str | None = None) -> DumpsysBattery:
    src = source
    values: dict[str, str] = {}
    extras: dict[str, str] = {}
    header = False
    updates_stopped = False
    in_standard = True  # a pasted fragment without the header is the standard block
    standard_indent: int | None = None  # indentation of the block's first field
    section: tuple[str, int] | None = None  # vendor section name and its indentation
    lines = text_lines(text)
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        indent = len(line) - len(line.lstrip(" \t"))
        if stripped == HEADER:
            if header:
                raise ParseError("a second 'Current Battery Service state:' header; expected "
                                 "one dump per file", source=src, line_number=number, line=line)
            header, in_standard, standard_indent, section = True, True, None, None
            continue
        if stripped == _UPDATES_STOPPED:
            updates_stopped = True
            continue
        if _WRAPPER_RE.fullmatch(stripped):
            continue
        if stripped.startswith(("Can't find service", "Permission Denial")):
            raise ParseError("dumpsys could not dump the battery service; expected its state",
                             source=src, line_number=number, line=line)
        if header and in_standard and standard_indent and indent == 0:
            in_standard = False  # the standard block is indented: an unindented line is the vendor's
        if section is not None and indent <= section[1]:
            section = None
        parts = _split_line(stripped)
        if (parts is None or parts[2] == "") and _opens_section(lines, number - 1, indent):
            section = (parts[0] if parts is not None else stripped, indent)
            continue
        key, separator, value = parts if parts is not None else (stripped, "", "")  # free text: kept whole
        if in_standard and section is None and separator == ":" and key in _KNOWN_KEYS:
            if standard_indent is None:
                standard_indent = indent
            if key in values:
                raise ParseError(f"{key!r} appears twice; expected one battery dump per file",
                                 source=src, line_number=number, line=line)
            _check_known(key, value, src, number, line)
            values[key] = value
            continue
        name = f"{section[0]}.{key}" if section is not None else key
        base, suffix = name, 2
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
    elif key in _INT_KEYS and not (key in _MEASURED and _DECIMAL_RE.fullmatch(value)):
        parse_int(value, what=key, source=src, line_number=number, line=line)


def _build(values: dict[str, str], extras: dict[str, str], header: bool,
           updates_stopped: bool) -> DumpsysBattery:
    def num(key: str) -> int | None:  # None too for a decimal measurement: flagged below, not converted
        return int(values[key]) if key in values and not _DECIMAL_RE.fullmatch(values[key]) else None

    level, scale = num("level"), num("scale")
    level_pct = None
    if level is not None and scale is not None and scale > 0:
        level_pct = level * 100 / scale
    status_code, health_code = num("status"), num("health")
    temperature = num("temperature")
    technology = values.get("technology") or None
    decimals = tuple(ImplausibleValue(field, values[key], f"{values[key]} has a decimal point; the documented "
                                      f"value is an integer in {unit} (not converted)")
                     for key, (field, unit) in _MEASURED.items() if key in values and _DECIMAL_RE.fullmatch(values[key]))
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
        updates_stopped=updates_stopped, has_header=header, extras=extras,
        implausible=decimals + _implausible(num("voltage"), temperature, num("Charge counter"), level_pct))


# Plausible ranges in the documented units: one Li-ion cell (two in series on some fast-charging
# phones), a battery that is neither frozen nor burning, a battery of 100 mAh (watch) to 100 Ah.
VOLTAGE_MV = (2000, 10000)
TEMPERATURE_DECIC = (-400, 1000)
FULL_CHARGE_UAH = (100_000, 100_000_000)


def _implausible(voltage: int | None, temperature: int | None, counter: int | None,
                 level_pct: float | None) -> tuple[ImplausibleValue, ...]:
    """Integers that cannot be right in their documented unit; 0 means "not reported" and passes."""
    found: list[ImplausibleValue] = []
    if voltage and not VOLTAGE_MV[0] <= voltage <= VOLTAGE_MV[1]:
        unit = " (looks like volts)" if abs(voltage) <= 10 else " (looks like uV)" if abs(voltage) >= 1_000_000 else ""
        found.append(ImplausibleValue("voltage_mv", str(voltage), f"{voltage} mV is outside the {VOLTAGE_MV[0]}.."
                                      f"{VOLTAGE_MV[1]} mV a phone battery shows{unit}"))
    if temperature is not None and not TEMPERATURE_DECIC[0] <= temperature <= TEMPERATURE_DECIC[1]:
        found.append(ImplausibleValue("temperature_c", str(temperature), f"{temperature} tenths of a degree is "
                                      f"{temperature / 10:g} C, outside -40..100 C (not tenths of a degree?)"))
    if counter:
        if counter < 0:
            found.append(ImplausibleValue("charge_counter_uah", str(counter), "a negative charge counter"))
        elif level_pct is not None and level_pct >= 1:
            full = counter * 100 / level_pct
            if not FULL_CHARGE_UAH[0] <= full <= FULL_CHARGE_UAH[1]:
                unit = " (looks like mAh)" if full < FULL_CHARGE_UAH[0] else ""
                found.append(ImplausibleValue("charge_counter_uah", str(counter), f"{counter} uAh at {level_pct:g} % "
                                              f"implies a {full / 1000:g} mAh battery{unit}"))
        elif counter < FULL_CHARGE_UAH[0] // 10 or counter > FULL_CHARGE_UAH[1]:
            unit = " (looks like mAh)" if counter < FULL_CHARGE_UAH[0] // 10 else ""
            found.append(ImplausibleValue("charge_counter_uah", str(counter), f"{counter} uAh is not a phone "
                                          f"battery's charge{unit}"))
    return tuple(found)


def sniff_dumpsys_battery(text: str, file_name: str) -> int:
    lines = [line.strip() for line in sniff_sample(text)]
    if HEADER in lines[:5]:
        return 98
    keys = {line.partition(":")[0].strip() for line in lines if ":" in line}
    if {"level", "scale"} <= keys and keys & set(_POWERED_KEYS):
        return 70
    return NAME_HINT_SCORE if sysfs_name_hint(file_name) == "dumpsys_battery" else 0
