"""Throttling levels: what sysfs and the thermal HAL files show at each level."""
from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.virtual.profiles import load_profile
from edgebench.virtual.thermal import cur_freq_files, throttle_files, write_static


def test_cooling_devices_follow_the_clusters(tmp_path: Path) -> None:
    pixel = load_profile("pixel-8-like")
    write_static(tmp_path, pixel)
    for index, cluster in enumerate(pixel.clusters):
        cdir = tmp_path / f"sys/class/thermal/cooling_device{index}"
        assert (cdir / "type").read_text() == f"thermal-cpufreq-{cluster.cpus[0]}\n"
        assert int((cdir / "max_state").read_text()) == len(cluster.cpufreq["scaling_available_frequencies_khz"]) - 1
        assert (cdir / "cur_state").read_text() == "0\n"


def test_throttling_heats_zones_lowers_frequencies_and_restores_at_level_0() -> None:
    pixel = load_profile("pixel-8-like")
    none, severe = throttle_files(pixel, 0), throttle_files(pixel, 3)
    assert severe["vendor/etc/edgebench/thermal_status"] == "3\n"
    skin = next(i for i, z in enumerate(pixel.thermal_zones) if z.hal_type == 3)
    assert int(severe[f"sys/class/thermal/thermal_zone{skin}/temp"]) > int(none[f"sys/class/thermal/thermal_zone{skin}/temp"])
    big = pixel.clusters[-1]
    policy = f"sys/devices/system/cpu/cpufreq/policy{big.cpus[0]}"
    ceiling = int(severe[f"{policy}/scaling_max_freq"])
    assert ceiling in big.cpufreq["scaling_available_frequencies_khz"]
    assert ceiling <= 0.55 * big.cpufreq["cpuinfo_max_freq_khz"]
    assert int(severe[f"sys/class/thermal/cooling_device{len(pixel.clusters) - 1}/cur_state"]) > 0
    assert none[f"{policy}/scaling_max_freq"] == f"{big.cpufreq['scaling_max_freq_khz']}\n"
    assert all(none[f"sys/class/thermal/cooling_device{i}/cur_state"] == "0\n" for i in range(len(pixel.clusters)))
    # The governor's frequencies (power_soc.py) are what the cpufreq nodes show.
    freqs = [c.cpufreq["scaling_available_frequencies_khz"][1] for c in pixel.clusters]
    files = cur_freq_files(pixel, freqs)
    assert files[f"{policy}/scaling_cur_freq"] == files[f"{policy}/cpuinfo_cur_freq"] == f"{freqs[-1]}\n"
    with pytest.raises(ValueError):
        throttle_files(pixel, 7)
