"""Cool-down between runs: fixed seconds, or `auto` (bounded wait until temperatures are back near baseline)."""
from __future__ import annotations

import time
from typing import Callable, Mapping

from edgebench.protocols import Protocol
from edgebench.targets.slice_protocol import DeviceCooldown

# "Back near baseline": every zone within this many degrees of where it was before the session.
BASELINE_MARGIN_C = 2.0
POLL_SECONDS = 2.0


def cool_down(protocol: Protocol, read_temperatures_c: Callable[[], Mapping[str, float]],
              baseline_c: Mapping[str, float], *, sleep: Callable[[float], None] = time.sleep,
              clock: Callable[[], float] = time.monotonic,
              read_thermal_status: Callable[[], int | None] = lambda: None) -> float:
    """Wait as the protocol says; returns the seconds waited.

    `auto`: at least the preset's minimum, then until the framework thermal status is 0 (where the
    target has one) and every zone is back within BASELINE_MARGIN_C of the session's start, bounded.
    """
    if protocol.cooldown == "none":
        return 0.0
    if protocol.cooldown != "auto":
        seconds = float(protocol.cooldown)
        sleep(seconds)
        return seconds
    start = clock()
    if protocol.cooldown_min_seconds > 0:
        sleep(protocol.cooldown_min_seconds)
    while clock() - start < protocol.cooldown_max_seconds:
        now = read_temperatures_c()
        hot = [zone for zone, temp in now.items()
               if zone in baseline_c and temp > baseline_c[zone] + BASELINE_MARGIN_C]
        status = read_thermal_status()
        if not hot and status in (None, 0):  # also true without sensors: nothing to wait for
            break
        sleep(POLL_SECONDS)
    return clock() - start


def device_cooldown(protocol: Protocol, baseline_c: Mapping[str, float], *, before_first: bool) -> DeviceCooldown:
    """The same rule as `cool_down`, for the device to apply between the runs of a slice (slice.sh).

    Baseline zones are named as read_temperatures_c names them ("thermal_zone3:cpu-big"); the device
    reads /sys/class/thermal/<folder>/temp, so only the folder part is passed."""
    if protocol.cooldown == "none":
        return DeviceCooldown("none")
    if protocol.cooldown != "auto":
        return DeviceCooldown("fixed", fixed_seconds=float(protocol.cooldown), before_first=before_first)
    zones = {name.split(":", 1)[0]: int(round(temp * 1000)) for name, temp in baseline_c.items()
             if name.startswith("thermal_zone")}
    return DeviceCooldown("auto", min_seconds=protocol.cooldown_min_seconds, max_seconds=protocol.cooldown_max_seconds,
                          baseline_millidegrees=zones, margin_millidegrees=int(BASELINE_MARGIN_C * 1000),
                          before_first=before_first)
