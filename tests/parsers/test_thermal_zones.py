from __future__ import annotations

import pytest

from edgebench.errors import ParseError
from edgebench.parsers import parse_thermal_zones


def test_sony_kugo_console_transcript(real):
    zones = parse_thermal_zones(real("f_", "sony_xperia_x_compact_kugo_thermal_zone_types_console_partial.txt"))
    assert zones.types == {
        0: "bms", 1: "battery", 2: "pa_therm1", 3: "xo_therm", 4: "xo_therm_buf",
        5: "case_therm", 6: "flash_therm", 7: "tsens_tz_sensor0", 8: "tsens_tz_sensor1",
        9: "tsens_tz_sensor2", 10: "tsens_tz_sensor3", 11: "tsens_tz_sensor4",
        12: "tsens_tz_sensor5", 13: "tsens_tz_sensor6", 14: "tsens_tz_sensor7"}
    assert [z.index for z in zones.zones] == list(range(15))
    assert all(z.errors == {} for z in zones.zones)


# Made-up listings (not captures) in the other shapes people capture.
def test_grep_output_with_temps():
    zones = parse_thermal_zones(
        "/sys/class/thermal/thermal_zone10/type:gpu-usr\n"
        "/sys/class/thermal/thermal_zone2/type:cpu0-silver-usr\n"
        "/sys/class/thermal/thermal_zone2/temp:41200\r\n")
    assert zones.types == {2: "cpu0-silver-usr", 10: "gpu-usr"}
    assert zones.zones[0].attributes == {"type": "cpu0-silver-usr", "temp": "41200"}


def test_head_output_and_device_prompt_transcript():
    head = parse_thermal_zones("==> /sys/class/thermal/thermal_zone0/type <==\nmtktscpu\n\n"
                               "==> /sys/class/thermal/thermal_zone1/type <==\nmtktspmic\n")
    assert head.types == {0: "mtktscpu", 1: "mtktspmic"}
    device = parse_thermal_zones("kugo:/ $ cat /sys/class/thermal/thermal_zone3/type\nxo_therm\n"
                                 "kugo:/ $ cat /sys/class/thermal/thermal_zone4/type\n"
                                 "cat: /sys/class/thermal/thermal_zone4/type: Permission denied\n"
                                 "kugo:/ $ cat /sys/class/thermal/thermal_zone5/type\n"
                                 "kugo:/ $ \n")
    assert device.types == {3: "xo_therm"}
    assert device.zones[1].errors["type"].endswith("Permission denied")
    assert device.zones[2].errors == {"type": "no output"}  # the read whose output never came


def test_quoted_adb_shell_command():
    zones = parse_thermal_zones("$ adb -s R58M shell 'cat /sys/class/thermal/thermal_zone7/type'\n"
                                "tsens_tz_sensor0\n")
    assert zones.types == {7: "tsens_tz_sensor0"}


@pytest.mark.parametrize("text, fragment", [
    ("", "no thermal_zoneN attribute values"),
    ("bms\nbattery\n", "no command before it"),
    ("$ cat /sys/class/thermal/thermal_zone*/type\nbms\n", "glob"),
    ("$ ls /sys/class/thermal\nthermal_zone0\n", "not a thermal_zoneN read"),
    ("thermal_zone1/type:a\nthermal_zone1/type:b\n", "different values"),
])
def test_malformed_input_raises_parse_error(text, fragment):
    with pytest.raises(ParseError) as info:
        parse_thermal_zones(text)
    assert fragment in str(info.value)
