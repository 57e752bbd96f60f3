"""The `battery` preset (research/measurement-methodology.md §4.1) and its overrides."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from edgebench.errors import UsageError


@dataclass(frozen=True)
class BatteryProtocol:
    warmup_s: float = 30.0  # workload running, not counted
    duration_s: float = 300.0  # measured window
    idle_s: float = 120.0  # idle baseline before and after
    repeats: int = 5
    cooldown: str = "auto"  # auto (thermal status 0 and battery temperature near the start), none, or seconds
    cooldown_min_s: float = 300.0
    cooldown_max_s: float = 1200.0
    sample_hz: float = 10.0  # sampler rate (current, voltage, counter, temperature)
    rate_hz: float | None = None  # inference rate; None = back to back
    verify_discharging_s: float = 30.0
    calibrate_s: float = 600.0  # idle recording for unit/sign calibration when the device has none (§1.3)

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


PRESET = BatteryProtocol()


def resolve(*, duration: float | None = None, idle: float | None = None, warmup: float | None = None,
            repeats: int | None = None, cooldown: str | None = None, sample_hz: float | None = None,
            rate_hz: float | None = None, verify_discharging_s: float | None = None,
            calibrate_s: float | None = None) -> tuple[BatteryProtocol, tuple[str, ...]]:
    """The preset with overrides, and why it is `shortened` (allowed, recorded; the run stays valid)."""
    changes: dict[str, Any] = {}
    for flag, value, name, floor in (("--duration", duration, "duration_s", 1), ("--idle", idle, "idle_s", 0),
                                     ("--warmup", warmup, "warmup_s", 0), ("--repeats", repeats, "repeats", 1),
                                     ("--rate", sample_hz, "sample_hz", 0.1),
                                     ("--inference-rate", rate_hz, "rate_hz", 0.001),
                                     ("--verify-seconds", verify_discharging_s, "verify_discharging_s", 0),
                                     ("--calibrate-seconds", calibrate_s, "calibrate_s", 60)):
        if value is None:
            continue
        if value < floor:
            raise UsageError(f"{flag} must be at least {floor}. Received: {value}.")
        changes[name] = value
    if cooldown is not None:
        if cooldown not in ("auto", "none"):
            try:
                if float(cooldown) < 0:
                    raise ValueError
            except ValueError:
                raise UsageError(f"--cooldown takes seconds, auto or none. Received: {cooldown!r}.") from None
        changes["cooldown"] = cooldown
    protocol = replace(PRESET, **changes)
    shortened = [f"{label} {got:g} below the battery preset's {floor:g}" for label, got, floor in (
        ("measured seconds", protocol.duration_s, PRESET.duration_s), ("idle seconds", protocol.idle_s, PRESET.idle_s),
        ("warm-up seconds", protocol.warmup_s, PRESET.warmup_s), ("repeats", protocol.repeats, PRESET.repeats),
        ("discharging verification seconds", protocol.verify_discharging_s, PRESET.verify_discharging_s))
        if got < floor]
    return protocol, tuple(shortened)
