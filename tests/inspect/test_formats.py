"""`edgebench inspect` picks the right device-info format for every real capture, by content and,
where content is ambiguous, by the sysfs name inside the file name."""
from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from edgebench.errors import ParseError
from edgebench.inspect import inspect_file
from edgebench.inspect.device_formats import DEVICE_FORMATS
from edgebench.inspect.formats import TEXT_FORMATS
from edgebench.inspect.registry import to_jsonable

REAL_DEVICE = Path(__file__).resolve().parents[2] / "fixtures" / "real-device"

EXPECTED = {
    "b_dumpsys_battery/emulator_2016_appium-adb_issue133_minimal_old_format.txt": "dumpsys_battery",
    "b_dumpsys_battery/qin_f21pro_android14_usb_charging_500mA.txt": "dumpsys_battery",
    "b_dumpsys_battery/samsung_2023_oneui_full_vendor_extras_mcloud_issue150.txt": "dumpsys_battery",
    "b_dumpsys_battery/xiaomi_redmi_note14_hyperos3_charge_counter_mah_miui_section_amply_pr52.txt": "dumpsys_battery",
    "d_power_supply/sony_xperia_2018_dmesg_healthd_battery_lines.txt": "healthd_log",
    "d_power_supply/sony_xperia_xz_kagura_usb_uevent_current_max_in_mA.txt": "power_supply_uevent",
    "d_power_supply/xiaomi_lavender_mainline_linux_pmi8998_fg_battery_uevent_duplicate_type.txt":
        "power_supply_uevent",
    "e_getprop_adb_devices/adb_devices_l_huawei_mate10_alp-al00_macos_usb_locationid.txt": "adb_devices",
    "e_getprop_adb_devices/adb_devices_l_xiaomi_alioth_linux_usb_path_single_line.txt": "adb_devices",
    "e_getprop_adb_devices/getprop_lg_v60_timelm_android11.txt": "getprop",
    "e_getprop_adb_devices/getprop_oneplus_nord_n10_tmo_android11.txt": "getprop",
    "f_cpuinfo_cpufreq_thermal/asus_tf201_tegra3_android3.2_proc_cpuinfo_crlf.txt": "proc_cpuinfo",
    "f_cpuinfo_cpufreq_thermal/asus_tf201_tegra3_cpufreq_available_frequencies.txt":
        "cpufreq_available_frequencies",
    "f_cpuinfo_cpufreq_thermal/galaxy_s9_us_sd845_proc_cpuinfo.txt": "proc_cpuinfo",
    "f_cpuinfo_cpufreq_thermal/huawei_mate20_kirin980_proc_cpuinfo.txt": "proc_cpuinfo",
    "f_cpuinfo_cpufreq_thermal/sony_xperia_x_compact_kugo_thermal_zone_types_console_partial.txt":
        "thermal_zone_types",
    **{f"f_cpuinfo_cpufreq_thermal/{device}_cpu{n}_cpuinfo_max_freq.txt": "cpufreq_value"
       for device, cpus in (("galaxy_s9_us", (0, 4)), ("huawei_mate20", (0, 4, 6))) for n in cpus},
    **{f"f_cpuinfo_cpufreq_thermal/{device}_cpu{n}_scaling_available_frequencies.txt":
       "cpufreq_available_frequencies"
       for device, cpus in (("galaxy_s9_us", (0, 4)), ("huawei_mate20", (0, 4, 6))) for n in cpus},
}


def test_every_capture_of_sections_b_d_e_f_is_covered():
    on_disk = {str(p.relative_to(REAL_DEVICE)) for section in "bdef"
               for p in REAL_DEVICE.glob(f"{section}_*/*")}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("relative, fmt", sorted(EXPECTED.items()))
def test_dispatch_picks_the_format_and_result_is_json(relative, fmt):
    result = inspect_file(REAL_DEVICE / relative)
    assert result.format == fmt
    assert dataclasses.is_dataclass(result.data)
    json.dumps(to_jsonable(result.data))  # inspect prints records as JSON


def test_device_formats_are_registered_once():
    names = [f.name for f in TEXT_FORMATS]
    for fmt in DEVICE_FORMATS:
        assert names.count(fmt.name) == 1


@pytest.mark.parametrize("file_name, fmt", [
    ("cpu0_scaling_cur_freq", "cpufreq_value"),
    ("policy4-scaling_max_freq.txt", "cpufreq_value"),
    ("cpu7_cpuinfo_min_freq", "cpufreq_value"),
    ("value.txt", "cpufreq_value"),  # no name: a kHz-sized number reads as a frequency
])
def test_single_frequency_by_name_and_content(tmp_path, file_name, fmt):
    path = tmp_path / file_name
    path.write_text("1804800\n")
    assert inspect_file(path).format == fmt


def test_small_single_number_named_cpu_capacity(tmp_path):
    path = tmp_path / "cpu4_cpu_capacity.txt"
    path.write_text("1024\n")
    result = inspect_file(path)
    assert result.format == "cpu_capacity" and result.data.capacity_per_1024 == 1024
    # Unnamed, a number this small cannot be a CPU clock in kHz: capacity is the only reading.
    plain = tmp_path / "number.txt"
    plain.write_text("389\n")
    assert inspect_file(plain).format == "cpu_capacity"


def test_time_in_state_by_content_and_name(tmp_path):
    path = tmp_path / "stats.txt"
    path.write_text("300000 10\n576000 20\n")
    assert inspect_file(path).format == "cpufreq_time_in_state"
    named = tmp_path / "cpu0_time_in_state"
    named.write_text("300000 10\n")  # one line: only the name makes it time_in_state
    assert inspect_file(named).format == "cpufreq_time_in_state"


def test_unknown_frequency_needs_the_name(tmp_path):
    path = tmp_path / "cpu3_scaling_cur_freq"
    path.write_text("<unknown>\n")
    result = inspect_file(path)
    assert result.format == "cpufreq_value" and result.data.freq_khz is None


def test_uevent_copied_under_its_sysfs_name(tmp_path):
    source = REAL_DEVICE / "d_power_supply/sony_xperia_xz_kagura_usb_uevent_current_max_in_mA.txt"
    target = tmp_path / "uevent"
    shutil.copy(source, target)
    assert inspect_file(target).format == "power_supply_uevent"


def test_made_up_thermalservice_dump_is_recognised(tmp_path):
    path = tmp_path / "thermal.txt"
    path.write_text("IsStatusOverride: false\nThermal Status: 0\nCached temperatures:\n"
                    "\tTemperature{mValue=30.0, mType=3, mName=skin, mStatus=0}\nHAL Ready: false\n")
    result = inspect_file(path)
    assert result.format == "dumpsys_thermalservice"
    assert result.data.temperatures[0].value_c == 30.0


@pytest.mark.parametrize("fmt", DEVICE_FORMATS, ids=lambda f: f.name)
def test_sniffers_score_empty_text_zero_or_name_only(fmt):
    assert 0 <= fmt.sniff("", "") <= 40
    assert fmt.sniff("", "") == 0


@pytest.mark.parametrize("file_name, text", [
    ("battery_capacity", "85\n"),  # power_supply/capacity: a percentage, not a CPU capacity
    ("cpu0_cpuinfo_transition_latency", "20000\n"),  # nanoseconds, not kHz
    ("cpu_temp.txt", "41200\n"),  # millidegrees, not kHz
])
def test_single_numbers_the_name_says_are_something_else_are_not_claimed(tmp_path, file_name, text):
    path = tmp_path / file_name
    path.write_text(text)
    for fmt in ("cpufreq_value", "cpu_capacity"):
        spec = next(f for f in DEVICE_FORMATS if f.name == fmt)
        assert spec.sniff(text, file_name) == 0
    with pytest.raises(ParseError):
        inspect_file(path)
