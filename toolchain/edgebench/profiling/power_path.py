"""Keep the charger out of a battery measurement, and prove it (§4.1 precondition 4).

`dumpsys battery unplug` alone is never taken as "not charging": it only changes what the framework
reports. Input is suspended with `setprop power.battery_input.suspended true` (AndroidX's way) or,
on debuggable builds, `dumpsys battery suspend_input`; otherwise the user cuts VBUS (switchable hub)
or uses Wi-Fi adb without a cable. Whatever the path, `status` must read Discharging for the whole
verification window, and without an input suspend no other power supply's `online` may read 1: a
charger too weak for the load leaves the battery Discharging while it supplies part of the power, so
`auto` suspends input then, and `cable-cut` / `wifi-adb` are refused.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from edgebench.errors import DeviceError
from edgebench.targets.device_state import SUSPEND_PROP, AndroidTarget, DeviceStateGuard

POWER_PATHS = ("auto", "suspend-input", "wifi-adb", "cable-cut")
VERIFY_POLL_S = 1.0
SETTLE_S = 10.0  # how long a suspended input may take to show as Discharging

HOW_TO_CUT_POWER = (
    "Keep the charger out another way: (1) Wi-Fi adb — `adb tcpip 5555` or Android 11+ wireless debugging, "
    "`adb connect PHONE_IP:PORT`, unplug the cable, then --target PHONE_IP:PORT --power-path wifi-adb; or "
    "(2) a switchable USB hub with VBUS cut, then --power-path cable-cut.")


@dataclass(frozen=True)
class PowerPath:
    mode: str  # suspend-input | wifi-adb | cable-cut
    how: str  # what was done, for the record
    input_suspended: bool


def find_battery_dir(target: AndroidTarget) -> str:
    """The power_supply folder whose type is Battery (DeviceError when there is none)."""
    return target.android.power_supply.battery_dir()


def read_status(target: AndroidTarget, battery_dir: str) -> str:
    return target.android.power_supply.status(battery_dir)


def chargers_online(target: AndroidTarget, battery_dir: str) -> dict[str, str]:
    """`<supply>/online` of every power supply but the battery that is not 0."""
    return target.android.power_supply.chargers_online(battery_dir)


def _online_text(online: dict[str, str]) -> str:
    return ", ".join(f"{path} = {value}" for path, value in sorted(online.items()))


def establish(guard: DeviceStateGuard, requested: str, battery_dir: str, *, verify_s: float = 30.0,
              sleep: Callable[[float], None] = time.sleep) -> PowerPath:
    """Suspend charging as asked (auto: only if needed), then verify Discharging for `verify_s`."""
    target = guard.target
    if requested not in POWER_PATHS:
        raise DeviceError(target.name, f"--power-path must be one of {', '.join(POWER_PATHS)}; got {requested!r}")
    if requested == "wifi-adb" and ":" not in target.name:
        raise DeviceError(target.name, "--power-path wifi-adb needs a device connected over the network "
                          "(serial HOST:PORT); this one is on USB. " + HOW_TO_CUT_POWER)
    status = read_status(target, battery_dir)
    # Discharging alone does not mean the cable is cut: a charger too weak for the load leaves the
    # battery discharging while it supplies the rest, so the gauge sees only part of the device's power.
    online = chargers_online(target, battery_dir)
    if requested in ("wifi-adb", "cable-cut") and online:
        raise DeviceError(target.name, f"--power-path {requested}, but {_online_text(online)}: a charger is still "
                          f"connected (status reads {status!r}; a weak charger supplies part of the load even while "
                          "the battery discharges). Cut VBUS or remove the cable, or use --power-path auto to "
                          "suspend charge input. " + HOW_TO_CUT_POWER,
                          command="cat /sys/class/power_supply/*/online")
    path: PowerPath
    if requested in ("wifi-adb", "cable-cut") or (requested == "auto" and status == "Discharging" and not online):
        mode = requested if requested != "auto" else ("wifi-adb" if ":" in target.name else "cable-cut")
        path = PowerPath(mode, f"{mode}: no charger change by edgebench (status {status} at start, no "
                         "power supply online)", False)
    else:
        why = f" ({_online_text(online)} with status {status})" if online else ""
        if guard.setprop(SUSPEND_PROP, "true"):
            how = f"setprop {SUSPEND_PROP} true{why}"
        elif guard.battery_command("suspend_input"):
            how = f"dumpsys battery suspend_input{why}"
        else:
            raise DeviceError(target.name, f"cannot suspend charging{why or f' (status {status})'}: this build "
                              f"refuses `setprop {SUSPEND_PROP} true` and `dumpsys battery suspend_input` "
                              "(userdebug only). " + HOW_TO_CUT_POWER, command=f"setprop {SUSPEND_PROP} true")
        path = PowerPath("suspend-input", how, True)
    # The gauge and the Health HAL report on their own period: give the change time to show.
    settle_until = time.monotonic() + SETTLE_S
    while read_status(target, battery_dir) != "Discharging" and time.monotonic() < settle_until:
        sleep(VERIFY_POLL_S / 4)
    deadline = time.monotonic() + verify_s
    while True:
        status = read_status(target, battery_dir)
        if status != "Discharging":
            raise DeviceError(target.name, f"the battery reads {status!r}, not Discharging, after {path.how}: "
                              "current still flows in from the charger (the Health HAL may ignore the request). "
                              + HOW_TO_CUT_POWER, command=f"cat {battery_dir}/status")
        online = {} if path.input_suspended else chargers_online(target, battery_dir)
        if online:
            raise DeviceError(target.name, f"{_online_text(online)} during the {verify_s:g} s verification after "
                              f"{path.how}: a charger came back online. " + HOW_TO_CUT_POWER,
                              command="cat /sys/class/power_supply/*/online")
        if time.monotonic() >= deadline:
            return path
        sleep(VERIFY_POLL_S)
