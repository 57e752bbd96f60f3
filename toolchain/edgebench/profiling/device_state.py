"""Everything a battery run changes on a device, recorded before it is changed and always restored.

Before changing anything, the previous values are written to a marker file on the device. Normal
end, error, Ctrl-C and SIGTERM restore in a `finally`; a host that crashed leaves the marker, and
the next edgebench that connects to the device (profile-battery, push-and-run) finds it and undoes it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from edgebench.devices.adb import quote
from edgebench.errors import DeviceError
from edgebench.targets.adb import DEVICE_ROOT, AdbTarget

RESTORE_MARKER = f"{DEVICE_ROOT}/.restore.json"
SUSPEND_PROP = "power.battery_input.suspended"


@dataclass
class DeviceChanges:
    """What this run changed, with the value to put back."""

    props: dict[str, str] = field(default_factory=dict)  # property -> previous value ("" = unset)
    settings: dict[str, str] = field(default_factory=dict)  # "global/airplane_mode_on" -> previous value
    battery_reset: bool = False  # dumpsys battery was told suspend_input/unplug: `reset` undoes it

    def to_json(self) -> dict[str, Any]:
        return {"props": self.props, "settings": self.settings, "battery_reset": self.battery_reset}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "DeviceChanges":
        return cls(dict(data.get("props", {})), dict(data.get("settings", {})), bool(data.get("battery_reset")))

    @property
    def empty(self) -> bool:
        return not (self.props or self.settings or self.battery_reset)


class DeviceStateGuard:
    """Change device state through here only: every change is journaled on the device first."""

    def __init__(self, target: AdbTarget) -> None:
        self.target = target
        self.changes = DeviceChanges()

    def _journal(self) -> None:
        payload = json.dumps(self.changes.to_json())
        self.target.device.check_shell(f"mkdir -p {quote(DEVICE_ROOT)} && printf '%s\\n' {quote(payload)} > "
                                       f"{quote(RESTORE_MARKER + '.partial')} && mv -f "
                                       f"{quote(RESTORE_MARKER + '.partial')} {quote(RESTORE_MARKER)}")

    def getprop(self, name: str) -> str:
        return self.target.device.check_shell(["getprop", name]).strip()

    def setprop(self, name: str, value: str) -> bool:
        """Set a property; False when the device refuses (not permitted for the shell user)."""
        if name not in self.changes.props:
            self.changes.props[name] = self.getprop(name)
            self._journal()
        result = self.target.device.shell(["setprop", name, value])
        return result.exit_code == 0 and self.getprop(name) == value

    def put_setting(self, namespace: str, key: str, value: str) -> bool:
        full = f"{namespace}/{key}"
        if full not in self.changes.settings:
            current = self.target.device.shell(["settings", "get", namespace, key])
            if current.exit_code != 0:
                return False
            self.changes.settings[full] = current.stdout.strip()
            self._journal()
        return self.target.device.shell(["settings", "put", namespace, key, value]).exit_code == 0

    def battery_command(self, *args: str) -> bool:
        """`dumpsys battery ARGS`; remembers that `dumpsys battery reset` must follow."""
        if not self.changes.battery_reset:
            self.changes.battery_reset = True
            self._journal()
        result = self.target.device.shell(["dumpsys", "battery", *args])
        return result.exit_code == 0 and "Unknown" not in result.stdout and "not allowed" not in result.stdout

    def restore(self) -> list[str]:
        """Put everything back; returns what was restored (for the record)."""
        done = restore_changes(self.target, self.changes)
        self.changes = DeviceChanges()
        return done


def restore_changes(target: AdbTarget, changes: DeviceChanges) -> list[str]:
    done = []
    device = target.device
    for name, previous in changes.props.items():
        # A property cannot be deleted from the shell: an unset one goes back to the empty string, or,
        # where the property service refuses an empty value, to "false" for the charging switch.
        device.shell(["setprop", name, previous])
        if device.shell(["getprop", name]).stdout.strip() != previous and name == SUSPEND_PROP:
            device.shell(["setprop", name, "false"])
        done.append(f"setprop {name} {previous or '(unset)'}")
    for full, previous in changes.settings.items():
        namespace, key = full.split("/", 1)
        if previous in ("", "null"):
            device.shell(["settings", "delete", namespace, key])
        else:
            device.shell(["settings", "put", namespace, key, previous])
        if full == "global/airplane_mode_on":
            device.shell(["cmd", "connectivity", "airplane-mode", "enable" if previous == "1" else "disable"])
        done.append(f"settings {full} = {previous or '(unset)'}")
    if changes.battery_reset:
        device.shell(["dumpsys", "battery", "reset"])
        done.append("dumpsys battery reset")
    device.shell(["rm", "-f", RESTORE_MARKER])
    return done


def restore_pending(target: AdbTarget) -> list[str]:
    """Undo what a crashed earlier run left (its marker is on the device). Returns what was undone."""
    result = target.device.shell(["cat", RESTORE_MARKER])
    if result.exit_code != 0 or not result.stdout.strip():
        return []
    try:
        changes = DeviceChanges.from_json(json.loads(result.stdout))
    except (ValueError, AttributeError) as exc:
        raise DeviceError(target.name, f"the restore marker {RESTORE_MARKER} is unreadable ({exc}); check the "
                          "device's charging, airplane mode and `dumpsys battery` by hand, then delete it",
                          command=f"cat {RESTORE_MARKER}") from exc
    return restore_changes(target, changes)
