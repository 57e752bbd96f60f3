from __future__ import annotations

import pytest

from edgebench.errors import ParseError
from edgebench.parsers import parse_power_supply_uevent


def test_sony_usb_current_max_in_ma(real):
    supply = parse_power_supply_uevent(real("d_", "sony_xperia_xz_kagura_usb_uevent_current_max_in_mA.txt"))
    assert supply.name == "usb" and supply.type == "USB"
    assert supply.present is True and supply.online is True
    assert supply.health == "Good"
    assert supply.current_max_raw == 2000  # raw, never silently rescaled
    (current,) = supply.currents_inferred
    assert current.key == "CURRENT_MAX"
    assert current.unit_inferred == "mA" and current.ua_inferred == 2_000_000
    assert "charger" in current.reason
    assert supply.voltage_now_uv is None and supply.capacity_pct is None
    assert supply.other == {}


def test_lavender_mainline_duplicate_type_and_of_keys(real):
    supply = parse_power_supply_uevent(
        real("d_", "xiaomi_lavender_mainline_linux_pmi8998_fg_battery_uevent_duplicate_type.txt"))
    assert supply.name == "qcom-battery" and supply.type == "Battery"
    assert supply.status == "Full" and supply.technology == "Li-ion"
    assert supply.capacity_pct == 99
    assert supply.voltage_now_uv == 4336658
    assert supply.voltage_max_design_uv == 4400000 and supply.voltage_min_design_uv == 3400000
    assert supply.charge_full_design_uah == 4000000
    assert supply.temperature_c == pytest.approx(26.3)
    assert supply.current_now_raw == -19531  # negative although Full: sign kept as printed
    (current,) = supply.currents_inferred
    assert current.unit_inferred == "uA" and current.ua_inferred == -19531
    assert supply.properties["TEMP_ALERT_MAX"] == "450"
    assert supply.other == {"DEVTYPE": "power_supply", "OF_NAME": "battery",
                            "OF_FULLNAME": "/soc@0/spmi@800f000/pmic@0/battery@4000",
                            "OF_COMPATIBLE_0": "qcom,pmi8998-fg", "OF_COMPATIBLE_N": "1"}
    assert supply.charge_counter_uah is None


# Made-up uevents (not captures) covering the unit rules.
def test_large_current_is_microamps_whatever_the_sign():
    supply = parse_power_supply_uevent(
        "POWER_SUPPLY_NAME=battery\nPOWER_SUPPLY_CURRENT_NOW=1250000\nPOWER_SUPPLY_CHARGE_COUNTER=2900000\n"
        "POWER_SUPPLY_CURRENT_AVG=-480000\r\n")
    assert [(c.key, c.unit_inferred, c.ua_inferred) for c in supply.currents_inferred] == [
        ("CURRENT_NOW", "uA", 1250000), ("CURRENT_AVG", "uA", -480000)]
    assert supply.charge_counter_uah == 2900000


def test_small_current_without_voltage_evidence_stays_unknown():
    supply = parse_power_supply_uevent("POWER_SUPPLY_NAME=bms\nPOWER_SUPPLY_CURRENT_NOW=-379\n"
                                       "POWER_SUPPLY_VOLTAGE_NOW=3849\n")
    (current,) = supply.currents_inferred
    assert current.raw == -379 and current.unit_inferred is None and current.ua_inferred is None
    assert supply.voltage_now_uv == 3849  # ABI field as printed; this driver clearly uses mV


def test_zero_current_and_empty_value():
    supply = parse_power_supply_uevent("POWER_SUPPLY_NAME=usb\nPOWER_SUPPLY_CURRENT_NOW=0\n"
                                       "POWER_SUPPLY_MODEL_NAME=\n")
    assert supply.currents_inferred[0].ua_inferred == 0
    assert supply.properties["MODEL_NAME"] == ""


@pytest.mark.parametrize("text, fragment", [
    ("", "no POWER_SUPPLY_* lines"),
    ("DEVTYPE=power_supply\n", "no POWER_SUPPLY_* lines"),
    ("POWER_SUPPLY_NAME=usb\nnot a key value\n", "KEY=value"),
    ("POWER_SUPPLY_NAME=usb\nPOWER_SUPPLY_NAME=battery\n", "ONE supply"),
    ("POWER_SUPPLY_NAME=battery\nPOWER_SUPPLY_CAPACITY=full\n", "decimal integer"),
    ("POWER_SUPPLY_NAME=battery\nPOWER_SUPPLY_TEMP=2.5\n", "decimal integer"),
])
def test_malformed_input_raises_parse_error(text, fragment):
    with pytest.raises(ParseError) as info:
        parse_power_supply_uevent(text)
    assert fragment in str(info.value)
