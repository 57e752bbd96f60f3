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
    assert result.implausible == ()  # an emulator's 0 means "not reported", not a wrong unit


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
    assert result.implausible == ()


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
])
def test_malformed_input_raises_parse_error(text, fragment):
    with pytest.raises(ParseError) as info:
        parse_dumpsys_battery(text)
    assert fragment in str(info.value)


def test_xiaomi_hyperos_notes_miui_section_and_charge_counter_in_mah(real):
    result = parse_dumpsys_battery(real("b_", "xiaomi_redmi_note14_hyperos3_charge_counter_mah_miui_section_amply_pr52.txt"))
    assert result.level_pct == 80.0 and result.status == "charging" and result.powered == ("ac",)
    assert result.voltage_mv == 4228 and result.temperature_c == pytest.approx(36.4)
    assert result.max_charging_current_ua == 12400000 and result.capacity_level == 4
    # The one-space-indented AOSP notes are kept, not taken for the fields they talk about.
    assert result.extras["The last voltage value sent via the battery changed broadcast"] == "4232"
    assert result.extras["Time when the latest updated value of the voltage was sent via battery changed "
                         "broadcast"] == "+4h6m8s668ms"
    # The trailing vendor section of key=value lines, under its name.
    assert result.extras["MiuiBatteryService first usage time.mNtpTime"] == "1779945046315"
    assert result.extras["MiuiBatteryService first usage time.mParseNtpTime"] == "20260516"
    assert len(result.extras) == 6
    # 4274 "uAh" at 80 % would be a 5 mAh battery: kept as printed, flagged, never rescaled.
    assert result.charge_counter_uah == 4274
    (flag,) = result.implausible
    assert flag.field == "charge_counter_uah" and flag.printed == "4274" and "looks like mAh" in flag.reason


# Synthetic vendor variants, in the shapes documented above and in vendor captures (not captures).
HONOR_LIKE = """\
\r
DUMP OF SERVICE battery:\r
Current Battery Service state:\r
  AC powered: false\r
  USB powered: true\r
  Wireless powered: false\r
  Max charging current: 2000000\r
  Max charging voltage: 5000000\r
  Charge counter: 3180000\r
  status: 2\r
  health: 2\r
  present: true\r
  level: 71\r
  scale: 100\r
  voltage: 4.05\r
  temperature: 295\r
  technology: Li-poly\r
  mBatteryLevelLow=false\r
  mPlugType = 2\r
  cycle count:: 213\r
  ChargeTime remaining ~ 47 min\r
--------- 0.012s was the duration of dumpsys battery, ending at: 2024-05-01 10:00:00\r
HwBatteryService:\r
  level: 70\r
  mIsFastCharging=true\r
  status: 2\r
"""


def test_vendor_lines_of_every_shape_never_fail_the_parse():
    text = HONOR_LIKE.replace("  voltage: 4.05", "  voltage: 4050")
    result = parse_dumpsys_battery(text)
    assert result.level_pct == 71.0 and result.voltage_mv == 4050 and result.charge_counter_uah == 3180000
    extras = result.extras
    assert extras["mBatteryLevelLow"] == "false" and extras["mPlugType"] == "2"
    assert extras["cycle count"] == ": 213"
    assert extras["ChargeTime remaining ~ 47 min"] == ""  # free text is kept whole
    # Standard-looking keys in a vendor section belong to the section, not to the standard fields.
    assert extras["HwBatteryService.level"] == "70" and extras["HwBatteryService.status"] == "2"
    assert extras["HwBatteryService.mIsFastCharging"] == "true"
    assert result.implausible == ()


def test_a_decimal_measurement_is_flagged_and_left_unset_not_converted():
    result = parse_dumpsys_battery(HONOR_LIKE)  # `voltage: 4.05`: volts where AOSP prints integer mV
    assert result.voltage_mv is None and result.level_pct == 71.0
    (flag,) = result.implausible
    assert (flag.field, flag.printed) == ("voltage_mv", "4.05") and "integer in mv" in flag.reason.lower()


@pytest.mark.parametrize("line, field, printed, fragment", [
    ("  voltage: 4\n", "voltage_mv", 4, "looks like volts"),
    ("  voltage: 4050000\n", "voltage_mv", 4050000, "looks like uV"),
    ("  temperature: 2950\n", "temperature_c", 2950, "295 C"),
    ("  Charge counter: 3180\n", "charge_counter_uah", 3180, "looks like mAh"),
    ("  Charge counter: 3180000000\n", "charge_counter_uah", 3180000000, "6.36e+06 mAh"),
])
def test_values_implausible_in_their_documented_unit_are_flagged_not_converted(line, field, printed, fragment):
    result = parse_dumpsys_battery("Current Battery Service state:\n  level: 50\n  scale: 100\n" + line)
    (flag,) = result.implausible
    assert (flag.field, flag.printed) == (field, str(printed)) and fragment in flag.reason
    value = {"voltage_mv": result.voltage_mv, "charge_counter_uah": result.charge_counter_uah,
             "temperature_c": None if result.temperature_c is None else round(result.temperature_c * 10)}[field]
    assert value == printed  # as printed, in the documented unit


def test_pasted_fragment_without_header_or_indentation():
    result = parse_dumpsys_battery("level: 44\nscale: 100\nCharge counter: 2000000\nmFoo=1\n")
    assert result.level_pct == 44.0 and result.charge_counter_uah == 2000000 and result.has_header is False
    assert result.extras == {"mFoo": "1"} and result.implausible == ()


def test_unindented_lines_after_the_block_are_the_vendors():
    text = "Current Battery Service state:\n  level: 50\n  scale: 100\nvoltage: 3900\nlevel: 49\n"
    result = parse_dumpsys_battery(text)
    assert result.level == 50 and result.voltage_mv is None
    assert result.extras == {"voltage": "3900", "level": "49"}
