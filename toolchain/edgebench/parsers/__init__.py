"""Pure parsers for text captured from devices: each takes `str`, returns a frozen dataclass
with units in its field names, and raises only `edgebench.errors.ParseError`.

`edgebench.inspect.device_formats.DEVICE_FORMATS` registers them with `edgebench inspect`;
parsers import nothing of edgebench but their own helpers and `edgebench.errors`.
"""
from __future__ import annotations

from edgebench.parsers.adb_devices import AdbDevice, AdbDevicesResult, parse_adb_devices
from edgebench.parsers.battery import DumpsysBattery, parse_dumpsys_battery
from edgebench.parsers.batterystats import BatteryStatsDump, parse_dumpsys_batterystats
from edgebench.parsers.batterystats_checkin import (BatteryStatsCheckin, CheckinPeriod,
                                                    CheckinPowerItem, CheckinRow,
                                                    parse_batterystats_checkin)
from edgebench.parsers.batterystats_history import BatteryHistorySummary
from edgebench.parsers.batterystats_period import RawBlock, StatsPeriod
from edgebench.parsers.batterystats_power import PowerUseEntry, PowerUseSummary
from edgebench.parsers.cpufreq import (AvailableFrequencies, CpuCapacity, CpuFreqValue,
                                       FreqResidency, TimeInState, parse_available_frequencies,
                                       parse_cpu_capacity, parse_cpufreq_value,
                                       parse_time_in_state)
from edgebench.parsers.cpuinfo import CpuCore, CpuInfo, parse_cpuinfo
from edgebench.parsers.getprop import GetpropResult, parse_getprop
from edgebench.parsers.healthd import HealthdLog, HealthdSample, parse_healthd_log
from edgebench.parsers.power_supply import (InferredCurrent, PowerSupplyUevent,
                                            parse_power_supply_uevent)
from edgebench.parsers.powerstats import (EnergyConsumer, OdpmEnergy, OdpmRail, PowerChannel,
                                          PowerStatsDump, parse_dumpsys_powerstats,
                                          parse_odpm_energy_value)
from edgebench.parsers.thermal_zones import ThermalZone, ThermalZones, parse_thermal_zones
from edgebench.parsers.thermalservice import (CoolingDevice, TemperatureThreshold,
                                              ThermalServiceDump, ThermalTemperature,
                                              parse_dumpsys_thermalservice)

__all__ = [
    "AdbDevice", "AdbDevicesResult", "parse_adb_devices",
    "DumpsysBattery", "parse_dumpsys_battery",
    "BatteryStatsDump", "RawBlock", "StatsPeriod", "parse_dumpsys_batterystats",
    "BatteryHistorySummary", "PowerUseEntry", "PowerUseSummary",
    "BatteryStatsCheckin", "CheckinPeriod", "CheckinPowerItem", "CheckinRow",
    "parse_batterystats_checkin",
    "AvailableFrequencies", "CpuCapacity", "CpuFreqValue", "FreqResidency", "TimeInState",
    "parse_available_frequencies", "parse_cpu_capacity", "parse_cpufreq_value",
    "parse_time_in_state",
    "CpuCore", "CpuInfo", "parse_cpuinfo",
    "GetpropResult", "parse_getprop",
    "HealthdLog", "HealthdSample", "parse_healthd_log",
    "InferredCurrent", "PowerSupplyUevent", "parse_power_supply_uevent",
    "EnergyConsumer", "OdpmEnergy", "OdpmRail", "PowerChannel", "PowerStatsDump",
    "parse_dumpsys_powerstats", "parse_odpm_energy_value",
    "ThermalZone", "ThermalZones", "parse_thermal_zones",
    "CoolingDevice", "TemperatureThreshold", "ThermalServiceDump", "ThermalTemperature",
    "parse_dumpsys_thermalservice",
]
