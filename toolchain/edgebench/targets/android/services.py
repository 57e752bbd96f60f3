"""Android system services over the shell: battery, thermal, settings, Doze, screen, properties."""
from __future__ import annotations

import re

from edgebench.errors import DeviceError, ParseError
from edgebench.parsers import (DumpsysBattery, GetpropResult, ThermalServiceDump, parse_dumpsys_battery,
                               parse_dumpsys_thermalservice, parse_getprop)
from edgebench.targets.android.reply import Reply, Service

DOZE_MODES = ("deep", "light")
# `dumpsys battery` answers a refused or unknown subcommand with exit 0 and one of these.
_BATTERY_REFUSALS = ("Unknown", "not allowed")


class BatteryService(Service):
    """`dumpsys battery`: the framework's view of the battery, and the test hooks that change it."""

    def dump(self) -> DumpsysBattery:
        """Raises DeviceError (command failed) or ParseError (output not understood)."""
        return parse_dumpsys_battery(self._check(["dumpsys", "battery"]))

    def request(self, *args: str) -> bool:
        """`dumpsys battery ARGS` (set/unplug/suspend_input ...); True only when the build accepted it."""
        reply = self._run(["dumpsys", "battery", *args])
        return reply.ok and not any(word in reply.stdout for word in _BATTERY_REFUSALS)

    def reset(self) -> Reply:
        """Undo every `set`, `unplug` and `suspend_input`."""
        return self._run(["dumpsys", "battery", "reset"])


class ThermalService(Service):
    """`dumpsys thermalservice`: throttling status and the HAL's temperatures."""

    def dump(self) -> ThermalServiceDump:
        """Raises DeviceError (command failed) or ParseError (output not understood)."""
        return parse_dumpsys_thermalservice(self._check(["dumpsys", "thermalservice"]))

    def status(self) -> int | None:
        """Thermal status 0..6; None when the service does not answer, is not understood or has none."""
        reply = self._run(["dumpsys", "thermalservice"])
        if not reply.ok:
            return None
        try:
            return parse_dumpsys_thermalservice(reply.stdout).thermal_status
        except ParseError:
            return None


class SettingsService(Service):
    """`settings get|put|delete NAMESPACE KEY` and the airplane-mode broadcast that goes with it."""

    def get(self, namespace: str, key: str) -> str | None:
        """The value as printed ("null" when unset); None when the command fails."""
        reply = self._run(["settings", "get", namespace, key])
        return reply.text if reply.ok else None

    def put(self, namespace: str, key: str, value: str) -> bool:
        return self._run(["settings", "put", namespace, key, value]).ok

    def delete(self, namespace: str, key: str) -> bool:
        return self._run(["settings", "delete", namespace, key]).ok

    def apply_airplane_mode(self, enabled: bool) -> Reply:
        """The setting alone changes no radio: `cmd connectivity airplane-mode` makes it take effect."""
        return self._run(["cmd", "connectivity", "airplane-mode", "enable" if enabled else "disable"])


class DozeService(Service):
    """Doze (`dumpsys deviceidle`): deep and light idle modes."""

    def enabled(self) -> dict[str, bool | None]:
        """Whether deep and light Doze are enabled: `dumpsys deviceidle enabled MODE` (1/0), else the
        mDeepEnabled/mLightEnabled lines of `dumpsys deviceidle` (builds without `enabled`); None
        where neither says."""
        found: dict[str, bool | None] = {}
        for mode in DOZE_MODES:
            found[mode] = {"1": True, "0": False}.get(self._run(["dumpsys", "deviceidle", "enabled", mode]).text)
        if None in found.values():
            dump = self._run(["dumpsys", "deviceidle"]).stdout
            for mode, key in (("deep", "mDeepEnabled"), ("light", "mLightEnabled")):
                match = re.search(rf"\b{key}=(true|false)\b", dump)
                if found[mode] is None and match:
                    found[mode] = match.group(1) == "true"
        return found

    def state(self, mode: str) -> str | None:
        """`dumpsys deviceidle get MODE` (e.g. ACTIVE, IDLE); None when the command fails."""
        reply = self._run(["dumpsys", "deviceidle", "get", mode])
        return reply.text if reply.ok else None

    def disable(self) -> Reply:
        """Disable deep and light Doze."""
        return self._run(["dumpsys", "deviceidle", "disable"])

    def enable(self, mode: str) -> Reply:
        return self._run(["dumpsys", "deviceidle", "enable", mode])


class ScreenService(Service):
    """The display's power state (PowerManagerService) and the keys that change it."""

    def wakefulness(self) -> str | None:
        """mWakefulness of `dumpsys power` (Awake, Asleep, Dreaming, Dozing); None when not shown."""
        reply = self._run("dumpsys power 2>/dev/null | grep -m1 mWakefulness=")
        match = re.search(r"mWakefulness=(\w+)", reply.stdout)
        return match.group(1) if match else None

    def press_key(self, keycode: str) -> Reply:
        """`input keyevent KEYCODE` (e.g. 223 SLEEP, 224 WAKEUP)."""
        return self._run(["input", "keyevent", keycode])


class Properties(Service):
    """System properties."""

    def all(self) -> GetpropResult:
        """Every property, parsed; DeviceError naming the device when the output is not getprop's."""
        text = self._check(["getprop"])
        try:
            return parse_getprop(text, source=f"<{self.name}> getprop")
        except ParseError as exc:
            raise DeviceError(self.name, f"getprop output unreadable: {exc}", command="getprop") from exc

    def get(self, name: str) -> str:
        """The value ("" when unset); DeviceError when getprop fails."""
        return self._check(["getprop", name]).strip()

    def read(self, name: str) -> str | None:
        """The value ("" when unset); None when getprop fails (for restoring: never raises)."""
        reply = self._run(["getprop", name])
        return reply.text if reply.ok else None

    def set(self, name: str, value: str) -> bool:
        """False when the device refuses (a property the shell user may not set)."""
        return self._run(["setprop", name, value]).ok
