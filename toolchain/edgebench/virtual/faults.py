"""Faults a lab meets, injected into a running virtual device (`edgebench virtual-device fault`).

Link (applied by the adb transport through `LinkFaults`, adb_protocol.LinkPolicy):
  drop_after_bytes N     cut every adb connection once N more bytes crossed the link (both
                         directions, headers included), then stop listening for come_back_after s
  drop_after_seconds S   the same, S seconds from now
  come_back_after T      how long the port stays closed after a drop or a fault reboot (default 0)
  slow_link KBPS         at most KBPS x 1000 bytes/s each way
  state                  device | unauthorized | offline - how the adb server sees the device:
                         unauthorized = every handshake answered with AUTH TOKEN and every
                         signature refused (the server then shows "unauthorized"); offline = the
                         TCP connection is accepted but CNXN is never answered. Switching back to
                         device completes pending handshakes (the user tapped "Allow").
Device:
  no_space               /data/local and /storage/emulated report ENOSPC (nospace.py): pushes fail
                         with "write failed: No space left on device", shell writes fail too
  kill_harness           SIGKILL every edgebench_runner / edgebench_sampler process of the device
  reboot                 a reboot that also WIPES /data/local/tmp (an `adb reboot` does not)
Power (controls read by the gauge thread, power_host.Controls):
  stale_gauge            the fuel gauge's sysfs values stop changing
  throttle LEVEL         thermal throttling 0..6 (thermal.py)
  usb_power on|off       VBUS present or cut (a switchable hub): off stops charging for real;
                         usb/online follows it
  weak_charger_ma MA     USB on, but the charger supplies at most MA mA: with a load above that the
                         battery discharges (status Discharging) while usb/online reads 1; 0 = a full
                         charger again
  battery_level PCT      set the battery's charge (a phone charged or drained to PCT %)
`clear` undoes every fault and control above (USB power back on with a full charger, throttling 0; the battery keeps
its charge). Faults do not survive a restart of the device process; the battery's charge does.
Link faults act on every connection to the device's port (all adb servers connected to it).
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable

from edgebench.errors import UsageError

STATES = ("device", "unauthorized", "offline")
HARNESS_COMMS = ("edgebench_runner", "edgebench_sampler")


@dataclass(frozen=True)
class FaultRequest:
    """What one `fault` call asks for; None = leave as is."""

    clear: bool = False
    drop_after_bytes: int | None = None
    drop_after_seconds: float | None = None
    come_back_after: float | None = None
    no_space: bool | None = None
    slow_link_kbps: float | None = None  # 0 = back to full speed
    state: str | None = None
    kill_harness: bool = False
    reboot: bool = False
    stale_gauge: bool | None = None
    throttle: int | None = None
    usb_power: bool | None = None
    weak_charger_ma: float | None = None  # 0 = back to a full charger
    battery_level: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The fields set (False matters for no_space/stale_gauge/usb_power, not for the actions)."""
        actions = ("clear", "kill_harness", "reboot")
        return {k: v for k, v in asdict(self).items() if v is not None and not (k in actions and v is False)}

    @staticmethod
    def from_json(data: dict[str, Any]) -> FaultRequest:
        known = set(FaultRequest.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise UsageError(f"unknown fault field(s) {sorted(unknown)}; known: {sorted(known)}")
        request = FaultRequest(**data)
        request.validate()
        return request

    def validate(self) -> None:
        def nonneg(name: str, value: float | None) -> None:
            if value is not None and value < 0:
                raise UsageError(f"--{name.replace('_', '-')} must be >= 0. Received: {value}.")

        for name in ("drop_after_bytes", "drop_after_seconds", "come_back_after", "slow_link_kbps", "weak_charger_ma"):
            nonneg(name, getattr(self, name))
        if self.drop_after_bytes is not None and self.drop_after_seconds is not None:
            raise UsageError("give --drop-after-bytes or --drop-after-seconds, not both")
        if self.state is not None and self.state not in STATES:
            raise UsageError(f"--state must be one of {', '.join(STATES)}. Received: {self.state!r}.")
        if self.throttle is not None and not 0 <= self.throttle <= 6:
            raise UsageError(f"--throttle must be a thermal status 0..6 (0 = none). Received: {self.throttle}.")
        if self.weak_charger_ma and self.usb_power is False:
            raise UsageError("--weak-charger needs USB power on; do not combine it with --usb-power off")
        if self.battery_level is not None and not 0 <= self.battery_level <= 100:
            raise UsageError(f"--battery-level must be 0..100. Received: {self.battery_level}.")
        if self.clear and len(self.to_json()) > 1:
            raise UsageError("--clear undoes every fault; give it alone")


class LinkFaults:
    """Per-device link state the adb transports consult (adb_protocol.LinkPolicy)."""

    def __init__(self, on_drop: Callable[[], None]) -> None:
        self.on_drop = on_drop
        self.state = "device"
        self.bytes_left: int | None = None
        self.rate_bps: float | None = None
        self._free_at = {"in": 0.0, "out": 0.0}

    def handshake(self) -> str:
        return self.state

    def count(self, n: int) -> None:
        if self.bytes_left is None:
            return
        self.bytes_left -= n
        if self.bytes_left <= 0:
            self.bytes_left = None  # one shot
            self.on_drop()

    async def pace(self, direction: str, n: int) -> None:
        """Hold a transfer of n bytes until the (token-bucket) link could have carried it."""
        if not self.rate_bps:
            return
        now = time.monotonic()
        start = max(now, self._free_at[direction])
        self._free_at[direction] = start + n / self.rate_bps
        if self._free_at[direction] > now:
            await asyncio.sleep(self._free_at[direction] - now)
