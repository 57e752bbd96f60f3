"""Named measurement presets (smoke, standard, mlperf); a run is judged against its own preset.

Flags override preset values. A value below the preset's minimum is allowed and recorded as an
advisory `shortened` check: the run stays ok, but `compare` gives no verdict on it.

Every number that reaches the runner is checked here, on the host, against the runner's own bounds
(android_harness/src/runner_args.c) and a sane ceiling: the runner refuses a NaN or a thread count
over 1024 too, but only after a deploy, and once per repeat.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, replace
from typing import Any, Sequence

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


# Ceilings: the runner's own (threads), else far beyond any real measurement but still finite, so the
# host's timeouts (a multiple of the run's seconds) stay meaningful.
MAX_THREADS = 1024  # runner_args.c: --threads 1..1024
MAX_COUNT = 1_000_000_000  # runs, warm-up runs
MAX_REPEATS = 10_000
MAX_SECONDS = 24 * 3600.0  # one run's timed or warm-up window, a cool-down
MAX_RUN_DELAY_MS = 3600 * 1000.0  # one pause between inferences


def check_number(flag: str, value: object, *, low: float, high: float, integer: bool = False) -> float:
    """`value` as a number within [low, high] (finite; a whole number when `integer`), else UsageError
    saying what was expected, what was received and what to do."""
    kind = "a whole number" if integer else "a number"
    expected = f"{kind} from {_plain(low)} to {_plain(high)}"
    # numbers.*: numpy scalars from a notebook are as good as Python's own.
    ok_type = isinstance(value, numbers.Integral) if integer else isinstance(value, numbers.Real)
    if isinstance(value, bool) or not ok_type:
        raise UsageError(f"{flag} takes {expected}. Received: {value!r} ({type(value).__name__}).")
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number) or not low <= number <= high:
        raise UsageError(f"{flag} takes {expected}. Received: {value!r}. Give a value in that range"
                         + (" (not NaN or infinity)." if not math.isfinite(number) else "."))
    return number


def _plain_number(given: object, checked: float) -> float:
    """The value as given when it is a Python int or float (run keys hash the protocol's JSON, where
    10 and 10.0 differ), else the checked float (a numpy scalar). Kept as given, not made a float: stored
    sessions and lab plans hashed it so, and a resume must find their runs. (So the API's 150 and the
    CLI's 150.0 are two keys: resume a session the way it was started.)"""
    return given if type(given) in (int, float) else checked  # type: ignore[return-value]


def _plain(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def check_threads(threads: Sequence[object], flag: str = "--threads") -> tuple[int, ...]:
    """Thread counts the runner accepts (1..1024 each), at least one."""
    if isinstance(threads, (str, bytes)) or not threads:
        raise UsageError(f"{flag} needs at least one thread count from 1 to {MAX_THREADS}. Received: {threads!r}.")
    for value in threads:
        check_number(flag, value, low=1, high=MAX_THREADS, integer=True)
    return tuple(int(v) for v in threads)  # type: ignore[call-overload]


def resolve(name: str, *, runs: int | None = None, warmup: int | None = None,
            min_seconds: float | None = None, repeats: int | None = None,
            cooldown: str | None = None, run_delay_ms: float | None = None) -> ResolvedProtocol:
    """Apply flag overrides to a preset, validating each value."""
    if name not in PRESETS:
        raise UsageError(f"unknown protocol {name!r}. Expected one of: {', '.join(PRESETS)}.")
    preset = PRESETS[name]
    changes: dict[str, Any] = {}
    for flag, value, field_name, floor, ceiling in (("--runs", runs, "runs", 1, MAX_COUNT),
                                                    ("--warmup", warmup, "warmup_runs", 0, MAX_COUNT),
                                                    ("--repeats", repeats, "repeats", 1, MAX_REPEATS)):
        if value is None:
            continue
        changes[field_name] = int(check_number(flag, value, low=floor, high=ceiling, integer=True))
    if min_seconds is not None:
        min_seconds = _plain_number(min_seconds, check_number("--min-seconds", min_seconds, low=0, high=MAX_SECONDS))
        changes["min_seconds"] = min_seconds
        changes["max_seconds"] = max(preset.max_seconds, min_seconds)
    if cooldown is not None:
        changes["cooldown"] = _parse_cooldown(cooldown)
    if run_delay_ms is not None:
        changes["run_delay_ms"] = _plain_number(run_delay_ms, check_number("--run-delay-ms", run_delay_ms, low=0,
                                                                             high=MAX_RUN_DELAY_MS))
    effective = replace(preset, **changes)

    shortened = []
    minimums: tuple[tuple[str, float, float], ...] = (
        ("timed runs", effective.runs, preset.runs), ("warm-up runs", effective.warmup_runs, preset.warmup_runs),
        ("timed seconds", effective.min_seconds, preset.min_seconds), ("repeats", effective.repeats, preset.repeats))
    for label, got, minimum in minimums:
        if got < minimum:
            shortened.append(f"{label} {got:g} below the {preset.name} preset's minimum {minimum:g}")
    return ResolvedProtocol(preset=preset, effective=effective, shortened=tuple(shortened))


def _parse_cooldown(text: str) -> str:
    if text in ("auto", "none"):
        return text
    try:
        seconds = float(text)
    except (TypeError, ValueError):
        raise UsageError(f"--cooldown takes seconds or 'auto'. Received: {text!r}.") from None
    check_number("--cooldown", seconds, low=0, high=MAX_SECONDS)
    return f"{seconds:g}"
