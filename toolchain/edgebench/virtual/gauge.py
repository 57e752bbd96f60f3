"""The battery and its fuel gauge: true charge on one side, what sysfs reports on the other.

`BatteryModel.step(dt, system_power_mw, ...)` advances the TRUE battery by one gauge period and
returns what a gauge of the profile (power_profile.BatteryModelSpec) would print for that period:

- current: the battery current seen through the gauge's low-pass (an IIR with time constant
  current_now_filter_ms on the per-period mean, as fuel-gauge ICs filter their current register: a
  step in load shows only gradually), times (1 + gain_error), plus an offset that drifts linearly
  with time, plus Gaussian read noise; printed in the profile's unit (uA or mA) and sign convention;
- charge_counter: the gauge's own coulomb count of the UNFILTERED current (same gain and offset, no
  read noise: the counter integrates every conversion), floored to
  the counter quantum (e.g. 500 uAh) - so it moves in steps, as on a MAX17047;
- capacity: the gauge's state of charge, rounded to a whole percent;
- voltage: open-circuit voltage (linear in state of charge, anchored at the profile's captured
  reading) plus I x R, rounded to the voltage LSB;
- status: Charging while USB is online, charging input is not suspended and the battery gains
  charge (Full at 100 %), else Discharging; temperature follows power with a first-order lag.
  The charger delivers at most usb_input_power_mw (or a weak charger's `charger_limit_ua` at the
  battery, whichever is less): it carries the system first and charges the battery with what is
  left, up to usb_charge_current_ua. A load above what it supplies discharges the battery by the
  difference and status reads Discharging, with USB online.

Charging is physics here: USB delivers power unless input is suspended. What
`dumpsys battery unplug` does is not seen by this model at all (it only freezes the framework's
view: BatteryService's cached state), which is exactly the pitfall it sets for battery measurements:
the hardware keeps charging.
"""
from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass
from typing import Any

from edgebench.virtual.power_profile import BatteryModelSpec

AVG_WINDOW_PERIODS = 8  # current_avg: mean of the last 8 conversions (~1.4 s at 175.8 ms)


@dataclass(frozen=True)
class GaugeReading:
    """One period's sysfs values, already in the profile's units and sign."""

    current_now: int
    current_avg: int
    voltage_now_uv: int
    charge_counter_uah: int
    capacity_pct: int
    status: str
    temp_decic: int
    true_current_ua: float  # + = into the battery; host-side truth, never written to the device
    true_voltage_uv: float


class BatteryModel:
    def __init__(self, spec: BatteryModelSpec, *, capacity_pct: float, voltage_uv: int, temp_decic: int,
                 seed: str, state: dict[str, Any] | None = None) -> None:
        self.spec = spec
        self.rng = random.Random(seed)
        self.soc0 = min(max(capacity_pct / 100.0, 0.0), 1.0)
        # Anchor the OCV line at the captured (capacity, voltage) so the first reading matches the profile.
        self.ocv_offset_uv = voltage_uv - self._ocv_line(self.soc0)
        self.charge_true_uah = self.soc0 * spec.charge_full_uah
        self.charge_gauge_uah = self.charge_true_uah
        self.temp_c = temp_decic / 10.0
        self.temp_ref_c = self.temp_c
        self.elapsed_s = 0.0
        self.recent_ua: deque[float] = deque(maxlen=AVG_WINDOW_PERIODS)
        self.last_voltage_uv = float(voltage_uv)
        self.filtered_ua: float | None = None  # the gauge's low-passed current (None until the first period)
        if state:
            self.load_state(state)

    # Persistence across device restarts (a phone keeps its charge when adbd restarts).
    def state(self) -> dict[str, Any]:
        return {"charge_true_uah": self.charge_true_uah, "charge_gauge_uah": self.charge_gauge_uah,
                "temp_c": self.temp_c, "temp_ref_c": self.temp_ref_c, "elapsed_s": self.elapsed_s,
                "ocv_offset_uv": self.ocv_offset_uv, "last_voltage_uv": self.last_voltage_uv}

    def load_state(self, state: dict[str, Any]) -> None:
        for key in ("charge_true_uah", "charge_gauge_uah", "temp_c", "temp_ref_c", "elapsed_s",
                    "ocv_offset_uv", "last_voltage_uv"):
            if isinstance(state.get(key), (int, float)):
                setattr(self, key, float(state[key]))

    def set_level(self, pct: float) -> None:
        """Put the battery at `pct` % (a lab fixture: a phone charged or drained to that level)."""
        self.charge_true_uah = self.charge_gauge_uah = min(max(pct, 0.0), 100.0) / 100.0 * self.spec.charge_full_uah

    @property
    def soc(self) -> float:
        return min(max(self.charge_true_uah / self.spec.charge_full_uah, 0.0), 1.0)

    def _ocv_line(self, soc: float) -> float:
        s = self.spec
        return s.voltage_empty_uv + (s.voltage_full_uv - s.voltage_empty_uv) * soc

    def ocv_uv(self) -> float:
        return self._ocv_line(self.soc) + self.ocv_offset_uv

    def step(self, dt_s: float, system_power_mw: float, *, charger_online: bool,
             input_suspended: bool, charger_limit_ua: float | None = None) -> GaugeReading:
        s = self.spec
        volts = max(self.last_voltage_uv / 1e6, 2.5)
        system_ua = system_power_mw / volts * 1000.0  # mW / V = mA
        charging = charger_online and not input_suspended
        full = charging and self.charge_true_uah >= s.charge_full_uah * 0.999
        supply_ua = s.usb_input_power_mw / volts * 1000.0  # what the charger can deliver, at the battery
        if charger_limit_ua is not None:
            supply_ua = min(supply_ua, charger_limit_ua)
        if not charging:
            current_ua = -system_ua
        elif full:
            current_ua = min(supply_ua - system_ua, 0.0)  # the charger carries the system; the battery rests
        else:
            current_ua = min(float(s.usb_charge_current_ua), supply_ua - system_ua)
        status = ("Full" if full and current_ua >= 0 else
                  "Charging" if charging and current_ua > 0 else "Discharging")
        self.charge_true_uah = min(max(self.charge_true_uah + current_ua * dt_s / 3600.0, 0.0),
                                   float(s.charge_full_uah))
        self.elapsed_s += dt_s
        offset_ua = (s.offset_ma + s.offset_drift_ma_per_hour * self.elapsed_s / 3600.0) * 1000.0
        gauge_ua = current_ua * (1.0 + s.gain_error) + offset_ua
        self.charge_gauge_uah = min(max(self.charge_gauge_uah + gauge_ua * dt_s / 3600.0, 0.0),
                                    float(s.charge_full_uah))
        # The current register: a first-order low-pass of the conversions (the first period seeds it).
        alpha = 1.0 - math.exp(-dt_s * 1000.0 / s.current_now_filter_ms) if s.current_now_filter_ms > 0 else 1.0
        self.filtered_ua = gauge_ua if self.filtered_ua is None else \
            self.filtered_ua + (gauge_ua - self.filtered_ua) * alpha
        read_ua = self.filtered_ua + self.rng.gauss(0.0, s.noise_sd_ma * 1000.0)
        self.recent_ua.append(read_ua)
        voltage = self.ocv_uv() + current_ua * s.internal_resistance_mohm / 1000.0  # uA x ohm = uV
        self.last_voltage_uv = voltage
        # Battery temperature: first-order lag towards (reference + rise x extra power).
        target = self.temp_ref_c + s.temp_rise_c_per_w * (system_power_mw - s.idle_floor_mw) / 1000.0
        self.temp_c += (target - self.temp_c) * (1.0 - math.exp(-dt_s / s.temp_time_constant_s))
        quantum = s.charge_counter_quantum_uah
        return GaugeReading(
            current_now=self._print_current(read_ua),
            current_avg=self._print_current(sum(self.recent_ua) / len(self.recent_ua)),
            voltage_now_uv=int(round(voltage / s.voltage_lsb_uv)) * s.voltage_lsb_uv,
            charge_counter_uah=int(self.charge_gauge_uah // quantum) * quantum,
            capacity_pct=int(min(max(math.floor(self.charge_gauge_uah / s.charge_full_uah * 100 + 0.5), 0), 100)),
            status=status,
            temp_decic=int(round(self.temp_c * 10)),
            true_current_ua=current_ua,
            true_voltage_uv=voltage,
        )

    def _print_current(self, ua: float) -> int:
        return int(round(ua * self.spec.sign_factor / self.spec.unit_divisor))
