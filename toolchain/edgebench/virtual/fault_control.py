"""Applies `faults.FaultRequest`s to a running VirtualDevice and reports the fault state."""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from edgebench.virtual import nospace
from edgebench.virtual.faults import FaultRequest
from edgebench.virtual.service_log import log_fault

if TYPE_CHECKING:
    from edgebench.virtual.device import VirtualDevice

log = logging.getLogger(__name__)


class FaultController:
    def __init__(self, device: VirtualDevice) -> None:
        self.device = device
        self.no_space = False
        self.come_back_after = 0.0
        self.drop_at: float | None = None  # loop time of a pending timed drop
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def drop_now(self) -> None:
        """Cut every connection and keep the port closed for come_back_after seconds."""
        self.drop_at = None
        log.info("fault: dropping the link (back after %.1f s)", self.come_back_after)
        self._spawn(self.device.go_down(self.come_back_after))

    async def apply(self, request: FaultRequest) -> dict[str, Any]:
        device, link, controls = self.device, self.device.link, self.device.controls
        done: dict[str, Any] = {}
        if request.clear:
            await self.clear()
            return self.status()
        if device.device_log is not None:
            log_fault(device.device_log, request.to_json())
        if request.come_back_after is not None:
            self.come_back_after = request.come_back_after
        if request.slow_link_kbps is not None:
            link.rate_bps = request.slow_link_kbps * 1000.0 or None
        if request.state is not None:
            device.set_link_state(request.state)
        if request.drop_after_bytes is not None:
            if request.drop_after_bytes == 0:
                self.drop_now()
            else:
                link.bytes_left = request.drop_after_bytes
        if request.drop_after_seconds is not None:
            self._cancel_timer()
            loop = asyncio.get_running_loop()
            self.drop_at = loop.time() + request.drop_after_seconds
            self._timer = loop.call_at(self.drop_at, self.drop_now)
        if request.no_space is not None and request.no_space != self.no_space:
            await self.set_no_space(request.no_space)
        if request.stale_gauge is not None:
            controls.stale_gauge = request.stale_gauge
        if request.throttle is not None:
            controls.throttle_level = request.throttle
        if request.usb_power is not None:
            controls.usb_power = request.usb_power
        if request.weak_charger_ma is not None:  # a weak charger is plugged in: VBUS is on
            controls.weak_charger_ma = request.weak_charger_ma or None
            controls.usb_power = controls.usb_power or bool(request.weak_charger_ma)
        if request.battery_level is not None:
            controls.set_level_pct = request.battery_level
        if any(v is not None for v in (request.stale_gauge, request.throttle, request.usb_power,
                                       request.weak_charger_ma, request.battery_level)):
            await self._gauge_caught_up()
        if request.kill_harness:
            done["killed"] = device.kill_processes()
        if request.reboot:
            await device.reboot(wipe_tmp=True, down_s=self.come_back_after)
            done["rebooted"] = True
        return {**self.status(), **done}

    async def _gauge_caught_up(self) -> None:
        """Return once the gauge thread has run a full period with the new controls (so the caller
        finds them in sysfs), or after 2 s if it is stuck."""
        power = self.device.power
        if power is None or not power.is_alive():
            return
        target = power.ticks + 2  # the period under way may have read the old controls
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 2.0
        while power.ticks < target and loop.time() < deadline:
            await asyncio.sleep(0.02)

    async def set_no_space(self, on: bool) -> None:
        device = self.device
        init = device.sandbox.init_pid
        if init is not None:
            if on:
                await nospace.enable(init, device.layout.root, device.layout.folder / "nospace")
            else:
                await nospace.disable(init, device.layout.root, device.layout.folder / "nospace")
        self.no_space = on

    async def reapply_after_boot(self) -> None:
        """Mounts die with the device's namespaces: a rebooted device gets its full /data back."""
        if self.no_space:
            await self.set_no_space(True)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self.drop_at = None

    async def clear(self) -> None:
        device = self.device
        self._cancel_timer()
        device.link.bytes_left = None
        device.link.rate_bps = None
        self.come_back_after = 0.0
        device.set_link_state("device")
        if self.no_space:
            await self.set_no_space(False)
        device.controls.stale_gauge = False
        device.controls.throttle_level = 0
        device.controls.usb_power = True
        device.controls.weak_charger_ma = None
        if not device.listening:
            await device.listen()
        await self._gauge_caught_up()

    def status(self) -> dict[str, Any]:
        device, link, controls = self.device, self.device.link, self.device.controls
        loop = asyncio.get_running_loop()
        status: dict[str, Any] = {
            "serial": device.config.serial, "adb_serial": device.config.adb_serial,
            "listening": device.listening, "state": link.state,
            "drop_after_bytes_left": link.bytes_left,
            "drop_in_seconds": None if self.drop_at is None else round(max(self.drop_at - loop.time(), 0.0), 3),
            "come_back_after": self.come_back_after,
            "slow_link_kbps": None if not link.rate_bps else link.rate_bps / 1000.0,
            "no_space": self.no_space, "stale_gauge": controls.stale_gauge,
            "throttle": controls.throttle_level, "usb_power": controls.usb_power,
            "weak_charger_ma": controls.weak_charger_ma,
        }
        if device.power is not None:  # lost periods: failed (an exception, logged) or skipped (host behind)
            status["gauge_periods"] = {"done": device.power.ticks, "failed": device.power.failed_periods,
                                       "skipped": device.power.skipped_periods}
        reading = device.power.last_reading if device.power is not None else None
        if reading is not None:  # what the gauge shows (never the truth)
            status["battery"] = {"capacity_pct": reading.capacity_pct, "status": reading.status,
                                 "current_now": reading.current_now,
                                 "current_unit": device.profile.battery.current_unit,
                                 "sign": device.profile.battery.sign}
        return status
