"""What an adb device's sysfs says about its CPUs and temperatures, each read by one shell loop.

Read with the shell's `read` builtin in one loop, not a `cat` per file: two forks per CPU or thermal
zone cost tens of milliseconds at every session's start and at every cool-down check. Its own module
because these are readings of the device, not steps of a run. (The framework's thermal status comes
from the Android layer, targets/android/.)
"""
from __future__ import annotations

from edgebench.devices.adb import AdbDevice
from edgebench.devices.cpu_topology import CpuFacts


def read_temperatures_c(device: AdbDevice) -> dict[str, float]:
    """Each thermal zone's temperature (°C) by `thermal_zoneN:type`; a zone that cannot be read is left out."""
    # read builtins (a last line without a newline still counts), not two $(cat ...) forks per zone
    script = ("for z in /sys/class/thermal/thermal_zone*; do t=; ty=; "
              "{ read -r t 2>/dev/null <\"$z/temp\" || [ -n \"$t\" ]; } || continue; "
              "read -r ty 2>/dev/null <\"$z/type\"; echo \"${z##*/}:$ty $t\"; done; true")
    temps: dict[str, float] = {}
    for line in device.shell(script).stdout.splitlines():
        name, _, value = line.rpartition(" ")
        try:
            temps[name] = int(value) / 1000.0
        except ValueError:
            continue
    return temps


def read_cpu_facts(device: AdbDevice) -> list[CpuFacts]:
    """Each CPU's capacity and max frequency (None where the file is missing), in CPU order."""
    # read builtins, not $(cat ...): two forks per CPU took ~35 ms of every session's start
    script = ("for c in /sys/devices/system/cpu/cpu[0-9]*; do cap=; f=; "
              "read -r cap 2>/dev/null <$c/cpu_capacity; read -r f 2>/dev/null <$c/cpufreq/cpuinfo_max_freq; "
              "echo \"${c##*/cpu} ${cap:--} ${f:--}\"; done; true")
    facts = []
    for line in device.shell(script).stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].isdigit():
            facts.append(CpuFacts(int(parts[0]), int(parts[1]) if parts[1].isdigit() else None,
                                  int(parts[2]) if parts[2].isdigit() else None))
    return sorted(facts, key=lambda f: f.cpu)
