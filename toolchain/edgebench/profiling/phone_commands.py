"""Every command a battery session sends to the phone itself (outside the driver and DeviceStateGuard):
the framework state it checks runs against, the battery nodes it reads, the airplane radio, and the
calibration recording. Kept together so they move as one to the typed Android layer.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgebench.devices.adb import quote
from edgebench.errors import EdgebenchError
from edgebench.profiling.device_state import read_wakefulness
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
    from edgebench.parsers import parse_dumpsys_battery, parse_dumpsys_thermalservice

    device = target.device
    status, unreadable = None, None
    try:
        thermal = parse_dumpsys_thermalservice(device.check_shell(["dumpsys", "thermalservice"]))
        status = thermal.thermal_status
        if status is None:
            unreadable = ("`dumpsys thermalservice` gave no thermal status (no Thermal "
                          "Status line, or the thermal HAL has not reported yet)")
    except EdgebenchError as exc:
        unreadable = f"`dumpsys thermalservice` could not be read: {exc}"
    try:
        updates_stopped: bool | None = parse_dumpsys_battery(device.check_shell(["dumpsys", "battery"])).updates_stopped
    except EdgebenchError:
        updates_stopped = None  # unknown, not "not stopped": the check says not_checked
    airplane = device.shell(["settings", "get", "global", "airplane_mode_on"])
    doze = device.shell(["dumpsys", "deviceidle", "get", "deep"])
    return FrameworkState(thermal_status=status, thermal_unreadable=unreadable, updates_stopped=updates_stopped,
                          wakefulness=read_wakefulness(target),
                          airplane=airplane.stdout.strip() if airplane.exit_code == 0 else None,
                          doze=doze.stdout.strip() if doze.exit_code == 0 else None)


def read_capacity(target: AdbTarget, battery_dir: str) -> tuple[str | None, str]:
    """The battery level node's text (None when unreadable) and where it came from, for the check."""
    command = f"cat {battery_dir}/capacity"
    read = target.device.shell(["cat", f"{battery_dir}/capacity"])
    return (read.stdout if read.exit_code == 0 else None), f"`{command}` (exit {read.exit_code})"


def battery_temp_c(target: AdbTarget, battery_dir: str) -> float | None:
    text = target.device.shell(["cat", f"{battery_dir}/temp"]).stdout.strip()
    return int(text) / 10.0 if text.lstrip("-").isdigit() else None


def enable_airplane_radio(target: AdbTarget) -> None:
    """Turn the radios off after the airplane_mode_on setting (the setting alone does not, on newer Android)."""
    target.device.shell(["cmd", "connectivity", "airplane-mode", "enable"])


def record_idle_gauge(target: AdbTarget, sampler: str, battery_dir: str, session: str, *, interval_ms: int,
                      seconds: float, timeout_s: float, local: Path) -> None:
    """Run the sampler alone for `seconds` on the gauge nodes and pull its samples to `local`."""
    folder = target.device_path(f"runs/{session}/calibration")
    nodes = " ".join(f"{battery_dir}/{n}" for n in GAUGE_NODES)
    target.device.check_shell(
        f"mkdir -p {quote(folder)} && ({quote(sampler)} --interval-ms {interval_ms} "
        f"--out {quote(folder + '/samples.jsonl')} {nodes} & pid=$!; sleep {int(round(seconds))}; "
        f"kill -TERM $pid; wait $pid) 2>&1", timeout=timeout_s)
    target.device.pull(folder + "/samples.jsonl", local)
    target.device.shell(["rm", "-rf", folder])
