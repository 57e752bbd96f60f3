"""DeviceStateGuard's screen and Doze changes against a scripted device: journaled before they are
made, verified, refusals recorded, and undone exactly (also from markers of the previous version)."""
from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field

from edgebench.devices.adb import ShellResult
from edgebench.targets.android import AndroidDevice
from edgebench.targets import device_state
from edgebench.targets.device_state import RESTORE_MARKER, DeviceChanges, DeviceStateGuard, restore_changes


@dataclass
class FakeDevice:
    wakefulness: str = "Awake"
    doze: dict = field(default_factory=lambda: {"deep": True, "light": True})
    refuse_screen: bool = False
    refuse_doze: bool = False
    old_deviceidle: bool = False  # no `enabled` subcommand: only the dump says
    log: list = field(default_factory=list)
    marker: dict | None = None

    def check_shell(self, command, **_):
        tokens = shlex.split(command)
        self.marker = json.loads(tokens[tokens.index("printf") + 2])
        self.log.append(("journal", self.marker))
        return ""

    def shell(self, args, **_):
        if isinstance(args, str):
            assert "mWakefulness" in args
            return ShellResult(0, f"  mWakefulness={self.wakefulness}\n", "")
        self.log.append(tuple(args))
        if args[:2] == ["input", "keyevent"]:
            if not self.refuse_screen:
                self.wakefulness = {"223": "Asleep", "224": "Awake"}[args[2]]
            return ShellResult(0, "", "")
        if args[:2] == ["dumpsys", "deviceidle"]:
            rest = args[2:]
            if not rest:
                return ShellResult(0, f"  mDeepEnabled={str(self.doze['deep']).lower()}\n"
                                      f"  mLightEnabled={str(self.doze['light']).lower()}\n", "")
            if rest[0] == "enabled":
                if self.old_deviceidle:
                    return ShellResult(0, "Unknown command: enabled\n", "")
                return ShellResult(0, "1\n" if self.doze[rest[1]] else "0\n", "")
            if rest[0] == "disable":
                if self.refuse_doze:
                    return ShellResult(255, "", "Security exception: Permission Denial\n")
                self.doze = {"deep": False, "light": False}
                return ShellResult(0, "Deep idle mode disabled\nLight idle mode disabled\n", "")
            if rest[0] == "enable":
                self.doze[rest[1]] = True
                return ShellResult(0, "", "")
        if args == ["rm", "-f", RESTORE_MARKER]:
            self.marker = None
        return ShellResult(0, "", "")


@dataclass
class FakeTarget:
    device: FakeDevice
    name: str = "FAKE123"

    @property
    def android(self) -> AndroidDevice:
        return AndroidDevice(self.device, self.name)  # type: ignore[arg-type]  # the scripted device


def test_screen_off_is_journaled_first_verified_and_restored():
    device = FakeDevice()
    guard = DeviceStateGuard(FakeTarget(device))  # type: ignore[arg-type]
    change = guard.set_screen("off", sleep=lambda s: None)
    assert (change.applied, change.changed, change.before, change.after) == (True, True, "Awake", "Asleep")
    assert change.detail == "input keyevent 223: mWakefulness Awake -> Asleep"
    journal = device.log.index(("journal", device.marker))
    assert journal < device.log.index(("input", "keyevent", "223")) and device.marker["screen"] == "Awake"
    guard.restore()
    assert device.wakefulness == "Awake" and device.marker is None


def test_screen_already_off_is_not_touched():
    device = FakeDevice(wakefulness="Dozing")
    change = DeviceStateGuard(FakeTarget(device)).set_screen("off")  # type: ignore[arg-type]
    assert change.applied and not change.changed and not any(e[0] == "input" for e in device.log)


def test_a_refused_screen_change_is_recorded(monkeypatch):
    monkeypatch.setattr(device_state, "SCREEN_SETTLE_S", 0.0)
    device = FakeDevice(refuse_screen=True)
    change = DeviceStateGuard(FakeTarget(device)).set_screen("off", sleep=lambda s: None)  # type: ignore[arg-type]
    assert not change.applied and change.changed and change.after == "Awake"
    assert change.detail.startswith("refused: `input keyevent 223`")


def test_doze_disabled_then_only_what_was_enabled_is_enabled_again():
    device = FakeDevice(doze={"deep": True, "light": False})
    guard = DeviceStateGuard(FakeTarget(device))  # type: ignore[arg-type]
    change = guard.disable_doze()
    assert change.applied and change.changed and change.after == {"deep": False, "light": False}
    assert device.marker["doze"] == {"deep": True, "light": False}
    assert device.log.index(("journal", device.marker)) < device.log.index(("dumpsys", "deviceidle", "disable"))
    done = guard.restore()
    assert device.doze == {"deep": True, "light": False} and "dumpsys deviceidle enable deep" in done
    assert ("dumpsys", "deviceidle", "enable", "light") not in device.log


def test_doze_state_from_the_dump_when_enabled_is_unknown():
    device = FakeDevice(old_deviceidle=True)
    change = DeviceStateGuard(FakeTarget(device)).disable_doze()  # type: ignore[arg-type]
    assert change.before == {"deep": True, "light": True}


def test_a_refused_doze_change_is_recorded_and_nothing_breaks():
    device = FakeDevice(refuse_doze=True)
    guard = DeviceStateGuard(FakeTarget(device))  # type: ignore[arg-type]
    change = guard.disable_doze()
    assert not change.applied and "refused" in change.detail and "Permission Denial" in change.detail
    guard.restore()  # enabling what is still enabled is harmless
    assert device.doze == {"deep": True, "light": True}


def test_a_marker_of_the_previous_version_restores_without_screen_or_doze():
    old = {"props": {"power.battery_input.suspended": ""}, "settings": {}, "battery_reset": False}
    changes = DeviceChanges.from_json(old)
    assert changes.screen is None and changes.doze == {} and not changes.empty
    device = FakeDevice(wakefulness="Asleep")
    done = restore_changes(FakeTarget(device), changes)  # type: ignore[arg-type]
    assert done == ["setprop power.battery_input.suspended (unset)"]
    assert not any(e[0] in ("input",) or e[:2] == ("dumpsys", "deviceidle") for e in device.log)
    round_trip = DeviceChanges.from_json(json.loads(json.dumps(
        DeviceChanges(screen="Awake", doze={"deep": True, "light": False}).to_json())))
    assert (round_trip.screen, round_trip.doze) == ("Awake", {"deep": True, "light": False})
