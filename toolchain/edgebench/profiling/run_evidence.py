"""What one battery run's driver files and samples say about its thermal state and its chargers.

The framework thermal status comes from the driver's state files (read just before the first idle
window and just after the last); cooling-device cur_state and the chargers' `online` come from the
sampler, restricted to the window a check is about.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

from edgebench.battery.checks import ThermalEvidence
from edgebench.harness.state import read_state
from edgebench.store import DeviceSample

_COOLING = re.compile(r"/thermal/(cooling_device\d+)/cur_state$")
_ONLINE = re.compile(r"^(/sys/class/power_supply/[^/]+)/online$")


def _in(sample: DeviceSample, window: tuple[float, float]) -> bool:
    return window[0] <= sample.t_ns / 1e9 <= window[1]


def cooling_in(samples: Sequence[DeviceSample], window: tuple[float, float]) -> tuple[int, tuple[str, int, float] | None]:
    """(readable cooling-device cur_state readings in the window, the highest as (device, state, t_s))."""
    count, top = 0, None
    for s in samples:
        match = _COOLING.search(s.channel)
        if not match or s.value_text is None or not s.value_text.lstrip("-").isdigit() or not _in(s, window):
            continue
        count += 1
        state = int(s.value_text)
        if top is None or state > top[1]:
            top = (match.group(1), state, s.t_ns / 1e9)
    return count, top


def thermal_evidence(out_dir: Path, samples: Sequence[DeviceSample], measured: tuple[float, float]
                     ) -> ThermalEvidence:
    before, after = read_state(out_dir / "state_before.txt"), read_state(out_dir / "state_after.txt")
    count, top = cooling_in(samples, measured)
    return ThermalEvidence(status_at_start=before.thermal_status if before else None,
                           status_at_end=after.thermal_status if after else None,
                           cooling_samples_in_window=count, cooling_max_in_window=top)


def charger_online(samples: Sequence[DeviceSample], battery_dir: str, span: tuple[float, float]
                   ) -> dict[str, list[tuple[float, str | None]]]:
    """`online` readings of every power supply but the battery, by node path, within the span."""
    found: dict[str, list[tuple[float, str | None]]] = {}
    battery = battery_dir.rstrip("/")
    for s in samples:
        match = _ONLINE.match(s.channel)
        if match and match.group(1) != battery and _in(s, span):
            found.setdefault(s.channel, []).append((s.t_ns / 1e9, s.value_text))
    return found
