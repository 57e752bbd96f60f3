"""`dumpsys batterystats --checkin`. No capture is kept for this format: every text below is MADE
UP, row by row, from the AOSP BatteryStats.dumpCheckin/dumpCheckinLocked sources."""
from __future__ import annotations

import pytest

from edgebench.errors import ParseError
from edgebench.parsers import parse_batterystats_checkin

# Made up: an Android 12-style dump (checkin version 35), with history and a few other rows.
MADE_UP_CURRENT = """\
9,0,i,vers,35,214,SP1A.210812.016,SP1A.210812.016
9,0,i,uid,1000,android
9,0,i,uid,1000,com.android.settings
9,0,i,uid,10123,com.example.app
9,hsp,0,1000,"*alarm*"
9,h,0:RESET:TIME:1704164645000
9,h,0,Bl=90,Bs=d,Bh=g,Bp=n,Bt=250,Bv=3900,+r,+w,+s
9,h,65270,Bl=89
9,0,l,bt,0,3723456,1800000,3800000,1900000,1704164645000,600000,300000,4410,4000000,4500000,0
9,0,l,gn,1,2,3,4,5,6,7,8,0,0
9,0,l,dc,3,4,1,2,150,100,0,0,0,0
9,0,l,pws,4410,123,120,130
9,0,l,pwi,scrn,45.6,1,0,0
9,0,l,pwi,cpu,30.1,0,0,0
9,10123,l,pwi,uid,20.5,0,5.50,1.20
9,1000,l,pwi,uid,10.2,1,0,0
9,10123,l,pr,"com.example.app",100,50,0,1,0,0
9,0,i,dsd,1000,90,s-
"""

# Made up: an Android 5/6-style dump (short bt and dc rows, two-value pwi rows), CRLF endings.
MADE_UP_LEGACY = ("9,0,i,vers,11,116,LMY48B,LMY48B\r\n"
                  "9,0,l,bt,0,26531212,8678024,30311045,12457857,1478416302000,22285577,4432389\r\n"
                  "9,0,l,dc,24,25,13,12\r\n"
                  "9,0,l,pws,3630,1739,871,908\r\n"
                  "9,0,l,pwi,wifi,531\r\n"
                  "9,10113,l,pwi,uid,159\r\n"
                  "9,0,u,bt,N/A,1000,500,2000,1000,1478416302000,0,0\r\n")


def test_made_up_current_dump():
    dump = parse_batterystats_checkin(MADE_UP_CURRENT)
    assert (dump.row_version, dump.checkin_version, dump.parcel_version) == (9, 35, 214)
    assert dump.start_platform_version == dump.end_platform_version == "SP1A.210812.016"
    assert dump.uid_packages == {1000: ("android", "com.android.settings"),
                                 10123: ("com.example.app",)}
    assert (dump.time_on_battery_ms, dump.screen_off_time_on_battery_ms) == (3_723_456, 600_000)
    assert (dump.capacity_mah, dump.computed_drain_mah) == (4410, 123)
    assert (dump.actual_drain_low_mah, dump.actual_drain_high_mah) == (120, 130)
    period = dump.periods["l"]
    assert period.battery["start_clock_time_ms"] == 1_704_164_645_000
    assert period.battery["estimated_capacity_mah"] == 4410
    assert period.battery["min_learned_capacity_uah"] == 4_000_000
    assert period.battery["screen_doze_ms"] == 0
    assert (period.discharge["discharged_low_pct"], period.discharge["discharged_high_pct"]) == (3, 4)
    assert (period.discharge["discharge_mah"], period.discharge["screen_off_discharge_mah"]) == (150, 100)
    screen, cpu, app, system = period.power_items
    assert (screen.label, screen.power_mah, screen.excluded_from_smearing) == ("scrn", 45.6, True)
    assert cpu.label == "cpu" and cpu.excluded_from_smearing is False
    assert (app.label, app.uid, app.power_mah) == ("uid", 10123, 20.5)
    assert (app.screen_power_mah, app.proportional_smear_mah) == (5.5, 1.2)
    assert system.uid == 1000 and system.excluded_from_smearing is True
    assert (dump.history_rows, dump.history_string_pool_rows) == (3, 1)
    # Unknown row types are counted and kept raw, not dropped.
    assert dump.row_type_counts["gn"] == 1 and dump.row_type_counts["pwi"] == 4
    assert [(r.row_type, r.category) for r in dump.unknown_rows] == [("gn", "l"), ("pr", "l"),
                                                                     ("dsd", "i")]
    assert dump.unknown_rows[1].values[0] == '"com.example.app"'


def test_made_up_legacy_dump_with_two_periods():
    dump = parse_batterystats_checkin(MADE_UP_LEGACY)
    assert dump.checkin_version == 11 and dump.history_rows == 0
    since_charge = dump.periods["l"]
    assert since_charge.battery["on_battery_realtime_ms"] == 26_531_212
    assert since_charge.battery["estimated_capacity_mah"] is None  # field not printed yet
    assert since_charge.discharge["discharged_screen_off_pct"] == 12
    assert since_charge.discharge["discharge_mah"] is None
    wifi, app = since_charge.power_items
    assert (wifi.label, wifi.power_mah, wifi.excluded_from_smearing) == ("wifi", 531, None)
    assert (app.uid, app.power_mah, app.screen_power_mah) == (10113, 159, None)
    unplugged = dump.periods["u"]
    assert unplugged.battery["start_count"] is None  # printed as N/A
    assert unplugged.power_items == () and unplugged.capacity_mah is None
    assert dump.time_on_battery_ms == 26_531_212  # from `l`, not `u`


def test_android_5_decimal_comma_numbers_are_rejoined():
    # Made up: Android 5.0/5.1 printed mAh in the device locale (`12,5` became two fields).
    dump = parse_batterystats_checkin("9,0,l,pws,3000,45,5,50,2,51,0\n"
                                      "9,10113,l,pwi,uid,81,8\n9,0,l,pwi,idle,342\n"
                                      "9,0,l,pwi,blue,0,0913\n")
    assert (dump.capacity_mah, dump.computed_drain_mah) == (3000, 45.5)
    assert (dump.actual_drain_low_mah, dump.actual_drain_high_mah) == (50.2, 51.0)
    assert [item.power_mah for item in dump.periods["l"].power_items] == [81.8, 342, 0.0913]


def test_extra_trailing_values_are_kept():
    dump = parse_batterystats_checkin("9,0,l,dc,1,2,3,4,5,6,7,8,9,10,11,12\n"
                                      "9,0,l,pwi,uid,1.0,0,0,0,new\n")
    period = dump.periods["l"]
    assert period.extra_values == {"dc": ("11", "12")}
    assert period.power_items[0].extra_values == ("new",)


@pytest.mark.parametrize("text, fragment", [
    ("", "no checkin rows"),
    ("Statistics since last charge:\n", "expected a checkin row"),
    ("9,0,l,bt,1\nhello\n", "expected a checkin row"),
    ("9,0,l,err,ERROR: BatteryStats.dumpCheckin called for which type 1\n", "reported an error"),
    ("9,0,l,pws,4410,123,120\n", "pws row has 3 values"),
    ("9,0,l,pws,3,5,1,2,3,4\n", "decimal-comma"),
    ("9,0,l,pwi,uid,100,5\n", "pwi row has 3 values"),
    ("9,0,l,pws,a,b,c,d\n", "expected a number"),
    ("9,0,l,pwi,uid,1.5,0\n", "pwi row has 3 values"),
    ("9,0,l,pwi,uid,1,2,0,0\n", "hidden flag"),
    ("9,0,l,bt,0,soon\n", "decimal integer"),
    ("9,0,l,bt,0\n9,0,l,bt,1\n", "two 'bt' rows"),
    ("9,0,i,vers,x,1,a,b\n", "decimal integer"),
    ("9,0,i,vers,35,1,a,b\n8,0,i,vers,35,1,a,b\n", "several checkin formats"),
])
def test_malformed_input_raises_parse_error(text, fragment):
    with pytest.raises(ParseError) as info:
        parse_batterystats_checkin(text)
    assert fragment in str(info.value)
