"""`/sys/class/power_supply/<name>/uevent`: POWER_SUPPLY_* lines plus DEVTYPE/OF_* and friends.

The kernel ABI (Documentation/ABI/testing/sysfs-class-power) fixes most units: voltages uV,
temperatures tenths of a degree C, charges uAh, energies uWh, power uW, capacity %. Currents are
specified in uA too, but vendor drivers break this (Sony's msm8996 `usb` supply prints
CURRENT_MAX=2000 meaning 2000 mA) and the sign of CURRENT_NOW differs between drivers
(the ABI says positive while charging; many Qualcomm drivers report charging as negative).
So currents are given raw (`*_raw`) and, separately, as a documented guess flagged `inferred`:

* a current of 20 A or more as mA is impossible on a phone, so |raw| >= 20000 is uA;
* a charger limit (CURRENT_MAX, INPUT_CURRENT_LIMIT, ...) below 20000 on a charger-type supply
  (USB, Mains, Wireless, ...) cannot be uA (no charger offers under 20 mA), so it is mA;
* otherwise, if the same file prints voltages in uV (>= 100000) the driver follows the ABI and
  the current is taken as uA; else the unit stays unknown (None).
The sign is never changed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from edgebench.errors import ParseError
from edgebench.parsers._common import (NAME_HINT_SCORE, parse_int, sniff_sample, sysfs_name_hint,
                                        text_lines)

_LINE_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)")
_PREFIX = "POWER_SUPPLY_"
_CHARGER_TYPES = {"USB", "USB_DCP", "USB_CDP", "USB_ACA", "USB_C", "USB_PD", "USB_PD_DRP",
                  "USB_HVDCP", "USB_HVDCP_3", "USB_FLOAT", "Mains", "Wireless", "Wipower",
                  "BrickID", "Apple Brick ID"}
_LIMIT_KEYS = ("CURRENT_MAX", "INPUT_CURRENT_LIMIT", "CONSTANT_CHARGE_CURRENT",
               "CONSTANT_CHARGE_CURRENT_MAX", "CHARGE_CONTROL_LIMIT")
_CURRENT_KEYS = ("CURRENT_NOW", "CURRENT_AVG") + _LIMIT_KEYS


@dataclass(frozen=True)
class InferredCurrent:
    key: str  # e.g. "CURRENT_NOW"
    raw: int
    unit_inferred: str | None  # "uA" | "mA" | None (cannot tell)
    ua_inferred: int | None  # raw converted to uA under that guess, sign untouched
    reason: str  # which rule of the module docstring decided


@dataclass(frozen=True)
class PowerSupplyUevent:
    name: str | None
    type: str | None  # Battery, USB, Mains, Wireless, ...
    status: str | None  # Charging, Discharging, Not charging, Full, Unknown
    health: str | None
    technology: str | None
    present: bool | None
    online: bool | None
    capacity_pct: int | None
    capacity_level: str | None
    voltage_now_uv: int | None
    voltage_avg_uv: int | None
    voltage_ocv_uv: int | None
    voltage_max_uv: int | None
    voltage_min_uv: int | None
    voltage_max_design_uv: int | None
    voltage_min_design_uv: int | None
    temperature_c: float | None  # TEMP is tenths of a degree C
    charge_counter_uah: int | None
    charge_full_uah: int | None
    charge_full_design_uah: int | None
    charge_now_uah: int | None
    energy_now_uwh: int | None
    power_now_uw: int | None
    cycle_count: int | None
    current_now_raw: int | None  # as printed; see the module docstring for unit and sign
    current_avg_raw: int | None
    current_max_raw: int | None
    current_unit_hint: str  # what the ABI says and why the raw values are kept raw
    currents_inferred: tuple[InferredCurrent, ...]
    properties: dict[str, str]  # every POWER_SUPPLY_* value, prefix removed, as printed
    other: dict[str, str]  # non-POWER_SUPPLY keys (DEVTYPE, OF_NAME, OF_COMPATIBLE_0, ...)


CURRENT_UNIT_HINT = ("kernel ABI says uA (positive = charging), but some vendor drivers print "
                     "mA or the opposite sign; see currents_inferred")


def parse_power_supply_uevent(text: str, *, source: str | None = None) -> PowerSupplyUevent:
    src = source
    props: dict[str, str] = {}
    other: dict[str, str] = {}
    for number, line in enumerate(text_lines(text), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        match = _LINE_RE.fullmatch(stripped)
        if match is None:
            raise ParseError("expected `KEY=value` lines as in a sysfs uevent file",
                             source=src, line_number=number, line=line)
        key, value = match.groups()
        table, short = (props, key[len(_PREFIX):]) if key.startswith(_PREFIX) else (other, key)
        if short in table and table[short] != value:
            # Mainline kernels print POWER_SUPPLY_TYPE twice with the same value: fine. A
            # different value means two supplies' files were concatenated.
            raise ParseError(f"{key} appears twice with different values ({table[short]!r}, "
                             f"{value!r}); expected the uevent of ONE supply",
                             source=src, line_number=number, line=line)
        table[short] = value
    if not props:
        raise ParseError("no POWER_SUPPLY_* lines; expected /sys/class/power_supply/*/uevent",
                         source=src)
    return _build(props, other, src)


def _build(props: dict[str, str], other: dict[str, str], src: str | None) -> PowerSupplyUevent:
    def num(key: str) -> int | None:
        if key not in props or props[key].strip() == "":
            return None
        return parse_int(props[key], what=_PREFIX + key, source=src)

    def flag(key: str) -> bool | None:
        value = num(key)
        return None if value is None else value != 0

    temp = num("TEMP")
    return PowerSupplyUevent(
        name=props.get("NAME"), type=props.get("TYPE"), status=props.get("STATUS"),
        health=props.get("HEALTH"), technology=props.get("TECHNOLOGY"),
        present=flag("PRESENT"), online=flag("ONLINE"),
        capacity_pct=num("CAPACITY"), capacity_level=props.get("CAPACITY_LEVEL"),
        voltage_now_uv=num("VOLTAGE_NOW"), voltage_avg_uv=num("VOLTAGE_AVG"),
        voltage_ocv_uv=num("VOLTAGE_OCV"), voltage_max_uv=num("VOLTAGE_MAX"),
        voltage_min_uv=num("VOLTAGE_MIN"), voltage_max_design_uv=num("VOLTAGE_MAX_DESIGN"),
        voltage_min_design_uv=num("VOLTAGE_MIN_DESIGN"),
        temperature_c=None if temp is None else temp / 10,
        charge_counter_uah=num("CHARGE_COUNTER"), charge_full_uah=num("CHARGE_FULL"),
        charge_full_design_uah=num("CHARGE_FULL_DESIGN"), charge_now_uah=num("CHARGE_NOW"),
        energy_now_uwh=num("ENERGY_NOW"), power_now_uw=num("POWER_NOW"),
        cycle_count=num("CYCLE_COUNT"),
        current_now_raw=num("CURRENT_NOW"), current_avg_raw=num("CURRENT_AVG"),
        current_max_raw=num("CURRENT_MAX"), current_unit_hint=CURRENT_UNIT_HINT,
        currents_inferred=tuple(_infer(key, raw, props) for key in _CURRENT_KEYS
                                if (raw := num(key)) is not None),
        properties=props, other=other)


def _infer(key: str, raw: int, props: dict[str, str]) -> InferredCurrent:
    """The unit guess of the module docstring, with the rule that made it."""
    if raw == 0:
        return InferredCurrent(key, raw, None, 0, "zero is zero in any unit")
    if abs(raw) >= 20_000:
        return InferredCurrent(key, raw, "uA", raw, ">= 20000: 20 A or more cannot be mA")
    if key in _LIMIT_KEYS and props.get("TYPE") in _CHARGER_TYPES and raw > 0:
        return InferredCurrent(key, raw, "mA", raw * 1000,
                               "charger limit under 20000 on a charger supply: mA")
    voltages = [props.get(k, "") for k in ("VOLTAGE_NOW", "VOLTAGE_AVG", "VOLTAGE_OCV",
                                           "VOLTAGE_MAX_DESIGN", "VOLTAGE_MAX")]
    if any(re.fullmatch(r"[0-9]{6,9}", v.strip()) for v in voltages):
        return InferredCurrent(key, raw, "uA", raw,
                               "voltages printed in uV: the driver follows the ABI (uA)")
    return InferredCurrent(key, raw, None, None, "ambiguous: no rule applies")


def sniff_power_supply_uevent(text: str, file_name: str) -> int:
    lines = [line.strip() for line in sniff_sample(text) if line.strip()]
    hint = NAME_HINT_SCORE if sysfs_name_hint(file_name) == "power_supply_uevent" else 0
    if not lines or not all(_LINE_RE.fullmatch(line) for line in lines):
        return 0
    if any(line.startswith(_PREFIX) for line in lines):
        return 95
    return hint // 2  # another device's uevent (KEY=value, no POWER_SUPPLY_)
