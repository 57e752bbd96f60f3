"""`dumpsys batterystats` human text: the three real captures (values read off the files by eye)
and made-up texts, labelled as such, in the formats the AOSP sources print."""
from __future__ import annotations

import pytest

from edgebench.errors import ParseError
from edgebench.parsers import parse_dumpsys_batterystats

MOTO = "phone_2016_android6-7_dumpsys_batterystats_full.txt"
SAMSUNG = "samsung_android9_2019_dumpsys_batterystats_full_decimal_comma_locale.txt"
EMULATOR = "emulator_android_dumpsys_batterystats_package_scoped.txt"


def _entry(summary, name, kind="uid"):
    matches = [e for e in summary.entries if e.name == name and e.kind == kind]
    assert len(matches) == 1, (name, matches)
    return matches[0]


def test_motorola_2016_full_dump_legacy_power_use(real):
    dump = parse_dumpsys_batterystats(real("c_", MOTO))
    assert dump.format_generation == "legacy"
    assert (dump.capacity_mah, dump.computed_drain_mah) == (3630, 1739)
    assert (dump.actual_drain_low_mah, dump.actual_drain_high_mah) == (871, 908)
    assert dump.time_on_battery_ms == 7 * 3_600_000 + 22 * 60_000 + 11_212  # 7h 22m 11s 212ms
    assert dump.screen_on_ms == 3_600_000 + 10 * 60_000 + 45_635  # 1h 10m 45s 635ms
    assert dump.discharge_mah is None  # this Android version prints no `Discharge: N mAh`
    (period,) = dump.periods
    assert period.kind == "since_charged" and period.line_number == 10225
    assert (period.system_starts, period.currently_on_battery) == (0, False)
    assert period.time_on_battery_uptime_ms == 2 * 3_600_000 + 24 * 60_000 + 38_024
    assert period.total_run_time_ms == 8 * 3_600_000 + 25 * 60_000 + 11_045
    assert period.start_clock_time == "2016-11-06-12-41-42"
    assert (period.screen_on_count, period.interactive_ms) == (25, 3_600_000 + 21 * 60_000 + 35_067)
    assert (period.discharged_low_pct, period.discharged_high_pct) == (24, 25)
    assert (period.discharged_screen_on_pct, period.discharged_screen_off_pct) == (13, 12)
    assert period.estimated_battery_capacity_mah is None

    power = dump.power_use
    assert len(power.entries) == 88 and len(power.uid_entries) == 82
    wifi = power.entries[0]
    assert (wifi.kind, wifi.name, wifi.power_mah) == ("component", "Wifi", 531)
    assert wifi.components_mah == {"cpu": 0.243, "wifi": 530}
    top_app = _entry(power, "u0a113")
    assert top_app.uid == 10113 and top_app.power_mah == 159
    assert top_app.components_mah == {"cpu": 43.9, "wake": 0.0000717, "radio": 115,
                                      "wifi": 0.00123}
    assert top_app.smeared_power_mah is None and top_app.excluded_from_smearing is False
    assert _entry(power, "Phone calls", "component").components_mah is None
    over = power.entries[-1]
    assert (over.name, over.power_mah, over.components_mah) == ("Over-counted", 832, {})
    assert _entry(power, "0").uid == 0

    history = dump.history
    assert history.header.startswith("Battery History (23% used")
    assert history.record_count == 8973  # counted with grep
    assert (history.first_time_ms, history.last_time_ms) == (0, 8 * 3_600_000 + 25 * 60_000 + 8_033)
    assert history.reset_clock_time == "2016-11-06-12-41-42"
    assert (history.first_level_pct, history.last_level_pct) == (100, 85)
    assert history.current_raw_values == ()
    assert all(line.strip().startswith(("Details:", "/proc/stat=")) for line in history.other_lines)
    assert [s.header for s in dump.sections] == ["Per-PID Stats:", "Discharge step durations:",
                                                  "Daily stats:"]
    # Unknown blocks are kept as printed, not dropped.
    brightness = next(b for b in period.other if b.header == "Screen brightnesses:")
    assert brightness.lines[0].strip() == "dark 1h 1m 52s 611ms (87.4%)"


def test_samsung_android9_decimal_comma_smearing(real):
    dump = parse_dumpsys_batterystats(real("c_", SAMSUNG))
    assert dump.format_generation == "smearing"
    assert (dump.capacity_mah, dump.computed_drain_mah) == (3500, 478)
    assert (dump.actual_drain_low_mah, dump.actual_drain_high_mah) == (490, 525)
    assert dump.discharge_mah == 482
    # "4h 59m 5s 428ms (98,2%) realtime": the decimal-comma percentage must not confuse it.
    assert dump.time_on_battery_ms == 4 * 3_600_000 + 59 * 60_000 + 5_428
    (period,) = dump.periods
    assert period.estimated_battery_capacity_mah == 3182
    assert period.time_on_battery_uptime_ms == 3_600_000 + 31 * 60_000 + 53_119
    assert period.time_on_battery_screen_off_ms == 4 * 3_600_000 + 42 * 60_000 + 34_355
    assert (period.screen_off_discharge_mah, period.screen_on_discharge_mah) == (318, 164)
    assert period.charge_time_remaining_ms == 54 * 60_000 + 30_000
    assert (period.screen_on_ms, period.screen_on_count) == (16 * 60_000 + 31_073, 31)
    assert period.interactive_ms == 16 * 60_000 + 15_205
    assert (period.discharged_low_pct, period.discharged_high_pct) == (14, 15)

    power = dump.power_use
    assert len(power.entries) == 125 and len(power.uid_entries) == 118
    spotify = power.entries[0]
    assert (spotify.name, spotify.uid, spotify.power_mah) == ("u0a225", 10225, 77.9)
    assert spotify.components_mah == {"cpu": 29.3, "wake": 9.45, "radio": 30.7, "sensor": 8.38}
    assert spotify.smeared_power_mah == 143
    assert spotify.smear_components_mah == {"screen": 3.14, "proportional": 61.6}
    assert spotify.excluded_from_smearing is False
    system = _entry(power, "1000")
    assert system.excluded_from_smearing and system.smeared_power_mah is None
    unaccounted = _entry(power, "Unaccounted", "component")
    assert (unaccounted.power_mah, unaccounted.smeared_power_mah) == (11.6, 0)
    assert unaccounted.components_mah == {} and unaccounted.excluded_from_smearing
    assert _entry(power, "u150a26").uid == 150 * 100_000 + 10_026  # second user (Secure Folder)
    assert _entry(power, "u150s1250").uid == 150 * 100_000 + 1250
    assert _entry(power, "AOD", "component").power_mah == 0.000787
    assert all(e.unread_text is None for e in power.entries)

    history = dump.history
    assert history.record_count == 6969 and history.last_level_pct == 86
    assert len(history.current_raw_values) == 615  # counted with grep
    assert history.current_raw_values[:3] == (-6, -69, -208)
    assert history.current_raw_values[-1] == 128
    assert [s.header for s in dump.sections][-1] == "Memory Stats"


def test_emulator_package_scoped_dump_without_history(real):
    dump = parse_dumpsys_batterystats(real("c_", EMULATOR))
    assert dump.history is None
    assert dump.format_generation == "smearing"
    assert (dump.capacity_mah, dump.computed_drain_mah) == (1000, 0.371)
    assert (dump.actual_drain_low_mah, dump.actual_drain_high_mah) == (0, 0)
    assert dump.time_on_battery_ms == 140_260 and dump.screen_on_ms == 138_618
    (period,) = dump.periods
    assert period.currently_on_battery is True
    assert period.estimated_battery_capacity_mah == 10.0
    assert (period.min_learned_capacity_mah, period.max_learned_capacity_mah) == (300, 300)
    assert period.time_on_battery_screen_off_ms == 1_642
    assert period.time_on_battery_screen_doze_ms == 0  # printed as 0ms: a value, not absent
    assert period.total_run_time_ms == 140_237
    assert period.discharge_mah == 0 and period.deep_doze_discharge_mah == 0
    assert period.discharged_screen_doze_pct == 0
    power = dump.power_use
    assert [e.name for e in power.entries][:4] == ["u0a22", "1000", "Screen", "Wifi"]
    assert len(power.uid_entries) == 7
    first = power.entries[0]
    assert first.components_mah == {"radio": 0.000324, "gps": 0.00000092, "sensor": 0.259}
    assert (first.smeared_power_mah, first.smear_components_mah) == (0.350, {"proportional": 0.0907})
    assert _entry(power, "Screen", "component").excluded_from_smearing
    assert [s.header for s in dump.sections][0] == "Total cpu time reads: 6"


def test_crlf_capture_reads_the_same(real):
    text = real("c_", EMULATOR)
    assert parse_dumpsys_batterystats(text.replace("\n", "\r\n")) == parse_dumpsys_batterystats(text)


# Made up from AOSP BatteryUsageStats/UidBatteryConsumer dump code (Android 12-15); not a capture.
ANDROID_12_PLUS = """\
Statistics since last charge:
  System starts: 2, currently on battery: true
  Estimated battery capacity: 4410 mAh
  Time on battery: 1h 2m 3s 456ms (100,0%) realtime, 30m 0s 0ms (48,3%) uptime
  Discharge: 12,5 mAh
  Screen on: 10m 0s 0ms (16,1%) 3x, Interactive: 9m 59s 0ms (16,0%)
  Estimated power use (mAh):
    Capacity: 4410, Computed drain: 123, actual drain: 120-130
    Global
      screen: 45.6 apps: 12.3 duration: 1h 2m 3s 456ms
      cpu(fg): 30.1 apps: 30.1
      wifi: 1.20 [energy consumption] apps: 1.00
    UID u0a123: 20.5 ( cpu=15.0 screen=5.50 ) 
    UID u0a77: 8.00 fg: 6.00 bg: 2.00 ( cpu=8.00 cpu:fg=6.00 cpu:bg=2.00 ) 
    UID u0a88: 3.00 fg: 2.00 (1h2m) bg: 1.00
      cpu=3.00 (1h2m3s) screen=0
      (on battery, screen on) cpu=2.00

    User 10: 0.300 ( cpu=0.300 ) 

  Per-app mobile ms per packet:
    Uid u0a123: 46.1 (253 packets over 11s 658ms) 1x
"""


def test_android_12_plus_battery_usage_stats_format():
    dump = parse_dumpsys_batterystats(ANDROID_12_PLUS)
    assert dump.format_generation == "battery_usage_stats"
    assert dump.discharge_mah == 12.5  # decimal comma
    assert dump.time_on_battery_ms == 3_723_456
    assert (dump.capacity_mah, dump.actual_drain_low_mah, dump.actual_drain_high_mah) == (4410, 120, 130)
    power = dump.power_use
    screen, cpu_fg, wifi = power.global_components
    assert (screen.kind, screen.name, screen.power_mah) == ("global", "screen", 45.6)
    assert (screen.apps_power_mah, screen.duration_ms) == (12.3, 3_723_456)
    assert cpu_fg.name == "cpu(fg)" and cpu_fg.duration_ms is None
    assert wifi.power_model == "energy consumption" and wifi.apps_power_mah == 1.0
    app, states, newest, user = power.entries
    assert (app.uid, app.components_mah) == (10123, {"cpu": 15.0, "screen": 5.5})
    assert states.process_states_mah == {"fg": 6.0, "bg": 2.0}
    assert states.components_mah == {"cpu": 8.0, "cpu:fg": 6.0, "cpu:bg": 2.0}
    assert newest.components_mah == {"cpu": 3.0, "screen": 0.0}
    assert newest.component_durations_ms == {"cpu": 3_723_000}
    assert newest.state_breakdowns_raw == {"on battery, screen on": "cpu=2.00"}
    assert (user.kind, user.name, user.uid, user.power_mah) == ("user", "10", None, 0.3)
    # The next block of the period is not swallowed by the power-use block.
    assert dump.periods[0].other[0].header == "Per-app mobile ms per packet:"


# Made up in the Android 2.x/4.x layouts (two periods, unplugged block); not a capture.
OLD_PERIODS = """\
Total Statistics (Current and Historic):
  System starts: 26, currently on battery: false
  Time on battery: 1d 2h 3m 4s 5ms (92.0%) realtime, 3h 0m 0s 0ms (10.0%) uptime
  Total run time: 1d 5h 0m 0s 0ms realtime, 4h 0m 0s 0ms uptime
Statistics since last unplugged:
  Time on battery: 5m 0s 0ms (100.0%) realtime, 1m 0s 0ms (20.0%) uptime
  Device is currently unplugged
    Discharge cycle start level: 93
    Amount discharged while screen on: 8
    Amount discharged while screen off: 5
"""


def test_old_period_headers_and_unplugged_block():
    dump = parse_dumpsys_batterystats(OLD_PERIODS)
    total, unplugged = dump.periods
    assert (total.kind, unplugged.kind) == ("total", "since_unplugged")
    assert total.time_on_battery_ms == ((26 * 60 + 3) * 60 + 4) * 1000 + 5
    assert dump.time_on_battery_ms == total.time_on_battery_ms  # no since-charged period: first
    assert dump.format_generation is None and dump.power_use is None and dump.capacity_mah is None
    assert (unplugged.discharged_screen_on_pct, unplugged.discharged_screen_off_pct) == (8, 5)
    assert unplugged.discharge_extras == {"Discharge cycle start level": "93"}


def test_android_5_decimal_comma_power_values():
    # Made up: Android 5.0/5.1 printed mAh in the device locale, so "81,8" means 81.8 mAh.
    text = ("Statistics since last charge:\n  Estimated power use (mAh):\n"
            "    Capacity: 3050, Computed drain: 674,5, actual drain: 640,2-671\n"
            "    Idle: 342\n    Uid 0: 81,8\n    Uid u0a70: 0,795\n")
    power = parse_dumpsys_batterystats(text).power_use
    assert (power.computed_drain_mah, power.actual_drain_low_mah, power.actual_drain_high_mah) == (
        674.5, 640.2, 671)
    assert [e.power_mah for e in power.entries] == [342, 81.8, 0.795]
    assert power.generation == "legacy" and power.entries[1].components_mah is None


def test_samsung_rated_and_typical_capacity():
    # Made up in the layout of Samsung's BatteryUsageStats.dump (decompiled framework).
    text = ("Statistics since last charge:\n  Estimated power use (mAh):\n"
            "    Capacity: 4855, Rated: 4900, Typical: 5000, Computed drain: 12,5, actual drain: 10\n"
            "    Global\n      screen: 1.00 apps: 0\n")
    power = parse_dumpsys_batterystats(text).power_use
    assert (power.capacity_mah, power.rated_capacity_mah, power.typical_capacity_mah) == (4855, 4900, 5000)
    assert power.computed_drain_mah == 12.5
    assert power.actual_drain_low_mah == power.actual_drain_high_mah == 10


# Made up in the shape of `dumpsys batterystats --usage` on Android 14-15 (BatteryUsageStats.dump
# alone, `Global` without the caller's prefix); not a capture.
USAGE_ONLY = """\
  Estimated power use (mAh):
    Capacity: 5000, Computed drain: 812, actual drain: 790-830
    Global
      screen: 210 apps: 200 duration: 2h 0m 5s 1ms 
      mobile_radio: 400 apps: 150 duration: 3h 1m 0s 0ms 
      wakelock: 0 apps: 0
    UID u0a200: 95.5 fg: 80.0
      cpu=20.5 screen=75.0
    UID 1000: 40.0 ( cpu=40.0 )
"""


def test_usage_only_output_is_read_as_a_power_use_block():
    dump = parse_dumpsys_batterystats(USAGE_ONLY)
    assert dump.periods == () and dump.history is None
    assert dump.format_generation == "battery_usage_stats"
    assert (dump.capacity_mah, dump.computed_drain_mah, dump.actual_drain_high_mah) == (5000, 812, 830)
    names = [c.name for c in dump.power_use.global_components]
    assert names == ["screen", "mobile_radio", "wakelock"]
    assert dump.power_use.global_components[1].duration_ms == (3 * 60 + 1) * 60_000
    app, system = dump.power_use.entries
    assert (app.uid, app.process_states_mah, app.components_mah) == (
        10200, {"fg": 80.0}, {"cpu": 20.5, "screen": 75.0})
    assert system.components_mah == {"cpu": 40.0}


def test_global_and_uid_lines_at_the_header_indent_stay_in_the_block():
    # Made up: a period whose power-use block prints `Global`/`UID` without extra indentation.
    text = ("Statistics since last charge:\n"
            "  Last learned battery capacity: 4174 mAh\n"
            "  Estimated power use (mAh):\n    Capacity: 4174, Computed drain: 20, actual drain: 19\n"
            "  Global\n    cpu: 20.0 apps: 20.0\n  UID u10a177: 20.0 ( cpu=20.0 )\n"
            "  Per-app mobile ms per packet:\n")
    dump = parse_dumpsys_batterystats(text)
    (period,) = dump.periods
    assert period.last_learned_capacity_mah == 4174
    assert [c.name for c in dump.power_use.global_components] == ["cpu"]
    (entry,) = dump.power_use.entries
    assert entry.uid == 1_010_177  # work profile (user 10)
    assert [b.header for b in period.other] == ["Per-app mobile ms per packet:"]


def test_history_only_dump_and_unknown_annotation_kept():
    text = ("Battery History (1% used, 1KB used of 256KB, 2 strings using 1KB):\n"
            "                    0 (9) RESET:TIME: 2024-01-02-03-04-05\n"
            "                    0 (2) 090 status=discharging current=-512\n"
            "          +1m05s270ms (2) 089 volt=3800\n"
            "Statistics since last charge:\n  Estimated power use (mAh):\n"
            "    Uid u0a1: 1.00 ( cpu=1.00 ) Mystery suffix\n")
    dump = parse_dumpsys_batterystats(text)
    history = dump.history
    assert (history.record_count, history.last_time_ms, history.last_level_pct) == (3, 65_270, 89)
    assert history.current_raw_values == (-512,)
    entry = dump.power_use.entries[0]
    assert entry.unread_text == "Mystery suffix" and entry.components_mah == {"cpu": 1.0}


@pytest.mark.parametrize("text, fragment", [
    ("", "no 'Statistics since ...:' or 'Battery History' section"),
    ("hello world\n", "no 'Statistics since ...:' or 'Battery History' section"),
    ("  Time on battery: 1s\n", "indented text before any section"),
    ("Can't find service: batterystats\n", "could not dump batterystats"),
    ("9,0,i,vers,35,214,SP1A,SP1A\n", "--checkin"),
    ("Statistics since last charge:\n  Time on battery: soon (1%) realtime\n", "duration"),
    ("Statistics since last charge:\n  Screen on: x (1%) 2x\n", "Screen on"),
    ("Statistics since last charge:\n  Discharge: many mAh\n", "expected a number"),
    ("Statistics since last charge:\n  System starts: lots, currently on battery: true\n",
     "decimal integer"),
    ("Statistics since last charge:\n  Time on battery: 1s (1%) realtime\n"
     "  Time on battery: 2s (1%) realtime\n", "appears twice"),
    ("Statistics since last charge:\n  Device battery use since last full charge\n"
     "    Amount discharged (lower bound): some\n", "decimal integer"),
    ("Statistics since last charge:\n  Estimated power use (mAh):\n    garbage here\n",
     "expected a power use line"),
    ("Statistics since last charge:\n  Estimated power use (mAh):\n"
     "    Capacity: lots, Computed drain: 1, actual drain: 1\n", "expected a number"),
    ("Statistics since last charge:\n  Estimated power use (mAh):\n"
     "    Capacity: 1, Computed drain: 1, actual drain: a-b\n", "actual drain"),
    ("Statistics since last charge:\n  Estimated power use (mAh):\n"
     "    Capacity: 1 Computed drain: 1\n", "expected a number"),
    ("Battery History (1% used):\n  not a record\n", "no history records"),
    ("Battery History (1% used):\n  +1s2h (2) 100 +screen\n", "history record time"),
    ("Battery History:\n    0 (2) 100\nBattery History:\n    0 (2) 100\n", "second Battery History"),
])
def test_malformed_input_raises_parse_error(text, fragment):
    with pytest.raises(ParseError) as info:
        parse_dumpsys_batterystats(text, source="bs.txt")
    assert fragment in str(info.value)
    assert str(info.value).startswith("bs.txt")
