"""The device image: identity properties, sysfs trees from the profile, what persists across boots."""
from __future__ import annotations

from pathlib import Path

from edgebench.virtual.image import STATE_DIR, build_image, reset_boot_state
from edgebench.virtual.profiles import load_profile


def build(tmp_path: Path, abi: str = "x86_64") -> Path:
    root = tmp_path / "root"
    build_image(root, tmp_path / "overlay", load_profile("pixel-8-like"), serial="EBVTEST0000001", abi=abi, port=16999)
    return root


def props(root: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in (root / "system/build.prop").read_text().splitlines())


def test_identity_properties(tmp_path: Path) -> None:
    p = props(build(tmp_path))
    assert p["ro.serialno"] == p["ro.boot.serialno"] == "EBVTEST0000001"
    assert p["ro.edgebench.virtual"] == "1" and p["ro.product.model"] == "Pixel 8"
    assert (p["ro.product.cpu.abi"], p["ro.product.cpu.abilist"]) == ("x86_64", "x86_64")
    assert p["ro.build.fingerprint"].startswith("google/shiba/shiba:14/")
    assert "ro.kernel.qemu" not in p  # must not look like an emulator
    arm = props(build(tmp_path / "arm", "arm64-v8a"))
    assert (arm["ro.product.cpu.abi"], arm["ro.product.cpu.abilist"]) == ("arm64-v8a", "arm64-v8a")


def test_sysfs_cpufreq_power_supply_and_thermal(tmp_path: Path) -> None:
    root = build(tmp_path)
    cpu = root / "sys/devices/system/cpu"
    assert (cpu / "possible").read_text() == "0-8\n"
    assert (cpu / "cpu5/cpufreq").resolve() == (cpu / "cpufreq/policy4").resolve()
    assert (cpu / "cpu5/cpufreq/cpuinfo_max_freq").read_text() == "2367000\n"
    assert (cpu / "cpu0/cpufreq/scaling_available_frequencies").read_text().startswith("324000 610000 ")
    assert (cpu / "cpu8/cpu_capacity").read_text() == "1024\n"
    battery = root / "sys/class/power_supply/battery"
    assert (battery / "capacity").read_text() == "79\n" and (battery / "voltage_now").read_text() == "4175000\n"
    assert "POWER_SUPPLY_STATUS=Charging" in (battery / "uevent").read_text()
    assert (root / "sys/class/thermal/thermal_zone1/type").read_text() == "battery\n"
    assert (tmp_path / "overlay/proc/cpuinfo").read_text() == load_profile("pixel-8-like").proc_cpuinfo


def test_user_data_survives_a_rebuild_but_boot_state_does_not(tmp_path: Path) -> None:
    root = build(tmp_path)
    (root / "data/local/tmp/keep").write_text("x")
    (root / STATE_DIR / "props").write_text("debug.a=1\npersist.b=2\n")
    (root / STATE_DIR / "battery").write_text("level=5\n")
    (root / "system/bin/extra").write_text("gone on rebuild")
    build(tmp_path)
    assert (root / "data/local/tmp/keep").read_text() == "x"
    assert (root / STATE_DIR / "props").read_text() == "persist.b=2\n"
    assert not (root / STATE_DIR / "battery").exists()
    assert not (root / "system/bin/extra").exists()
    reset_boot_state(root)
    assert (root / STATE_DIR / "props").read_text() == "persist.b=2\n"
