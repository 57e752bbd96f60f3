"""What a battery session asks the phone itself (outside the driver and DeviceStateGuard): the framework
state it checks runs against, the battery nodes it reads, the airplane radio, and the calibration
recording. Every command goes through the typed Android layer (targets/android/).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgebench.errors import EdgebenchError
from edgebench.targets.device_state import read_wakefulness
from edgebench.targets.adb import AdbTarget

GAUGE_NODES = ("current_now", "voltage_now", "charge_counter", "status", "temp", "capacity")


@dataclass(frozen=True)
class FrameworkState:
    """What dumpsys/settings said; None where it could not be read (a check then says not_checked)."""

    thermal_status: int | None
    thermal_unreadable: str | None  # why thermal_status is None
    updates_stopped: bool | None  # `dumpsys battery`'s "UPDATES STOPPED": None = unknown, never "not stopped"
    wakefulness: str | None
    airplane: str | None  # settings global airplane_mode_on
    doze: str | None  # dumpsys deviceidle get deep


def observe_state(target: AdbTarget) -> FrameworkState:
    """Framework state by dumpsys/settings; None (with a reason where useful) for what could not be read."""
    android = target.android
    status, unreadable = None, None
    try:
        status = android.thermal.dump().thermal_status
        if status is None:
            unreadable = ("`dumpsys thermalservice` gave no thermal status (no Thermal "
                          "Status line, or the thermal HAL has not reported yet)")
    except EdgebenchError as exc:
        unreadable = f"`dumpsys thermalservice` could not be read: {exc}"
    try:
        updates_stopped: bool | None = android.battery.dump().updates_stopped
    except EdgebenchError:
        updates_stopped = None  # unknown, not "not stopped": the check says not_checked
    return FrameworkState(thermal_status=status, thermal_unreadable=unreadable, updates_stopped=updates_stopped,
                          wakefulness=read_wakefulness(target),
                          airplane=android.settings.get("global", "airplane_mode_on"),
                          doze=android.doze.state("deep"))


def read_capacity(target: AdbTarget, battery_dir: str) -> tuple[str | None, str]:
    """The battery level node's text (None when unreadable) and where it came from, for the check."""
    read = target.android.power_supply.read_node(battery_dir, "capacity")
    return (read.stdout if read.ok else None), f"`cat {battery_dir}/capacity` (exit {read.exit_code})"


def battery_temp_c(target: AdbTarget, battery_dir: str) -> float | None:
    return target.android.power_supply.temperature_c(battery_dir)


def enable_airplane_radio(target: AdbTarget) -> None:
    """Turn the radios off after the airplane_mode_on setting (the setting alone does not, on newer Android)."""
    target.android.settings.apply_airplane_mode(True)


def record_idle_gauge(target: AdbTarget, sampler: str, battery_dir: str, session: str, *, interval_ms: int,
                      seconds: float, timeout_s: float, local: Path) -> None:
    """Run the sampler alone for `seconds` on the gauge nodes and pull its samples to `local`."""
    files = target.android.files
    folder = target.device_path(f"runs/{session}/calibration")
    remote = files.record_samples(sampler, folder, [f"{battery_dir}/{n}" for n in GAUGE_NODES],
                                  interval_ms=interval_ms, seconds=seconds, timeout_s=timeout_s)
    files.pull(remote, local)
    files.remove_tree(folder)
