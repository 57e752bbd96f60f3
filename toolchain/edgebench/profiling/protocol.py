"""The `battery` preset (docs/measurement-methodology.md §4.1) and its overrides."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from edgebench.battery.estimate import SETTLE_S
from edgebench.errors import UsageError
from edgebench.protocols import MAX_REPEATS, MAX_SECONDS, check_number

MAX_SAMPLE_HZ = 1000.0  # the sampler's interval is whole milliseconds
MAX_INFERENCE_HZ = 1_000_000.0  # --run-delay-ms 0.001


@dataclass(frozen=True)
class BatteryProtocol:
    warmup_s: float = 30.0  # workload running, not counted
    duration_s: float = 300.0  # measured window
    idle_s: float = 120.0  # idle baseline before and after
    settle_s: float = SETTLE_S  # each idle window's first seconds, not baseline (battery.estimate.SETTLE_S)
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
    # Each value is checked finite and within bounds here: the runner (and the driver's whole seconds
    # and milliseconds) would refuse a NaN or an infinity only on the device, once per repeat.
    for flag, value, name, floor, ceiling in (
            ("--duration", duration, "duration_s", 1, MAX_SECONDS), ("--idle", idle, "idle_s", 0, MAX_SECONDS),
            ("--warmup", warmup, "warmup_s", 0, MAX_SECONDS), ("--repeats", repeats, "repeats", 1, MAX_REPEATS),
            ("--rate", sample_hz, "sample_hz", 0.1, MAX_SAMPLE_HZ),
            ("--inference-rate", rate_hz, "rate_hz", 0.001, MAX_INFERENCE_HZ),
            ("--verify-seconds", verify_discharging_s, "verify_discharging_s", 0, MAX_SECONDS),
            ("--calibrate-seconds", calibrate_s, "calibrate_s", 60, MAX_SECONDS)):
        if value is None:
            continue
        number = check_number(flag, value, low=floor, high=ceiling, integer=name == "repeats")
        changes[name] = int(number) if name == "repeats" else number
    if cooldown is not None:
        if cooldown not in ("auto", "none"):
            try:
                seconds = float(cooldown)
            except (TypeError, ValueError):
                raise UsageError(f"--cooldown takes seconds, auto or none. Received: {cooldown!r}.") from None
            check_number("--cooldown", seconds, low=0, high=MAX_SECONDS)
        changes["cooldown"] = cooldown
    protocol = replace(PRESET, **changes)
    shortened = [f"{label} {got:g} below the battery preset's {floor:g}" for label, got, floor in (
        ("measured seconds", protocol.duration_s, PRESET.duration_s), ("idle seconds", protocol.idle_s, PRESET.idle_s),
        ("warm-up seconds", protocol.warmup_s, PRESET.warmup_s), ("repeats", protocol.repeats, PRESET.repeats),
        ("discharging verification seconds", protocol.verify_discharging_s, PRESET.verify_discharging_s))
        if got < floor]
    return protocol, tuple(shortened)
