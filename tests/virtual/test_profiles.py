"""Profiles load, and their values are the real captures they claim to come from."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgebench.errors import UsageError
from edgebench.virtual.profiles import list_profiles, load_profile

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "real-device"
F = REAL / "f_cpuinfo_cpufreq_thermal"


def test_both_profiles_are_listed_and_load() -> None:
    assert {"pixel-8-like", "galaxy-s9-like"} <= set(list_profiles())
    pixel = load_profile("pixel-8-like")
    assert pixel.properties["ro.product.model"] == "Pixel 8"
    assert [c.cpus for c in pixel.clusters] == [(0, 1, 2, 3), (4, 5, 6, 7), (8,)]
    assert pixel.clusters[2].cpufreq["cpuinfo_max_freq_khz"] == 2914000
    assert all(key in pixel.provenance for key in ("properties", "proc_cpuinfo", "cpu", "thermal_zones"))


def test_galaxy_s9_profile_matches_the_real_device_fixtures() -> None:
    s9 = load_profile("galaxy-s9-like")
    assert s9.proc_cpuinfo == (F / "galaxy_s9_us_sd845_proc_cpuinfo.txt").read_text()
    for cluster in s9.clusters:
        cpu = cluster.cpus[0]
        table = [int(x) for x in (F / f"galaxy_s9_us_cpu{cpu}_scaling_available_frequencies.txt").read_text().split()]
        assert cluster.cpufreq["scaling_available_frequencies_khz"] == table
        assert cluster.cpufreq["cpuinfo_max_freq_khz"] == int((F / f"galaxy_s9_us_cpu{cpu}_cpuinfo_max_freq.txt").read_text())
    battery = s9.power_supply["battery"]
    samsung = (REAL / "b_dumpsys_battery" / "samsung_2023_oneui_full_vendor_extras_mcloud_issue150.txt").read_text()
    assert f"  level: {battery['capacity']}\n" in samsung and f"  voltage: {battery['voltage_now'] // 1000}\n" in samsung
    assert "LLB CAL: 20180831" in s9.power_supply["dumpsys"]["extra_lines"]


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(UsageError, match="pixel-8-like"):
        load_profile("no-such-phone")


def test_profile_with_another_schema_is_refused(tmp_path: Path) -> None:
    data = json.loads(Path(load_profile("pixel-8-like").path).read_text())
    data["schema_version"] = 99
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(UsageError, match="schema_version 99"):
        load_profile(str(bad))


def test_mate_20_profile_comes_from_its_captures_and_prints_inverted_milliamps() -> None:
    mate = load_profile("huawei-mate-20-like")
    assert mate.proc_cpuinfo == (F / "huawei_mate20_kirin980_proc_cpuinfo.txt").read_text()
    assert [c.cpus for c in mate.clusters] == [(0, 1, 2, 3), (4, 5), (6, 7)]
    for cluster in mate.clusters:
        cpu = cluster.cpus[0]
        assert cluster.cpufreq["cpuinfo_max_freq_khz"] == int((F / f"huawei_mate20_cpu{cpu}_cpuinfo_max_freq.txt").read_text())
    healthd = (REAL / "d_power_supply" / "sony_xperia_2018_dmesg_healthd_battery_lines.txt").read_text().splitlines()[-1]
    battery = mate.power_supply["battery"]
    assert f"l={battery['capacity']} v={battery['voltage_now'] // 1000} " in healthd
    assert (mate.battery.current_unit, mate.battery.sign) == ("mA", "discharging_positive")


def test_every_profile_has_a_fuel_gauge_model() -> None:
    units = set()
    for name in list_profiles():
        spec = load_profile(name).battery
        units.add((spec.current_unit, spec.sign))
        assert spec.update_period_ms > 0 and spec.charge_counter_quantum_uah > 0
        assert len(spec.cpu_mw_per_busy_core) == len(load_profile(name).clusters)
    assert {("uA", "charging_positive"), ("mA", "discharging_positive")} <= units


def test_a_profile_without_a_battery_model_is_refused(tmp_path: Path) -> None:
    data = json.loads(Path(load_profile("pixel-8-like").path).read_text())
    del data["battery_model"]
    bad = tmp_path / "no_gauge.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(UsageError, match="battery_model"):
        load_profile(str(bad))
