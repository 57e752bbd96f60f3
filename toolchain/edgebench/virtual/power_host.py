"""The host thread that makes a virtual device's battery, thermal state and power rails live.

Every gauge period (the profile's update_period_ms, e.g. 175.8 ms) it:
1. reads the CPU time of the device's processes per cluster (cpu_account.py) and prices it with the
   SoC model (power_soc.py: power by frequency step, a DVFS governor, a tail after bursts, radio
   wake-ups), and with a second instance fed the background alone; the truth integrates their
   difference (the workload's marginal energy); the device shows only its gauge, cpufreq and rails;
2. reads what the device's shell has set: `power.battery_input.suspended` (setprop or
   `dumpsys battery suspend_input`), airplane mode (`settings`/`cmd connectivity`), screen
   state (`input keyevent`, `svc power`), all in /data/vendor/edgebench/;
3. system power = idle floor + screen (awake) + radio (airplane off: idle + wake-ups) + SoC; writes usb/online
   (VBUS on or cut); steps the battery model (gauge.py) and, unless the gauge is stale (fault), rewrites
   /sys/class/power_supply/battery/{current_now,current_avg,voltage_now,charge_counter,capacity,status,temp}
   (+ uevent) and the ODPM rail counters (/sys/bus/iio/devices/iio:device0/energy_value, uWs), which
   meter the same draws: CPU rails the SoC model's per-cluster rail_mw, screen and radio rails those;
4. applies the requested thermal throttling level (thermal.py) when it changes, and sets each
   cluster's scaling_cur_freq to the governor's frequency (it ramps up under load, down when idle);
5. turns window markers (energy_truth.py) into host-only truth records.
The battery state is saved in <folder>/battery_state.json, so a restarted device keeps its charge.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any, Callable

from edgebench.virtual.cpu_account import CpuAccountant
from edgebench.virtual.energy_truth import EVENTS_FILE, TRUTH_FILE, EnergyPoint, WindowTracker, parse_marker
from edgebench.virtual.gauge import BatteryModel, GaugeReading
from edgebench.virtual.hostfiles import AtomicWriter, read_device_tail, read_key_values
from edgebench.virtual.profiles import Profile
from edgebench.virtual.device_log import LogBuffers
from edgebench.virtual.service_log import HEALTHD_EVERY_S, healthd_line, log_healthd, log_thermal_status
from edgebench.virtual.power_soc import MarginalSocPower
from edgebench.virtual.thermal import ceiling_khz, cur_freq_files, throttle_files

log = logging.getLogger(__name__)
STATE_DIR = "data/vendor/edgebench"
BATTERY_DIR = "sys/class/power_supply/battery"
USB_DIR = "sys/class/power_supply/usb"
RAILS_FILE = "sys/bus/iio/devices/iio:device0/energy_value"
SAVE_EVERY_S = 5.0


@dataclass
class Controls:
    """What the lab (CLI faults) sets; read by the gauge thread each period."""

    usb_power: bool = True  # the cable delivers VBUS (a switchable hub can cut it)
    weak_charger_ma: float | None = None  # USB supplies at most this much (None: a full charger)
    stale_gauge: bool = False  # the gauge stops updating its registers
    throttle_level: int = 0
    set_level_pct: float | None = None  # one-shot: put the battery at this level


def boottime_s() -> float:
    return time.clock_gettime(time.CLOCK_BOOTTIME)


class PowerHost(threading.Thread):
    device_log: LogBuffers | None = None  # set by the device: healthd and thermal lines go there
    _next_healthd_s = 0.0  # boottime of the next healthd line (the first comes at boot)
    _logged_level = 0  # thermal throttle level last written to the log
    boottime_offset_s = 0  # the device's CLOCK_BOOTTIME minus the host's (set by the device each boot)

    def __init__(self, folder: Path, root: Path, profile: Profile, serial: str,
                 init_pid: Callable[[], int | None], controls: Controls) -> None:
        super().__init__(name=f"gauge-{serial}", daemon=True)
        self.folder, self.root, self.profile, self.serial = folder, root, profile, serial
        self.init_pid = init_pid
        self.controls = controls
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        spec = profile.battery
        self.period_s = spec.update_period_ms / 1000.0
        cluster_of_cpu = [0] * (max(c for cl in profile.clusters for c in cl.cpus) + 1)
        for index, cluster in enumerate(profile.clusters):
            for cpu in cluster.cpus:
                cluster_of_cpu[cpu] = index
        self.accountant = CpuAccountant(cluster_of_cpu)
        self.soc = MarginalSocPower(spec.soc_power, [list(c.cpufreq["scaling_available_frequencies_khz"])
                                                  for c in profile.clusters], seed=serial)
        battery = profile.power_supply.get("battery", {})
        saved = self._load_saved()
        self.model = BatteryModel(spec, capacity_pct=float(battery.get("capacity", 50)),
                                  voltage_uv=int(battery.get("voltage_now", 3800000)),
                                  temp_decic=int(battery.get("temp", 250)), seed=serial, state=saved)
        self.writer = AtomicWriter(root, folder / ".host-staging")
        self.tracker = WindowTracker(folder / TRUTH_FILE, {"serial": serial, "profile": profile.name,
                                                           "idle_floor_mw": spec.idle_floor_mw})
        self.rail_uws = [0.0] * len(spec.rails)
        self.energy = EnergyPoint(0.0, 0.0, 0.0, 0.0)  # cumulative since this process started
        self.last_t = boottime_s()
        self.prev_point = (self.last_t, self.energy)
        self.events_offset = 0
        self.applied_level: int | None = None
        self.last_reading: GaugeReading | None = None
        self.boot_t = self.last_t
        self._root_fd: int | None = None
        self._last_save = 0.0
        self.ticks = 0  # periods completed (a control change is visible once this moved on)
        self.failed_periods = 0  # periods whose update raised ("gauge period failed" in server.log)
        self.skipped_periods = 0  # periods never run because the host fell behind
        self._behind_s = 0.0  # lateness not yet counted as a whole skipped period

    # Called from the asyncio side.
    def stop(self) -> None:
        self.stop_event.set()

    def rebooted(self) -> None:
        """A reboot: processes are new, rail counters restart from zero, /sys was rebuilt."""
        with self.lock:
            self.accountant.reset()
            self.rail_uws = [0.0] * len(self.rail_uws)
            self.boot_t = boottime_s()
            self.writer.forget()
            self.applied_level = None
            self._next_healthd_s = 0.0

    def _load_saved(self) -> dict[str, Any] | None:
        try:
            saved: dict[str, Any] = json.loads((self.folder / "battery_state.json").read_text())
            return saved
        except (OSError, json.JSONDecodeError):
            return None

    def save(self) -> None:
        tmp = self.folder / "battery_state.json.tmp"
        tmp.write_text(json.dumps(self.model.state()) + "\n")
        tmp.replace(self.folder / "battery_state.json")

    def run(self) -> None:
        self._root_fd = os.open(self.root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        self._skip_old_markers()
        next_t = time.monotonic()
        try:
            while not self.stop_event.is_set():
                next_t += self.period_s
                try:
                    with self.lock:
                        self.tick()
                except Exception:  # a broken period must not stop the gauge for good
                    self.failed_periods += 1
                    log.exception("gauge period failed")
                delay = next_t - time.monotonic()
                if delay < 0:
                    self._behind_s -= delay
                    self.skipped_periods += int(self._behind_s // self.period_s)
                    self._behind_s %= self.period_s
                    next_t = time.monotonic()  # we fell behind (host busy): skip, do not burst
                    delay = 0
                self.stop_event.wait(delay)
        finally:
            self.save()
            os.close(self._root_fd)

    def _device_state(self) -> dict[str, bool]:
        assert self._root_fd is not None
        props = read_key_values(self._root_fd, f"{STATE_DIR}/props")
        settings = read_key_values(self._root_fd, f"{STATE_DIR}/settings_global")
        power = read_key_values(self._root_fd, f"{STATE_DIR}/power")
        return {
            "input_suspended": props.get("power.battery_input.suspended", "").lower() in ("true", "1"),
            "airplane": settings.get("airplane_mode_on", "0") == "1",
            "awake": power.get("wakefulness", "Awake") == "Awake",
        }

    def tick(self) -> None:
        now = boottime_s()
        dt = max(now - self.last_t, 1e-3)
        self.last_t = now
        init = self.init_pid()
        spec = self.profile.battery
        cpu = self.accountant.sample(f"/proc/{init}/root/proc") if init else None
        state = self._device_state()
        level = self.controls.throttle_level
        ceilings = [ceiling_khz(self.profile, i, level)[0] for i in range(len(self.profile.clusters))]
        idle = [0.0] * len(self.profile.clusters)
        soc, marginal_mw = self.soc.step(
            dt, cpu.cluster_cpu_s if cpu else idle, cpu.workload_cluster_cpu_s if cpu else idle, ceilings,
            radio_on=not state["airplane"], peak_cpu_s=cpu.cluster_peak_cpu_s if cpu else idle,
            background_peak_cpu_s=cpu.background_peak_cpu_s if cpu else idle,
            wakeups=cpu.wakeups if cpu else 0.0, background_wakeups=cpu.background_wakeups if cpu else 0.0)
        screen_mw = spec.screen_on_mw if state["awake"] else 0.0
        radio_mw = 0.0 if state["airplane"] else spec.radio_mw + soc.radio_mw
        system_mw = spec.idle_floor_mw + screen_mw + radio_mw + soc.cpu_mw
        if self.controls.set_level_pct is not None:
            self.model.set_level(self.controls.set_level_pct)
            self.controls.set_level_pct = None
        weak = self.controls.weak_charger_ma
        reading = self.model.step(dt, system_mw, charger_online=self.controls.usb_power,
                                  input_suspended=state["input_suspended"],
                                  charger_limit_ua=None if weak is None else weak * 1000.0)
        self.last_reading = reading
        self.energy = EnergyPoint(
            workload_mj=self.energy.workload_mj + marginal_mw * dt,
            workload_cpu_s=self.energy.workload_cpu_s + (cpu.workload_cpu_s if cpu else 0.0),
            device_mj=self.energy.device_mj + system_mw * dt,
            attributed_mj=self.energy.attributed_mj + soc.attributed_mw * dt)
        for index, rail in enumerate(spec.rails):  # the rails meter the same draws the battery supplies
            rail_mw = (rail.constant_mw + (soc.rail_mw[rail.cluster] if rail.cluster is not None else 0.0)
                       + (screen_mw if rail.carries == "screen" else 0.0)
                       + (radio_mw if rail.carries == "radio" else 0.0))
            self.rail_uws[index] += rail_mw * dt * 1000.0
        if "usb" in self.profile.power_supply:  # VBUS present or cut: what usb/online shows
            self.writer.write(f"{USB_DIR}/online", f"{1 if self.controls.usb_power else 0}\n")
        if not self.controls.stale_gauge:
            self._write_battery(reading)
            self._write_rails(now)
        if level != self.applied_level:
            for rel, text in throttle_files(self.profile, level).items():
                self.writer.write(rel, text, force=True)
            self.applied_level = level
        freqs = [self.soc.device.freq_khz(i, ceilings[i]) for i in range(len(self.profile.clusters))]
        for rel, text in cur_freq_files(self.profile, freqs).items():
            self.writer.write(rel, text)
        self._markers(now)
        self.tracker.sample(now + self.boottime_offset_s, self.energy)  # markers and traces: device clock
        self._log_services(reading, now)
        self.prev_point = (now, self.energy)
        if now - self._last_save > SAVE_EVERY_S:
            self._last_save = now
            self.save()
        self.ticks += 1

    def _log_services(self, reading: GaugeReading, now: float) -> None:
        log = self.device_log
        if log is None:
            return
        if now >= self._next_healthd_s:
            self._next_healthd_s = now + HEALTHD_EVERY_S
            battery = self.profile.power_supply.get("battery", {})
            cycles = battery.get("cycle_count")
            log_healthd(log, healthd_line(reading, charger_online=self.controls.usb_power,
                                          full_charge_uah=self.profile.battery.charge_full_uah,
                                          cycle_count=int(cycles) if cycles is not None else None))
        level = self.controls.throttle_level
        if level != self._logged_level:
            self._logged_level = level
            log_thermal_status(log, level)

    def _write_battery(self, r: GaugeReading) -> None:
        values = {"current_now": r.current_now, "current_avg": r.current_avg, "voltage_now": r.voltage_now_uv,
                  "charge_counter": r.charge_counter_uah, "capacity": r.capacity_pct, "status": r.status,
                  "temp": r.temp_decic}
        for name, value in values.items():
            self.writer.write(f"{BATTERY_DIR}/{name}", f"{value}\n")
        static = self.profile.power_supply.get("battery", {})
        uevent = {"type": "Battery", **static, **values}
        self.writer.write(f"{BATTERY_DIR}/uevent", "POWER_SUPPLY_NAME=battery\n" + "".join(
            f"POWER_SUPPLY_{k.upper()}={v}\n" for k, v in uevent.items()))

    def _write_rails(self, now: float) -> None:
        rails = self.profile.battery.rails
        if not rails:
            return
        ms = int((now - self.boot_t) * 1000)
        lines = [f"t={ms}"] + [f"CH{i}(T={ms})[{rail.name}], {int(self.rail_uws[i])}" for i, rail in enumerate(rails)]
        self.writer.write(RAILS_FILE, "\n".join(lines) + "\n")

    def _energy_at(self, t: float) -> EnergyPoint:
        t0, p0 = self.prev_point
        t1, p1 = self.last_t, self.energy
        if t1 <= t0 or t <= t0:
            return p0 if t <= t0 else p1
        if t >= t1:
            return p1
        f = (t - t0) / (t1 - t0)
        return EnergyPoint(*(a + (b - a) * f for a, b in zip(astuple(p0), astuple(p1))))

    def _skip_old_markers(self) -> None:
        """Markers written before this process started belong to no energy this process measured."""
        assert self._root_fd is not None
        found = read_device_tail(self._root_fd, EVENTS_FILE, 0, 0)
        self.events_offset = found[1] if found else 0

    def _markers(self, now: float) -> None:
        assert self._root_fd is not None
        found = read_device_tail(self._root_fd, EVENTS_FILE, self.events_offset)
        if found is None:
            self.events_offset = 0
            return
        pending, size = found
        if size < self.events_offset:  # the file was replaced: read it from the start next period
            self.events_offset = 0
            return
        consumed = 0
        for raw in pending.split(b"\n")[:-1]:  # only complete lines
            marker = parse_marker(raw.decode("utf-8", "replace"))
            # Markers carry the device's clock (its own time namespace); `now` is the host's.
            if marker is not None and marker.t_s - self.boottime_offset_s > now:
                break  # stamped after this period's reading: handle it next period
            consumed += len(raw) + 1
            if marker is not None:
                record = self.tracker.feed(marker, lambda t: self._energy_at(t - self.boottime_offset_s))
                if record is not None:
                    log.info("energy truth: %s", json.dumps(record, sort_keys=True))
        self.events_offset += consumed
