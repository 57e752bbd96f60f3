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
