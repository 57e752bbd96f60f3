"""A battery session's device preparation (§4.1): preconditions, airplane mode, Doze, the power path
and the screen, every change through the DeviceStateGuard; and what was set, for each run's record."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from edgebench.battery import setup_checks
from edgebench.errors import DeviceError
from edgebench.targets.device_state import DeviceStateGuard, StateChange, read_wakefulness
from edgebench.profiling.phone_commands import FrameworkState, enable_airplane_radio, observe_state, read_capacity
from edgebench.profiling.power_path import PowerPath, establish, find_battery_dir
from edgebench.profiling.power_rails import RailsInfo, detect_rails
from edgebench.profiling.protocol import BatteryProtocol
from edgebench.records import Check
from edgebench.targets.adb import AdbTarget


@dataclass(frozen=True)
class SessionDeviceChanges:
    """What edgebench set on the device for this session, and what the device refused (stored as
    each run's energy.device_changes_json)."""

    airplane_set: bool
    screen: StateChange
    doze: StateChange

    def to_json(self) -> dict[str, Any]:
        changes = (self.screen, self.doze)
        return {"airplane_set": self.airplane_set, "screen": self.screen.to_json(), "doze": self.doze.to_json(),
                "set": [f"{c.what} {c.requested}: {c.detail}" for c in changes if c.applied and c.changed],
                "refused": [f"{c.what} {c.requested}: {c.detail}" for c in changes if not c.applied]}

    def notes(self) -> list[str]:
        notes = []
        for change in (self.screen, self.doze):
            restored = " (restored afterwards)" if change.changed else ""
            prefix = "" if change.applied else "NOT SET: "
            notes.append(f"{prefix}{change.what} {change.requested}: {change.detail}{restored}")
        return notes


@dataclass(frozen=True)
class PreparedDevice:
    battery_dir: str
    precondition_checks: tuple[Check, ...]  # recorded on every run
    rails: RailsInfo
    changes: SessionDeviceChanges
    path: PowerPath
    # The invalid-run checks compare each run's end with the state edgebench SET, not with what the
    # device had before edgebench touched it.
    state_before: FrameworkState


def check_preconditions(target: AdbTarget, battery_dir: str) -> tuple[Check, Check]:
    """§4.1 preconditions 2 and 3: refuse the session when one fails; one that cannot be read is
    recorded as not_checked on every run, never passed."""
    capacity, source = read_capacity(target, battery_dir)
    level = setup_checks.battery_level_start(capacity, source)
    state = observe_state(target)
    thermal = setup_checks.thermal_start(state.thermal_status, state.thermal_unreadable or "no thermal status")
    for check, what in ((level, f"cat {battery_dir}/capacity"), (thermal, "dumpsys thermalservice")):
        if check.outcome == "fail":
            raise DeviceError(target.name, check.reason or check.name, command=what)
    return level, thermal


def prepare_device(target: AdbTarget, guard: DeviceStateGuard, protocol: BatteryProtocol, *, power_path: str,
                   screen: str, on_stage: Callable[[str], None]) -> PreparedDevice:
    battery_dir = find_battery_dir(target)
    preconditions = check_preconditions(target, battery_dir)
    rails = detect_rails(target)
    airplane_set = _airplane_on(target, guard, power_path)
    doze = guard.disable_doze()
    on_stage("establishing the power path (charger out) and verifying discharging")
    path = establish(guard, power_path, battery_dir, verify_s=protocol.verify_discharging_s)
    # After the power path: some phones wake the screen when the charger comes or goes.
    screen_change = _set_screen(target, guard, screen, on_stage)
    return PreparedDevice(battery_dir=battery_dir, precondition_checks=preconditions, rails=rails,
                          changes=SessionDeviceChanges(airplane_set, screen_change, doze), path=path,
                          state_before=observe_state(target))


def _airplane_on(target: AdbTarget, guard: DeviceStateGuard, power_path: str) -> bool:
    # Airplane mode would cut a Wi-Fi adb link itself, and a HOST:PORT serial may be one. A virtual
    # device (ro.edgebench.virtual) is a HOST:PORT serial too, but its adb link is the host's own
    # socket, not a radio: it gets the quiet radio a lab sets on a USB phone.
    if power_path == "wifi-adb" or ":" in target.name and power_path == "auto" and not target.props.is_virtual:
        return False
    if not guard.put_setting("global", "airplane_mode_on", "1"):
        return False
    enable_airplane_radio(target)
    return True


def _set_screen(target: AdbTarget, guard: DeviceStateGuard, screen: str, on_stage: Callable[[str], None]
                ) -> StateChange:
    if screen == "keep":
        now = read_wakefulness(target)
        return StateChange("screen", "keep", True, False, now, now, f"left as it was ({now or 'unknown'})")
    on_stage(f"screen {screen}")
    return guard.set_screen(screen)
