from __future__ import annotations

import pytest

from edgebench.errors import ParseError
from edgebench.parsers import parse_dumpsys_battery


def test_emulator_2016_minimal_old_format(real):
    result = parse_dumpsys_battery(real("b_", "emulator_2016_appium-adb_issue133_minimal_old_format.txt"))
    assert result.level_pct == 89.0
    assert result.status == "charging" and result.status_code == 2
    assert result.health == "good"
    assert result.powered == ("ac",)
    assert result.present is True
    # What the emulator printed, 0, is reported; fields it did not print are None, not 0.
    assert result.voltage_mv == 0 and result.temperature_c == 0.0
    assert result.charge_counter_uah is None
    assert result.max_charging_current_ua is None and result.max_charging_voltage_uv is None
    assert result.technology == "Li-ion"
    assert result.updates_stopped is False and result.extras == {}


def test_qin_f21pro_android14(real):
    result = parse_dumpsys_battery(real("b_", "qin_f21pro_android14_usb_charging_500mA.txt"))
    assert result.level_pct == 79.0
    assert result.status == "charging"
    assert result.powered == ("usb",)
    assert result.voltage_mv == 4175
    assert result.temperature_c == pytest.approx(27.8)
    assert result.charge_counter_uah == 2327340
    assert result.max_charging_current_ua == 500000
    assert result.max_charging_voltage_uv == 5000000
    assert result.charging_state == 0 and result.charging_policy == 0
    assert result.extras == {}


def test_samsung_oneui_vendor_extras(real):
    result = parse_dumpsys_battery(real("b_", "samsung_2023_oneui_full_vendor_extras_mcloud_issue150.txt"))
    assert result.level_pct == 100.0
    assert result.status == "full" and result.status_code == 5
    assert result.powered == ("usb",)
    assert result.voltage_mv == 4312
    assert result.temperature_c == pytest.approx(30.9)
    assert result.charge_counter_uah == 2967000
    assert result.max_charging_current_ua == 0  # printed as 0 by Samsung, kept as printed
    assert result.charging_state is None  # not printed on this build
    extras = result.extras
    assert extras["charge counter"] == "2967000"  # the lowercase vendor duplicate is kept apart
    assert extras["current now"] == "0"
    assert extras["FEATURE_WIRELESS_FAST_CHARGER_CONTROL"] == "true"  # unindented vendor line
    assert extras["LLB MAN"] == ""
    assert extras["LLB CURRENT"] == "YEAR2023M8D9"
    assert extras["BatteryInfoBackUp.mSavedBatteryAsoc"] == "96"
    assert extras["BatteryInfoBackUp.SEC_FEATURE_PREVENT_SWELLING"] == "false"
    assert len(extras) == 27


# Made-up dumps in the shapes AOSP's BatteryService prints (not captures).
UNPLUGGED = """\
Current Battery Service state:
  (UPDATES STOPPED -- use 'reset' to restart)
  AC powered: false
  USB powered: false
  Wireless powered: false
  Dock powered: true
  Max charging current: 0
  Max charging voltage: 0
  Charge counter: 1000000
  status: 3
  health: 3
  present: true
  level: 37
  scale: 50
  voltage: 3800
  temperature: -52
  technology: Li-poly
  Charging state: 1
  Charging policy: 2
  Capacity level: 3
"""


def test_updates_stopped_after_unplug_and_scale_not_100():
    result = parse_dumpsys_battery(UNPLUGGED)
    assert result.updates_stopped is True
    assert result.level_pct == 74.0  # 37 of 50
    assert result.status == "discharging" and result.health == "overheat"
    assert result.powered == ("dock",)
    assert result.temperature_c == pytest.approx(-5.2)
    assert (result.charging_state, result.charging_policy, result.capacity_level) == (1, 2, 3)


def test_gingerbread_voltage_without_space_and_odd_indentation():
    text = ("Current Battery Service state:\r\n AC powered: false\r\n   USB powered: true\r\n"
            "  status: 4\r\n  health: 7\r\n  present: false\r\n  level: 5\r\n  scale: 100\r\n"
            "  voltage:4083\r\n  temperature: 300\r\n  technology: \r\n")
    result = parse_dumpsys_battery(text)
    assert result.voltage_mv == 4083
    assert result.status == "not_charging" and result.health == "cold"
    assert result.present is False
    assert result.technology is None


@pytest.mark.parametrize("code, name", [(1, "unknown"), (2, "charging"), (3, "discharging"),
                                        (4, "not_charging"), (5, "full"), (9, None)])
def test_status_codes(code, name):
    result = parse_dumpsys_battery(f"  status: {code}\n  level: 50\n")
    assert result.status == name and result.status_code == code
    assert result.level_pct is None  # no scale printed: no percentage invented
    assert result.powered is None  # no `... powered:` lines: unknown, not "unplugged"
    assert result.has_header is False


@pytest.mark.parametrize("text, fragment", [
    ("", "no 'level:' line"),
    ("Current Battery Service state:\n  AC powered: maybe\n  level: 5\n", "'true' or 'false'"),
    ("Current Battery Service state:\n  level: high\n", "decimal integer"),
    ("Current Battery Service state:\n  level: 5\n  level: 6\n", "appears twice"),
    ("Current Battery Service state:\n  level: 5\nCurrent Battery Service state:\n", "second"),
    ("Can't find service: battery\n", "could not dump"),
    ("  level: 5\n  ???\n", "block name"),
])
def test_malformed_input_raises_parse_error(text, fragment):
    with pytest.raises(ParseError) as info:
        parse_dumpsys_battery(text)
    assert fragment in str(info.value)
