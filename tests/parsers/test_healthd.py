from __future__ import annotations

import pytest

from edgebench.errors import ParseError
from edgebench.parsers import parse_healthd_log


def test_sony_dmesg_capture(real):
    log = parse_healthd_log(real("d_", "sony_xperia_2018_dmesg_healthd_battery_lines.txt"))
    assert len(log.samples) == 15 and log.other_lines == 0
    first, last = log.samples[0], log.samples[-1]
    assert first.timestamp_s == pytest.approx(138.097972)
    assert (first.level_pct, first.voltage_mv, first.temperature_c) == (39, 3849, 27.0)
    assert (first.health_code, first.status_code) == (2, 2)
    assert first.current_raw == -379 and first.current_unit_inferred == "mA"
    assert first.full_charge_uah == 2623000 and first.cycle_count == 0
    assert first.chargers == ("usb",)
    assert (last.level_pct, last.voltage_mv, last.temperature_c) == (40, 3872, 25.0)
    assert [s.level_pct for s in log.samples].count(40) == 12


def test_logcat_lines_battery_none_and_microamps():
    # Made-up lines in healthd's formats (not captures).
    text = ("--------- beginning of main\n"
            "01-01 12:00:00.000   250   250 I healthd : battery l=80 v=4100 t=-1.5 h=2 st=3 "
            "c=-512000 fc=4000000 cc=12 chg=\n"
            "<6>[   10.100000] healthd: battery none chg=a\n")
    log = parse_healthd_log(text)
    assert log.other_lines == 1
    charging, none = log.samples
    assert charging.timestamp_s is None
    assert charging.temperature_c == -1.5
    assert charging.current_raw == -512000 and charging.current_unit_inferred == "uA"
    assert charging.chargers == ()
    assert none.battery_present is False and none.level_pct is None
    assert none.chargers == ("ac",) and none.timestamp_s == pytest.approx(10.1)


@pytest.mark.parametrize("text, fragment", [
    ("", "no `healthd: battery ...` lines"),
    ("kernel: something else\n", "no `healthd: battery ...` lines"),
    ("healthd: battery l=x v=1\n", "decimal integer"),
    ("healthd: battery l=1 l=2\n", "appears twice"),
    ("healthd: battery l=1 garbage\n", "key=value"),
    ("healthd: battery l=1 chg=z\n", "chg= letters"),
    ("healthd: battery t=warm\n", "expected a number"),
])
def test_malformed_input_raises_parse_error(text, fragment):
    with pytest.raises(ParseError) as info:
        parse_healthd_log(text)
    assert fragment in str(info.value)
