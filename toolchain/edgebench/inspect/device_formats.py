"""The device-info formats `edgebench inspect` can recognise, as TextFormat entries.

`edgebench.inspect.formats` extends its TEXT_FORMATS with DEVICE_FORMATS. The registration lives
here, in inspect, so that `edgebench.parsers` stays pure (it imports nothing of inspect). Each sniffer scores
by content; where content is ambiguous (one number, a list of numbers) the longest sysfs file
name inside the file's name decides, scoring at most 40 on the name alone.
"""
from __future__ import annotations

from edgebench.inspect.registry import TextFormat
from edgebench.parsers import (adb_devices, battery, batterystats, batterystats_checkin, cpufreq,
                               cpuinfo, getprop, healthd, power_supply, powerstats,
                               thermal_zones, thermalservice)

DEVICE_FORMATS: list[TextFormat] = [
    TextFormat("getprop", "Android system properties (`adb shell getprop`)",
               getprop.sniff_getprop, getprop.parse_getprop),
    TextFormat("adb_devices", "adb's device list (`adb devices -l`)",
               adb_devices.sniff_adb_devices, adb_devices.parse_adb_devices),
    TextFormat("proc_cpuinfo", "Linux /proc/cpuinfo (ARM, aarch64, x86)",
               cpuinfo.sniff_cpuinfo, cpuinfo.parse_cpuinfo),
    TextFormat("cpufreq_value", "one cpufreq frequency in kHz (cpuinfo_max_freq, scaling_cur_freq, ...)",
               cpufreq.sniff_cpufreq_value, cpufreq.parse_cpufreq_value),
    TextFormat("cpufreq_available_frequencies", "cpufreq scaling_available_frequencies (kHz list)",
               cpufreq.sniff_available_frequencies, cpufreq.parse_available_frequencies),
    TextFormat("cpufreq_time_in_state", "cpufreq stats time_in_state (kHz, 10 ms ticks)",
               cpufreq.sniff_time_in_state, cpufreq.parse_time_in_state),
    TextFormat("cpu_capacity", "scheduler cpu_capacity of one CPU (0..1024)",
               cpufreq.sniff_cpu_capacity, cpufreq.parse_cpu_capacity),
    TextFormat("dumpsys_battery", "Android BatteryService state (`dumpsys battery`)",
               battery.sniff_dumpsys_battery, battery.parse_dumpsys_battery),
    TextFormat("dumpsys_thermalservice", "Android thermal service state (`dumpsys thermalservice`)",
               thermalservice.sniff_dumpsys_thermalservice,
               thermalservice.parse_dumpsys_thermalservice),
    TextFormat("power_supply_uevent", "Linux /sys/class/power_supply/*/uevent",
               power_supply.sniff_power_supply_uevent, power_supply.parse_power_supply_uevent),
    TextFormat("healthd_log", "healthd battery lines in dmesg or logcat",
               healthd.sniff_healthd_log, healthd.parse_healthd_log),
    TextFormat("thermal_zone_types", "thermal zone index -> type listing (transcript or grep)",
               thermal_zones.sniff_thermal_zones, thermal_zones.parse_thermal_zones),
    TextFormat("dumpsys_batterystats",
               "Android battery statistics (`dumpsys batterystats`, human text, Android 2-15)",
               batterystats.sniff_dumpsys_batterystats, batterystats.parse_dumpsys_batterystats),
    TextFormat("dumpsys_batterystats_checkin",
               "Android battery statistics CSV (`dumpsys batterystats --checkin`)",
               batterystats_checkin.sniff_batterystats_checkin,
               batterystats_checkin.parse_batterystats_checkin),
    TextFormat("dumpsys_powerstats", "Android PowerStats HAL channels, i.e. ODPM rails (`dumpsys powerstats`)",
               powerstats.sniff_dumpsys_powerstats, powerstats.parse_dumpsys_powerstats),
    TextFormat("odpm_energy_value", "ODPM rail energies, µWs (/sys/bus/iio/devices/iio:deviceN/energy_value)",
               powerstats.sniff_odpm_energy_value, powerstats.parse_odpm_energy_value),
]
