"""What the virtual device's own services write to its log, in the words their phone versions use.

healthd's periodic battery line (AOSP BatteryMonitor::logValues, the line parsers/healthd.py reads),
a thermal status change (ThermalManagerService), an injected fault and the boot. The host-side
services have no device process: their entries carry pid 0 (as kernel entries do).
"""
from __future__ import annotations

from typing import Any

from edgebench.virtual.device_log import LogBuffers
from edgebench.virtual.gauge import GaugeReading

# BatteryManager.BATTERY_STATUS_* codes by the sysfs status text.
_STATUS_CODES = {"Unknown": 1, "Charging": 2, "Discharging": 3, "Not charging": 4, "Full": 5}
HEALTHD_EVERY_S = 60.0  # healthd logs on every battery uevent; a phone sees one about a minute apart


def healthd_line(reading: GaugeReading, *, charger_online: bool, full_charge_uah: int | None,
                 cycle_count: int | None) -> str:
    temp = reading.temp_decic
    sign = "-" if temp < 0 else ""
    parts = [f"battery l={reading.capacity_pct}", f"v={reading.voltage_now_uv // 1000}",
             f"t={sign}{abs(temp) // 10}.{abs(temp) % 10}", "h=2", f"st={_STATUS_CODES.get(reading.status, 1)}",
             f"c={reading.current_now}"]
    if full_charge_uah is not None:
        parts.append(f"fc={full_charge_uah}")
    if cycle_count is not None:
        parts.append(f"cc={cycle_count}")
    parts.append(f"chg={'u' if charger_online else ''}")
    return " ".join(parts)


def log_healthd(log: LogBuffers, line: str) -> None:
    log.write("main", 4, "healthd", line)


def log_thermal_status(log: LogBuffers, level: int) -> None:
    log.write("system", 4 if level == 0 else 5, "ThermalManagerService", f"Thermal status changed to {level}")


def log_fault(log: LogBuffers, request: dict[str, Any]) -> None:
    wanted = ", ".join(f"{k}={v}" for k, v in sorted(request.items()) if v is not None and v is not False)
    log.write("main", 5, "edgebench", f"lab fault injected: {wanted or 'none'}")


def log_boot(log: LogBuffers, *, serial: str, profile: str) -> None:
    log.write("main", 4, "edgebench", f"virtual device {serial} booted (profile {profile})")
    log.write("system", 4, "ActivityManager", "System now ready")
