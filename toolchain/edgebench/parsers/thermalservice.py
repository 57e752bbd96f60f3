"""`adb shell dumpsys thermalservice` (Android 10+), HIDL Thermal HAL 1.x/2.0 and AIDL forms.

Written from AOSP's ThermalManagerService dump and the toString() of android.os.Temperature /
CoolingDevice (no real capture ships with the project). Section headers are recognised by their
text, not their indentation: AOSP indents items with a tab, but pasted copies often lose it.
Android 10 printed temperatures as `Name: X, Type: N, Status: N, Value: F`; later releases print
`Temperature{mValue=.., mType=.., mName=.., mStatus=..}`. `Thermal Status` is
Integer.MIN_VALUE until the HAL reports, which this parser returns as thermal_status None.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from edgebench.errors import ParseError
from edgebench.parsers._common import (NAME_HINT_SCORE, none_if_nan, parse_bool, parse_float,
                                        parse_int, sniff_sample, sysfs_name_hint, text_lines)

# android.os.Temperature THROTTLING_* (0..6) and TYPE_*; android.os.CoolingDevice TYPE_*.
STATUS_NAMES = {0: "none", 1: "light", 2: "moderate", 3: "severe", 4: "critical",
                5: "emergency", 6: "shutdown"}
TEMPERATURE_TYPES = {-1: "unknown", 0: "cpu", 1: "gpu", 2: "battery", 3: "skin", 4: "usb_port",
                     5: "power_amplifier", 6: "bcl_voltage", 7: "bcl_current",
                     8: "bcl_percentage", 9: "npu", 10: "tpu", 11: "display", 12: "modem",
                     13: "soc", 14: "wifi", 15: "camera", 16: "flashlight", 17: "speaker",
                     18: "ambient", 19: "pogo"}
COOLING_TYPES = {0: "fan", 1: "battery", 2: "cpu", 3: "gpu", 4: "modem", 5: "npu",
                 6: "component", 7: "tpu", 8: "power_amplifier", 9: "display", 10: "speaker",
                 11: "wifi", 12: "camera", 13: "flashlight", 14: "usb_port"}
_STATUS_INVALID = -(2 ** 31)  # ThermalManagerService.INVALID_THROTTLING

_SECTIONS = {
    "ThermalEventListeners:": "listeners", "ThermalStatusListeners:": "listeners",
    "Cached temperatures:": "cached", "HAL connection:": "hal",
    "Current temperatures from HAL:": "current", "Current cooling devices from HAL:": "cooling",
    "Temperature static thresholds from HAL:": "thresholds",
    "Temperature headroom thresholds:": "headroom",
}
_BRACED_RE = re.compile(r"(Temperature|CoolingDevice|TemperatureThreshold)\{(.*)\}")
_FIELD_RE = re.compile(r"(m[A-Z]\w*)=(.*?)(?=, m[A-Z]\w*=|$)")
_OLD_TEMP_RE = re.compile(r"Name: (.*), Type: (-?[0-9]+), Status: (-?[0-9]+), Value: (\S+)")
_HIDL_THRESHOLD_RE = re.compile(r"\{\.type = (\w+), \.name = (.*?), \.hotThrottlingThresholds = "
                                r"\[(.*?)\], \.coldThrottlingThresholds = \[(.*?)\].*\}")
_HAL_RE = re.compile(r"(ThermalHAL .*?) connected: (yes|no)")
_ARRAY_RE = re.compile(r"\[(.*)\]")


@dataclass(frozen=True)
class ThermalTemperature:
    name: str
    type: int
    type_name: str | None
    value_c: float | None  # None when the HAL reports NaN (sensor not available)
    status: int
    status_name: str | None


@dataclass(frozen=True)
class CoolingDevice:
    name: str
    type: int
    type_name: str | None
    value: int  # throttle state: 0 = not throttling, higher = deeper (driver-defined max)


@dataclass(frozen=True)
class TemperatureThreshold:
    name: str
    type: int | str  # int in the AIDL form, the enum name in the HIDL form
    hot_thresholds_c: tuple[float | None, ...]  # index = throttling status 0..6; None = NaN
    cold_thresholds_c: tuple[float | None, ...]


@dataclass(frozen=True)
class ThermalServiceDump:
    thermal_status: int | None  # 0..6 (THROTTLING_*); None when not yet known
    thermal_status_name: str | None
    thermal_status_raw: int | None  # as printed (Integer.MIN_VALUE before the HAL reports)
    is_status_override: bool | None  # `cmd thermalservice override-status` is in effect
    hal_ready: bool | None
    hal_connection: str | None  # e.g. "ThermalHAL 2.0", "ThermalHAL AIDL 1"
    hal_connected: bool | None
    temperatures: tuple[ThermalTemperature, ...]  # from the HAL if listed, else the cache
    temperatures_source: str | None  # "hal" | "cached" | None
    cached_temperatures: tuple[ThermalTemperature, ...]
    cooling_devices: tuple[CoolingDevice, ...]
    thresholds: tuple[TemperatureThreshold, ...]
    headroom_thresholds: tuple[float | None, ...] | None
    extras: dict[str, str]  # lines of no known meaning, `section/key` -> value


def _float_list(text: str, what: str, src: str | None, number: int, line: str) -> tuple[float | None, ...]:
    if not text.strip():
        return ()
    return tuple(none_if_nan(parse_float(v, what=what, source=src, line_number=number, line=line))
                 for v in text.split(","))


def _temperature(fields: dict[str, str], src: str | None, number: int, line: str) -> ThermalTemperature:
    for key in ("mValue", "mType", "mName", "mStatus"):
        if key not in fields:
            raise ParseError(f"Temperature{{...}} without {key}=", source=src,
                             line_number=number, line=line)
    kind = parse_int(fields["mType"], what="mType", source=src, line_number=number, line=line)
    status = parse_int(fields["mStatus"], what="mStatus", source=src, line_number=number,
                       line=line)
    value = parse_float(fields["mValue"], what="mValue", source=src, line_number=number, line=line)
    return ThermalTemperature(name=fields["mName"], type=kind, type_name=TEMPERATURE_TYPES.get(kind),
                              value_c=none_if_nan(value), status=status,
                              status_name=STATUS_NAMES.get(status))


def _item(stripped: str, src: str | None, number: int,
          line: str) -> ThermalTemperature | CoolingDevice | TemperatureThreshold | None:
    """A Temperature / CoolingDevice / threshold object from one line, or None if not one."""
    braced = _BRACED_RE.fullmatch(stripped)
    if braced:
        kind, body = braced.groups()
        fields = dict(_FIELD_RE.findall(body))
        if kind == "Temperature":
            return _temperature(fields, src, number, line)
        if kind == "CoolingDevice":
            if not {"mValue", "mType", "mName"} <= fields.keys():
                raise ParseError("CoolingDevice{...} needs mValue=, mType= and mName=",
                                 source=src, line_number=number, line=line)
            kind_id = parse_int(fields["mType"], what="mType", source=src, line_number=number,
                                line=line)
            return CoolingDevice(
                name=fields["mName"], type=kind_id, type_name=COOLING_TYPES.get(kind_id),
                value=parse_int(fields["mValue"], what="mValue", source=src, line_number=number,
                                line=line))
        if not {"mType", "mName", "mHotThrottlingThresholds"} <= fields.keys():
            raise ParseError("TemperatureThreshold{...} needs mType=, mName= and "
                             "mHotThrottlingThresholds=", source=src, line_number=number,
                             line=line)
        hot_list = _ARRAY_RE.fullmatch(fields["mHotThrottlingThresholds"])
        cold_list = _ARRAY_RE.fullmatch(fields.get("mColdThrottlingThresholds", "[]"))
        if hot_list is None or cold_list is None:
            raise ParseError("threshold lists must look like [a, b, ...]", source=src,
                             line_number=number, line=line)
        return TemperatureThreshold(
            name=fields["mName"],
            type=parse_int(fields["mType"], what="mType", source=src, line_number=number,
                           line=line),
            hot_thresholds_c=_float_list(hot_list.group(1), "hot threshold", src, number, line),
            cold_thresholds_c=_float_list(cold_list.group(1), "cold threshold", src, number, line))
    old = _OLD_TEMP_RE.fullmatch(stripped)
    if old:
        name, kind, status, value = old.groups()
        return _temperature({"mName": name, "mType": kind, "mStatus": status, "mValue": value},
                            src, number, line)
    hidl = _HIDL_THRESHOLD_RE.fullmatch(stripped)
    if hidl:
        kind_name, name, hot, cold = hidl.groups()
        return TemperatureThreshold(
            name=name, type=kind_name,
            hot_thresholds_c=_float_list(hot, "hot threshold", src, number, line),
            cold_thresholds_c=_float_list(cold, "cold threshold", src, number, line))
    return None


def parse_dumpsys_thermalservice(text: str, *, source: str | None = None) -> ThermalServiceDump:
    src = source
    top: dict[str, str] = {}
    extras: dict[str, str] = {}
    lists: dict[str, list[Any]] = {"cached": [], "current": [], "cooling": [], "thresholds": []}
    seen_sections: set[str] = set()
    section: str | None = None
    header_text: str | None = None
    hal_connection = hal_connected = None
    headroom = None
    for number, line in enumerate(text_lines(text), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(("Can't find service", "Permission Denial")):
            raise ParseError("dumpsys could not dump thermalservice (it exists from Android 10)",
                             source=src, line_number=number, line=line)
        if stripped in _SECTIONS:
            section, header_text = _SECTIONS[stripped], stripped.rstrip(":")
            seen_sections.add(section)
            continue
        item = _item(stripped, src, number, line)
        if item is not None:
            expected = {ThermalTemperature: ("cached", "current"), CoolingDevice: ("cooling",),
                        TemperatureThreshold: ("thresholds",)}[type(item)]
            if section not in expected:
                raise ParseError(f"a {type(item).__name__} line outside its section "
                                 f"(expected under {' or '.join(expected)})",
                                 source=src, line_number=number, line=line)
            lists[section].append(item)
            continue
        if section == "headroom" and headroom is None and _ARRAY_RE.fullmatch(stripped):
            headroom = _float_list(stripped[1:-1], "headroom threshold", src, number, line)
            continue
        hal = _HAL_RE.fullmatch(stripped)
        if hal and section == "hal":
            hal_connection, hal_connected = hal.group(1).strip(), hal.group(2) == "yes"
            continue
        key, colon, value = stripped.partition(":")
        if not colon or not key.strip():
            raise ParseError("expected a thermalservice section, item or `key: value` line",
                             source=src, line_number=number, line=line)
        key, value = key.strip(), value.strip()
        if key in ("IsStatusOverride", "Thermal Status", "HAL Ready"):
            if key in top:
                raise ParseError(f"{key!r} appears twice; expected one dump per file",
                                 source=src, line_number=number, line=line)
            top[key] = value
            section = None  # these are top-level lines: any open section has ended
            if key == "Thermal Status":
                parse_int(value, what=key, source=src, line_number=number, line=line)
            else:
                parse_bool(value, what=key, source=src, line_number=number, line=line)
            continue
        name = f"{header_text}/{key}" if section is not None else key
        while name in extras:
            name += "'"
        extras[name] = value
    if not top and not any(lists.values()) and not seen_sections:
        raise ParseError("no 'Thermal Status:', 'HAL Ready:' or temperature lines; expected "
                         "`dumpsys thermalservice` output", source=src)
    raw = int(top["Thermal Status"]) if "Thermal Status" in top else None
    status = raw if raw is not None and raw in STATUS_NAMES else None
    current, cached = tuple(lists["current"]), tuple(lists["cached"])
    source_name = "hal" if "current" in seen_sections else ("cached" if "cached" in seen_sections
                                                          else None)
    return ThermalServiceDump(
        thermal_status=status, thermal_status_name=STATUS_NAMES.get(status) if status is not None
        else None, thermal_status_raw=raw,
        is_status_override=None if "IsStatusOverride" not in top
        else top["IsStatusOverride"] == "true",
        hal_ready=None if "HAL Ready" not in top else top["HAL Ready"] == "true",
        hal_connection=hal_connection, hal_connected=hal_connected,
        temperatures=current if source_name == "hal" else cached,
        temperatures_source=source_name, cached_temperatures=cached,
        cooling_devices=tuple(lists["cooling"]), thresholds=tuple(lists["thresholds"]),
        headroom_thresholds=headroom, extras=extras)


def sniff_dumpsys_thermalservice(text: str, file_name: str) -> int:
    lines = [line.strip() for line in sniff_sample(text)]
    markers = sum(1 for line in lines if line in _SECTIONS or line.startswith(
        ("Thermal Status:", "IsStatusOverride:", "HAL Ready:", "Temperature{", "CoolingDevice{")))
    if markers >= 2:
        return 95
    if markers == 1:
        return 60
    return NAME_HINT_SCORE if sysfs_name_hint(file_name) == "dumpsys_thermalservice" else 0
