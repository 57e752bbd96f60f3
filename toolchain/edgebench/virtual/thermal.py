"""Thermal state of a virtual device: cooling devices, and throttling applied on demand.

At image build (`write_static`) every CPU cluster gets a cpufreq cooling device
(/sys/class/thermal/cooling_deviceN, type `thermal-cpufreq-<first cpu>`, max_state = number of
frequency steps - 1, as the kernel's cpufreq cooling driver does) and the thermal HAL facts that
`dumpsys thermalservice` prints live in /vendor/etc/edgebench/ (thermal_hal, cooling_hal,
thermal_status).

`throttle_files(profile, level)` gives every file a throttling level 0..6 changes
(android.os.Temperature THROTTLING_NONE..SHUTDOWN): the skin zone reaches the level's threshold,
CPU zones heat up, each cluster's scaling_max_freq drops to the highest table frequency at or
below a fraction of its maximum, the cooling devices' cur_state count the steps taken down, and the
HAL status file holds the level. Level 0 restores the profile.

`cur_freq_files(profile, freqs)`: scaling_cur_freq (the governor's last request) and
cpuinfo_cur_freq per cluster, from the SoC model's governor (power_soc.py: it ramps up under load
and down when idle, never above the ceiling: cpuinfo_max_freq, or the throttled scaling_max_freq).
So a throttled run shows its pinned cores' frequency fall. Throttling is reported, not enforced:
programs still run at host speed.
"""
from __future__ import annotations

from pathlib import Path

from edgebench.virtual.profiles import Profile

STATUS_FILE = "vendor/etc/edgebench/thermal_status"
COOLING_HAL = "vendor/etc/edgebench/cooling_hal"
MAX_LEVEL = 6
# Skin temperature (C) at each status, near a Pixel's VIRTUAL-SKIN hot thresholds.
SKIN_C = (None, 39.5, 43.5, 45.5, 47.0, 52.5, 55.5)
CPU_RISE_C = (0, 35, 40, 45, 50, 55, 60)
FREQ_FRACTION = (1.0, 0.85, 0.70, 0.55, 0.40, 0.30, 0.20)
COOLING_TYPE_CPU = 2  # android.os.CoolingDevice.TYPE_CPU


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o644)


def write_static(root: Path, profile: Profile) -> None:
    for index, cluster in enumerate(profile.clusters):
        steps = len(cluster.cpufreq["scaling_available_frequencies_khz"])
        cdir = root / f"sys/class/thermal/cooling_device{index}"
        _write(cdir / "type", f"thermal-cpufreq-{cluster.cpus[0]}\n")
        _write(cdir / "max_state", f"{max(steps - 1, 0)}\n")
        _write(cdir / "cur_state", "0\n")
    _write(root / COOLING_HAL, "".join(f"{i} {COOLING_TYPE_CPU} cpufreq-cpu{c.cpus[0]}\n"
                                       for i, c in enumerate(profile.clusters)))
    _write(root / STATUS_FILE, "0\n")


def _zone_temp(zone_type: str, hal_type: int | None, base: int, level: int) -> int:
    if level == 0:
        return base
    if hal_type == 3:  # skin
        return int((SKIN_C[level] or 0) * 1000)
    if hal_type == 0 or zone_type.startswith(("tsens", "cpu")):
        return base + CPU_RISE_C[level] * 1000
    if hal_type == 2 or zone_type in ("battery", "bms"):
        return base + 1500 * level
    return base + 2000 * level


def cluster_freq_khz(table: list[int], max_khz: int, level: int) -> tuple[int, int]:
    """(frequency, steps below the top of the table) for a cluster at `level`."""
    ordered = sorted(table) or [max_khz]
    limit = max_khz * FREQ_FRACTION[level]
    allowed = [f for f in ordered if f <= limit] or ordered[:1]
    freq = allowed[-1]
    return freq, len([f for f in ordered if f > freq])


def throttle_files(profile: Profile, level: int) -> dict[str, str]:
    """Device-root-relative path -> text, for throttling `level` (0 = none)."""
    if not 0 <= level <= MAX_LEVEL:
        raise ValueError(f"throttling level must be 0..{MAX_LEVEL}, got {level}")
    files: dict[str, str] = {STATUS_FILE: f"{level}\n"}
    for index, zone in enumerate(profile.thermal_zones):
        files[f"sys/class/thermal/thermal_zone{index}/temp"] = \
            f"{_zone_temp(zone.type, zone.hal_type, zone.temp_millic, level)}\n"
    for index, cluster in enumerate(profile.clusters):
        top, steps = ceiling_khz(profile, index, level)
        files[f"sys/devices/system/cpu/cpufreq/policy{cluster.cpus[0]}/scaling_max_freq"] = f"{top}\n"
        files[f"sys/class/thermal/cooling_device{index}/cur_state"] = f"{steps}\n"
    return files


def ceiling_khz(profile: Profile, cluster_index: int, level: int) -> tuple[int, int]:
    """(scaling_max_freq, cooling steps) of a cluster at throttling `level`."""
    f = profile.clusters[cluster_index].cpufreq
    if level == 0:
        return f["scaling_max_freq_khz"], 0
    freq, steps = cluster_freq_khz(list(f["scaling_available_frequencies_khz"]), f["cpuinfo_max_freq_khz"], level)
    return min(freq, f["scaling_max_freq_khz"]), steps


def cur_freq_files(profile: Profile, freqs_khz: list[int]) -> dict[str, str]:
    files: dict[str, str] = {}
    for cluster, cur in zip(profile.clusters, freqs_khz):
        policy = f"sys/devices/system/cpu/cpufreq/policy{cluster.cpus[0]}"
        files[f"{policy}/scaling_cur_freq"] = f"{cur}\n"
        files[f"{policy}/cpuinfo_cur_freq"] = f"{cur}\n"
    return files
