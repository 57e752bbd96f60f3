"""The `battery_model` section of a device profile: how its fuel gauge reports and what costs power.

A virtual device's battery is a model (see gauge.py and power_host.py); this section says how that
model looks through sysfs on the phone being imitated, and how much power things draw:

  current_unit        "uA" (kernel ABI) or "mA" (as Samsung and Huawei phones report it)
  sign                "charging_positive" (ABI: discharging is negative) or "discharging_positive"
  update_period_ms    the gauge's conversion period: current_now, voltage_now and the charge
                      counter change only once per period (MAX17047: 175.8 ms)
  charge_counter_quantum_uah   the counter's resolution (MAX17047 at 10 mOhm: 500 uAh)
  voltage_lsb_uv      voltage_now resolution (MAX17047: 625 uV)
  charge_full_uah, voltage_empty_uv, voltage_full_uv, internal_resistance_mohm
  usb_charge_current_ua        what USB delivers while charging input is not suspended
  idle_floor_mw, screen_on_mw, radio_mw        whole-device power that is not the workload
  cpu_mw_per_busy_core         one value per CPU cluster (profile order): a busy core's power at the
                               top frequency, for host-side estimates (benchmarks/policy_energy.py);
                               the device itself runs on soc_power
  soc_power           power_profile.xml-shaped CPU power by frequency step, DVFS, tail, radio (power_soc.py)
  usb_input_power_mw  what the charger can deliver (VBUS x input current limit x efficiency): a load
                      above it discharges the battery with USB online
  current_now_filter_ms        the gauge's low-pass on current_now (an IIR, as fuel-gauge ICs
                               filter their current register): a step in load shows with this lag
  noise_sd_ma, gain_error, offset_ma, offset_drift_ma_per_hour   how the gauge errs
  temp_rise_c_per_w, temp_time_constant_s     battery temperature follows power, slowly
  power_rails         optional ODPM rails (Pixel 6+ style), see RailSpec
  provenance          where the numbers come from (most are estimates; say so)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edgebench.errors import UsageError
from edgebench.virtual.power_soc import SocPowerSpec, parse_soc_power

CURRENT_UNITS = ("uA", "mA")
SIGNS = ("charging_positive", "discharging_positive")
RAIL_CARRIES = ("screen", "radio")


@dataclass(frozen=True)
class RailSpec:
    """One ODPM rail and what it meters: a CPU cluster's power (its cores and cluster power plus its
    share of cpu.active and the tail; cluster 0 also cpu.idle/suspend: power_soc.SocPeriod.rail_mw), the screen
    (`"carries": "screen"`: screen_on_mw while awake), the radio (`"carries": "radio"`: radio_mw and
    its wake-ups unless in airplane mode), and/or a constant power."""

    name: str  # schematic name, e.g. S4M_VDD_CPUCL0
    subsystem: str  # e.g. CPU(LITTLE), GPU
    cluster: int | None  # index into the profile's clusters, or None
    constant_mw: float  # added on top (the only term of a rail that carries nothing else)
    carries: str | None = None  # "screen" | "radio" | None


@dataclass(frozen=True)
class BatteryModelSpec:
    current_unit: str
    sign: str
    update_period_ms: float
    charge_counter_quantum_uah: int
    voltage_lsb_uv: int
    charge_full_uah: int
    voltage_empty_uv: int
    voltage_full_uv: int
    internal_resistance_mohm: float
    usb_charge_current_ua: int
    idle_floor_mw: float
    screen_on_mw: float
    radio_mw: float
    cpu_mw_per_busy_core: tuple[float, ...]
    soc_power: SocPowerSpec
    usb_input_power_mw: float
    current_now_filter_ms: float
    noise_sd_ma: float
    gain_error: float
    offset_ma: float
    offset_drift_ma_per_hour: float
    temp_rise_c_per_w: float
    temp_time_constant_s: float
    rails_iio_name: str | None
    rails: tuple[RailSpec, ...]
    provenance: str

    @property
    def sign_factor(self) -> int:
        """Multiply a charging-positive current by this to get what the gauge prints."""
        return 1 if self.sign == "charging_positive" else -1

    @property
    def unit_divisor(self) -> int:
        return 1 if self.current_unit == "uA" else 1000


def _num(data: dict[str, Any], key: str, where: str, *, minimum: float | None = None) -> float:
    if key not in data:
        raise UsageError(f"profile {where}: battery_model needs {key!r}")
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"profile {where}: battery_model.{key} should be a number, got {value!r}")
    if minimum is not None and value < minimum:
        raise UsageError(f"profile {where}: battery_model.{key} must be >= {minimum}, got {value}")
    return float(value)


def parse_battery_model(data: Any, where: str, n_clusters: int) -> BatteryModelSpec:
    if not isinstance(data, dict):
        raise UsageError(f"profile {where}: missing object 'battery_model' (how the fuel gauge reports); "
                         "see edgebench/virtual/power_profile.py")
    unit, sign = data.get("current_unit"), data.get("sign")
    if unit not in CURRENT_UNITS:
        raise UsageError(f"profile {where}: battery_model.current_unit must be one of {CURRENT_UNITS}, got {unit!r}")
    if sign not in SIGNS:
        raise UsageError(f"profile {where}: battery_model.sign must be one of {SIGNS}, got {sign!r}")
    cores = data.get("cpu_mw_per_busy_core")
    if not isinstance(cores, list) or len(cores) != n_clusters or not all(
            isinstance(c, (int, float)) and c >= 0 for c in cores):
        raise UsageError(f"profile {where}: battery_model.cpu_mw_per_busy_core needs {n_clusters} "
                         f"non-negative numbers (one per CPU cluster), got {cores!r}")
    rails_data = data.get("power_rails")
    rails: list[RailSpec] = []
    iio_name = None
    if rails_data is not None:
        iio_name = str(rails_data.get("iio_name", "odpm"))
        for rail in rails_data.get("rails", []):
            cluster = rail.get("cluster")
            if cluster is not None and not (isinstance(cluster, int) and 0 <= cluster < n_clusters):
                raise UsageError(f"profile {where}: power rail {rail.get('name')!r} names cluster {cluster!r}; "
                                 f"expected 0..{n_clusters - 1} or null")
            carries = rail.get("carries")
            if carries not in (None, *RAIL_CARRIES):
                raise UsageError(f"profile {where}: power rail {rail.get('name')!r} carries {carries!r}; "
                                 f"expected one of {RAIL_CARRIES} or no 'carries'")
            rails.append(RailSpec(str(rail["name"]), str(rail["subsystem"]), cluster,
                                  float(rail.get("constant_mw", 0.0)), carries))
    period = _num(data, "update_period_ms", where, minimum=10)
    spec = BatteryModelSpec(
        current_unit=unit, sign=sign, update_period_ms=period,
        charge_counter_quantum_uah=int(_num(data, "charge_counter_quantum_uah", where, minimum=1)),
        voltage_lsb_uv=int(_num(data, "voltage_lsb_uv", where, minimum=1)),
        charge_full_uah=int(_num(data, "charge_full_uah", where, minimum=1000)),
        voltage_empty_uv=int(_num(data, "voltage_empty_uv", where, minimum=1)),
        voltage_full_uv=int(_num(data, "voltage_full_uv", where, minimum=1)),
        internal_resistance_mohm=_num(data, "internal_resistance_mohm", where, minimum=0),
        usb_charge_current_ua=int(_num(data, "usb_charge_current_ua", where, minimum=0)),
        idle_floor_mw=_num(data, "idle_floor_mw", where, minimum=0),
        screen_on_mw=_num(data, "screen_on_mw", where, minimum=0),
        radio_mw=_num(data, "radio_mw", where, minimum=0),
        cpu_mw_per_busy_core=tuple(float(c) for c in cores),
        soc_power=parse_soc_power(data.get("soc_power"), where, n_clusters),
        usb_input_power_mw=_num(data, "usb_input_power_mw", where, minimum=0),
        current_now_filter_ms=_num(data, "current_now_filter_ms", where, minimum=0),
        noise_sd_ma=_num(data, "noise_sd_ma", where, minimum=0),
        gain_error=_num(data, "gain_error", where),
        offset_ma=_num(data, "offset_ma", where),
        offset_drift_ma_per_hour=_num(data, "offset_drift_ma_per_hour", where),
        temp_rise_c_per_w=_num(data, "temp_rise_c_per_w", where, minimum=0),
        temp_time_constant_s=_num(data, "temp_time_constant_s", where, minimum=1),
        rails_iio_name=iio_name, rails=tuple(rails),
        provenance=str(data.get("provenance", "")),
    )
    if spec.voltage_full_uv <= spec.voltage_empty_uv:
        raise UsageError(f"profile {where}: battery_model.voltage_full_uv must exceed voltage_empty_uv")
    return spec
