"""Named measurement presets (DESIGN.md "Protocols"); a run is judged against its own preset.

Flags override preset values. A value below the preset's minimum is allowed and recorded as an
advisory `shortened` check: the run stays ok, but `compare` gives no verdict on it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from edgebench.errors import UsageError


@dataclass(frozen=True)
class Protocol:
    name: str
    warmup_runs: int
    warmup_seconds: float
    runs: int  # timed runs, lower bound
    min_seconds: float  # timed loop, lower bound
    max_seconds: float  # timed loop, upper bound (wins over `runs`)
    repeats: int
    cooldown: str  # "none", "auto", or seconds as text
    cooldown_min_seconds: float  # auto: always wait at least this long
    cooldown_max_seconds: float  # auto: never wait longer than this
    verdicts: bool  # may `compare` draw conclusions from runs of this preset?
    run_delay_ms: float = 0.0  # pause between timed runs (a rate-limited workload); 0 = back to back

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


PRESETS: dict[str, Protocol] = {
    "smoke": Protocol("smoke", warmup_runs=5, warmup_seconds=0.0, runs=50, min_seconds=0.0,
                      max_seconds=150.0, repeats=1, cooldown="none", cooldown_min_seconds=0.0,
                      cooldown_max_seconds=0.0, verdicts=False),
    "standard": Protocol("standard", warmup_runs=20, warmup_seconds=2.0, runs=200, min_seconds=10.0,
                         max_seconds=150.0, repeats=3, cooldown="auto", cooldown_min_seconds=0.0,
                         cooldown_max_seconds=60.0, verdicts=True),
    "mlperf": Protocol("mlperf", warmup_runs=20, warmup_seconds=5.0, runs=1024, min_seconds=60.0,
                       max_seconds=600.0, repeats=5, cooldown="auto", cooldown_min_seconds=300.0,
                       cooldown_max_seconds=900.0, verdicts=True),
}


@dataclass(frozen=True)
class ResolvedProtocol:
    """A preset with the user's overrides applied, and what the overrides shortened."""

    preset: Protocol
    effective: Protocol
    shortened: tuple[str, ...]  # human-readable reasons, empty when nothing was shortened

    @property
    def name(self) -> str:
        return self.preset.name


def resolve(name: str, *, runs: int | None = None, warmup: int | None = None,
            min_seconds: float | None = None, repeats: int | None = None,
            cooldown: str | None = None, run_delay_ms: float | None = None) -> ResolvedProtocol:
    """Apply flag overrides to a preset, validating each value."""
    if name not in PRESETS:
        raise UsageError(f"unknown protocol {name!r}. Expected one of: {', '.join(PRESETS)}.")
    preset = PRESETS[name]
    changes: dict[str, Any] = {}
    for flag, value, field_name in (("--runs", runs, "runs"), ("--warmup", warmup, "warmup_runs"),
                                    ("--repeats", repeats, "repeats")):
        if value is None:
            continue
        floor = 0 if field_name == "warmup_runs" else 1
        if value < floor:
            raise UsageError(f"{flag} must be at least {floor}. Received: {value}.")
        changes[field_name] = value
    if min_seconds is not None:
        if min_seconds < 0:
            raise UsageError(f"--min-seconds must be >= 0. Received: {min_seconds}.")
        changes["min_seconds"] = min_seconds
        changes["max_seconds"] = max(preset.max_seconds, min_seconds)
    if cooldown is not None:
        changes["cooldown"] = _parse_cooldown(cooldown)
    if run_delay_ms is not None:
        if run_delay_ms < 0:
            raise UsageError(f"--run-delay-ms must be >= 0. Received: {run_delay_ms}.")
        changes["run_delay_ms"] = run_delay_ms
    effective = replace(preset, **changes)

    shortened = []
    for label, got, floor in (("timed runs", effective.runs, preset.runs),
                              ("warm-up runs", effective.warmup_runs, preset.warmup_runs),
                              ("timed seconds", effective.min_seconds, preset.min_seconds),
                              ("repeats", effective.repeats, preset.repeats)):
        if got < floor:
            shortened.append(f"{label} {got:g} below the {preset.name} preset's minimum {floor:g}")
    return ResolvedProtocol(preset=preset, effective=effective, shortened=tuple(shortened))


def _parse_cooldown(text: str) -> str:
    if text in ("auto", "none"):
        return text
    try:
        seconds = float(text)
    except ValueError:
        raise UsageError(f"--cooldown takes seconds or 'auto'. Received: {text!r}.") from None
    if seconds < 0:
        raise UsageError(f"--cooldown must be >= 0 seconds. Received: {text!r}.")
    return f"{seconds:g}"
