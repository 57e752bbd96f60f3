"""Everything a battery run changes on a device, recorded before it is changed and always restored.

Before changing anything, the previous values are written to a marker file on the device. Normal
end, error, Ctrl-C and SIGTERM restore in a `finally`; a host that crashed leaves the marker, and
the next edgebench that connects to the device (profile-battery, push-and-run) finds it and undoes it.

Changed here: properties, settings, `dumpsys battery` (reset), the screen (`input keyevent`
SLEEP/WAKEUP, checked with `dumpsys power` mWakefulness) and Doze (`dumpsys deviceidle
disable`, re-enabled only where it was enabled before).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from edgebench.errors import DeviceError
from edgebench.targets.adb_paths import DEVICE_ROOT
from edgebench.targets.android import AndroidDevice
from edgebench.targets.android.services import DOZE_MODES

RESTORE_MARKER = f"{DEVICE_ROOT}/.restore.json"
SUSPEND_PROP = "power.battery_input.suspended"
KEY_SLEEP, KEY_WAKEUP = "223", "224"  # KEYCODE_SLEEP / KEYCODE_WAKEUP: set a state, unlike POWER's toggle
SCREEN_ON_STATES = ("Awake", "Dreaming")  # mWakefulness with the display on; Asleep and Dozing are off
SCREEN_SETTLE_S = 5.0  # PowerManagerService changes wakefulness asynchronously


class AndroidTarget(Protocol):
    """What changing and restoring a device's state needs of its target (targets/adb.py's AdbTarget): its
    name for messages, and its Android services."""

    @property
    def name(self) -> str: ...
    @property
    def android(self) -> AndroidDevice: ...


def screen_of(wakefulness: str | None) -> str | None:
    """The screen, "on" or "off", from mWakefulness (Dozing, as with an always-on display, is off)."""
    if wakefulness is None:
        return None
    return "on" if wakefulness in SCREEN_ON_STATES else "off"


def read_wakefulness(target: AndroidTarget) -> str | None:
    return target.android.screen.wakefulness()


def read_doze_enabled(target: AndroidTarget) -> dict[str, bool | None]:
    return target.android.doze.enabled()


@dataclass
class DeviceChanges:
    """What this run changed, with the value to put back."""

    props: dict[str, str] = field(default_factory=dict)  # property -> previous value ("" = unset)
    settings: dict[str, str] = field(default_factory=dict)  # "global/airplane_mode_on" -> previous value
    battery_reset: bool = False  # dumpsys battery was told suspend_input/unplug: `reset` undoes it
    screen: str | None = None  # mWakefulness before edgebench set the screen (None: not changed)
    doze: dict[str, bool] = field(default_factory=dict)  # Doze mode -> was enabled before `disable`

    def to_json(self) -> dict[str, Any]:
        return {"props": self.props, "settings": self.settings, "battery_reset": self.battery_reset,
                "screen": self.screen, "doze": self.doze}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeviceChanges:
        # Markers of earlier versions lack screen/doze: nothing of that kind to undo.
        screen = data.get("screen")
        doze = data.get("doze")
        return cls(dict(data.get("props", {})), dict(data.get("settings", {})), bool(data.get("battery_reset")),
                   str(screen) if screen else None,
                   {k: bool(v) for k, v in doze.items() if k in DOZE_MODES} if isinstance(doze, dict) else {})

    @property
    def empty(self) -> bool:
        return not (self.props or self.settings or self.battery_reset or self.screen or self.doze)


@dataclass(frozen=True)
class StateChange:
    """What a request to change the screen or Doze did, for the run's record."""

    what: str  # "screen" | "doze"
    requested: str  # "off" / "on" / "keep"; "disabled"
    applied: bool  # the device now is as requested (it may already have been)
    changed: bool  # edgebench changed it (and restores it)
    before: Any
    after: Any
    detail: str

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


class DeviceStateGuard:
    """Change device state through here only: every change is journaled on the device first."""

    def __init__(self, target: AndroidTarget) -> None:
        self.target = target
        self.changes = DeviceChanges()

    def _journal(self) -> None:
        self.target.android.files.write_atomic(RESTORE_MARKER, json.dumps(self.changes.to_json()))

    def getprop(self, name: str) -> str:
        return self.target.android.props.get(name)

    def setprop(self, name: str, value: str) -> bool:
        """Set a property; False when the device refuses (not permitted for the shell user)."""
        if name not in self.changes.props:
            self.changes.props[name] = self.getprop(name)
            self._journal()
        return self.target.android.props.set(name, value) and self.getprop(name) == value

    def put_setting(self, namespace: str, key: str, value: str) -> bool:
        full = f"{namespace}/{key}"
        if full not in self.changes.settings:
            current = self.target.android.settings.get(namespace, key)
            if current is None:
                return False
            self.changes.settings[full] = current
            self._journal()
        return self.target.android.settings.put(namespace, key, value)

    def battery_command(self, *args: str) -> bool:
        """`dumpsys battery ARGS`; remembers that `dumpsys battery reset` must follow."""
        if not self.changes.battery_reset:
            self.changes.battery_reset = True
            self._journal()
        return self.target.android.battery.request(*args)

    def set_screen(self, wanted: str, *, sleep: Callable[[float], None] = time.sleep) -> StateChange:
        """Screen "off" (KEYCODE_SLEEP) or "on" (KEYCODE_WAKEUP), verified with mWakefulness."""
        before = read_wakefulness(self.target)
        if before is None:
            return StateChange("screen", wanted, False, False, None, None,
                               "not changed: `dumpsys power` shows no mWakefulness, so the screen state "
                               "could neither be read nor restored")
        if screen_of(before) == wanted:
            return StateChange("screen", wanted, True, False, before, before, f"already {wanted} ({before})")
        if self.changes.screen is None:
            self.changes.screen = before
            self._journal()
        key = KEY_SLEEP if wanted == "off" else KEY_WAKEUP
        result = self.target.android.screen.press_key(key)
        after: str | None = before
        deadline = time.monotonic() + SCREEN_SETTLE_S
        while True:
            after = read_wakefulness(self.target)
            if screen_of(after) == wanted or time.monotonic() >= deadline:
                break
            sleep(0.25)
        command = f"input keyevent {key}"
        if screen_of(after) == wanted:
            return StateChange("screen", wanted, True, True, before, after,
                               f"{command}: mWakefulness {before} -> {after}")
        refused = (result.stderr or result.stdout).strip()[:200]
        return StateChange("screen", wanted, False, True, before, after,
                           f"refused: `{command}` (exit {result.exit_code}{': ' + refused if refused else ''}) "
                           f"left mWakefulness {after} after {SCREEN_SETTLE_S:g} s")

    def disable_doze(self) -> StateChange:
        """`dumpsys deviceidle disable` (deep and light); re-enabled on restore where it was enabled."""
        before = read_doze_enabled(self.target)
        if None in before.values():
            return StateChange("doze", "disabled", False, False, before, before,
                               "not changed: `dumpsys deviceidle enabled deep|light` and `dumpsys deviceidle` "
                               "do not say whether Doze is enabled, so it could not be restored")
        if not any(before.values()):
            return StateChange("doze", "disabled", True, False, before, before, "already disabled (deep, light)")
        for mode, enabled in before.items():
            self.changes.doze.setdefault(mode, bool(enabled))
        self._journal()
        result = self.target.android.doze.disable()
        after = read_doze_enabled(self.target)
        if not any(after.values()):
            return StateChange("doze", "disabled", True, True, before, after,
                               "dumpsys deviceidle disable: deep and light Doze disabled")
        said = (result.stderr or result.stdout).strip()[:200]
        return StateChange("doze", "disabled", False, True, before, after,
                           f"refused: `dumpsys deviceidle disable` (exit {result.exit_code}: {said!r}); "
                           f"enabled now {after}")

    def restore(self) -> list[str]:
        """Put everything back; returns what was restored (for the record)."""
        done = restore_changes(self.target, self.changes)
        self.changes = DeviceChanges()
        return done


def restore_changes(target: AndroidTarget, changes: DeviceChanges) -> list[str]:
    done = []
    android = target.android
    for name, previous in changes.props.items():
        # A property cannot be deleted from the shell: an unset one goes back to the empty string, or,
        # where the property service refuses an empty value, to "false" for the charging switch.
        android.props.set(name, previous)
        if (android.props.read(name) or "") != previous and name == SUSPEND_PROP:
            android.props.set(name, "false")
        done.append(f"setprop {name} {previous or '(unset)'}")
    for full, previous in changes.settings.items():
        namespace, key = full.split("/", 1)
        if previous in ("", "null"):
            android.settings.delete(namespace, key)
        else:
            android.settings.put(namespace, key, previous)
        if full == "global/airplane_mode_on":
            android.settings.apply_airplane_mode(previous == "1")
        done.append(f"settings {full} = {previous or '(unset)'}")
    if changes.battery_reset:
        android.battery.reset()
        done.append("dumpsys battery reset")
    for mode, was_enabled in changes.doze.items():
        if was_enabled:
            android.doze.enable(mode)
            done.append(f"dumpsys deviceidle enable {mode}")
    if changes.screen is not None:
        wanted = screen_of(changes.screen)
        if screen_of(read_wakefulness(target)) != wanted:
            key = KEY_WAKEUP if wanted == "on" else KEY_SLEEP
            android.screen.press_key(key)
            done.append(f"input keyevent {key} (screen back {wanted}, was {changes.screen})")
    android.files.remove(RESTORE_MARKER)
    return done


def restore_pending(target: AndroidTarget) -> list[str]:
    """Undo what a crashed earlier run left (its marker is on the device). Returns what was undone."""
    result = target.android.files.read(RESTORE_MARKER)
    if not result.ok or not result.text:
        return []
    try:
        changes = DeviceChanges.from_json(json.loads(result.stdout))
    except (ValueError, AttributeError) as exc:
        raise DeviceError(target.name, f"the restore marker {RESTORE_MARKER} is unreadable ({exc}); check the "
                          "device's charging, airplane mode, `dumpsys battery`, screen and Doze (`dumpsys deviceidle "
                          "enable`) by hand, then delete it",
                          command=f"cat {RESTORE_MARKER}") from exc
    return restore_changes(target, changes)
