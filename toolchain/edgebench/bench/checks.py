"""Validity checks of one latency run (research/measurement-methodology.md §4.2).

A failing check makes the run `invalid` (kept, with its reason, never dropped); an advisory check
(`shortened`) is recorded but leaves the run ok. A check that could not be evaluated is
`not_checked` with the reason, never `pass`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from edgebench.harness.output import HarnessOutput
from edgebench.protocols import ResolvedProtocol
from edgebench.records import Check, RunConfig

# Pinned cores below this fraction of the run's modal frequency count as throttled samples...
FREQ_DROP_FRACTION = 0.90
# ...and more than this share of such samples invalidates the run.
FREQ_DROP_MAX_SHARE = 0.05


@dataclass(frozen=True)
class Telemetry:
    """What the sampler saw during the run, already converted (empty tuples: nothing readable)."""

    cooling_states: tuple[tuple[str, int], ...] = ()  # (device, max cur_state seen)
    thermal_status_max: int | None = None  # Android thermal status, when the target has one
    core_freqs_khz: tuple[tuple[str, tuple[int, ...]], ...] = ()  # (cpu, samples)
    battery_level_pct: float | None = None
    has_battery: bool = False


def _span_seconds(samples) -> float:  # type: ignore[no-untyped-def]
    """Wall time from the first start stamp to the end of the last run (what the runner's loop bound uses)."""
    if not samples:
        return 0.0
    first, last = samples[0], samples[-1]
    return (last.start_ns - first.start_ns) / 1e9 + last.latency_us / 1e6


def timed_seconds(output: HarnessOutput) -> float:
    return _span_seconds(output.timed)


def warmup_seconds(output: HarnessOutput) -> float:
    return _span_seconds(output.warmup)


def evaluate(output: HarnessOutput, protocol: ResolvedProtocol, config: RunConfig,
             telemetry: Telemetry) -> tuple[Check, ...]:
    eff = protocol.effective
    checks: list[Check] = [Check("schema", "pass")]

    count = len(output.timed)
    checks.append(Check("timed_runs", "pass" if count >= eff.runs else "fail",
                        None if count >= eff.runs else
                        f"{count} timed runs < {eff.runs} required: the {eff.max_seconds:g} s cap cut the loop"))
    seconds = timed_seconds(output)
    checks.append(Check("timed_seconds", "pass" if seconds >= eff.min_seconds else "fail",
                        None if seconds >= eff.min_seconds else
                        f"timed loop lasted {seconds:.2f} s < {eff.min_seconds:g} s required"))
    warm = len(output.warmup)
    warm_ok = warm >= eff.warmup_runs and warmup_seconds(output) >= eff.warmup_seconds * 0.99
    checks.append(Check("warmup", "pass" if warm_ok else "fail", None if warm_ok else
                        f"{warm} warm-up runs over {warmup_seconds(output):.2f} s; required "
                        f"{eff.warmup_runs} runs and {eff.warmup_seconds:g} s"))
    checks.append(Check("shortened", "fail" if protocol.shortened else "pass",
                        "; ".join(protocol.shortened) + " (allowed; no comparison verdicts on this run)"
                        if protocol.shortened else None, advisory=True))

    used = output.accelerator_used
    if used == config.accelerator:
        checks.append(Check("accelerator", "pass"))
    else:
        reason = output.fallback_reason or "no reason given by the runner"
        checks.append(Check("accelerator", "fail",
                            f"{config.accelerator} requested, ran on {used}: {reason}"))
    fully = output.setup.get("fully_accelerated") if output.setup else None
    if config.accelerator == "cpu":
        checks.append(Check("fully_accelerated", "not_checked", "cpu run: no delegate to check"))
    elif fully is None:
        checks.append(Check("fully_accelerated", "not_checked", "the runtime did not say which ops it delegated"))
    else:
        checks.append(Check("fully_accelerated", "pass" if fully else "fail",
                            None if fully else "some ops ran outside the accelerator"))

    checks.extend(telemetry_checks(telemetry))
    return tuple(checks)


def telemetry_checks(telemetry: Telemetry) -> list[Check]:
    """The checks that come from the sampler, whatever engine ran."""
    return [_thermal_check(telemetry), _frequency_check(telemetry), _battery_check(telemetry)]


def _thermal_check(t: Telemetry) -> Check:
    if t.thermal_status_max is None and not t.cooling_states:
        return Check("thermal", "not_checked", "target exposes no thermal status or cooling devices")
    reasons = []
    if t.thermal_status_max is not None and t.thermal_status_max >= 1:
        reasons.append(f"thermal status reached {t.thermal_status_max}")
    reasons += [f"cooling device {name} at state {state}" for name, state in t.cooling_states if state > 0]
    return Check("thermal", "fail" if reasons else "pass", "; ".join(reasons) or None)


def _frequency_check(t: Telemetry) -> Check:
    if not t.core_freqs_khz:
        return Check("cpu_frequency", "not_checked", "target exposes no cpufreq for the cores used")
    reasons = []
    for cpu, samples in t.core_freqs_khz:
        if not samples:
            continue
        modal = max(set(samples), key=samples.count)
        low = sum(1 for f in samples if f < FREQ_DROP_FRACTION * modal)
        if low / len(samples) > FREQ_DROP_MAX_SHARE:
            reasons.append(f"{cpu} below {FREQ_DROP_FRACTION:.0%} of its modal {modal} kHz in "
                           f"{low}/{len(samples)} samples")
    return Check("cpu_frequency", "fail" if reasons else "pass", "; ".join(reasons) or None)


def _battery_check(t: Telemetry) -> Check:
    if not t.has_battery:
        return Check("battery_level", "not_checked", "target has no battery")
    if t.battery_level_pct is None:
        return Check("battery_level", "not_checked", "battery level unreadable")
    ok = t.battery_level_pct >= 25
    return Check("battery_level", "pass" if ok else "fail",
                 None if ok else f"battery at {t.battery_level_pct:g}% < 25%: devices throttle when low")


def is_invalid(checks: Sequence[Check]) -> bool:
    return any(c.outcome == "fail" and not c.advisory for c in checks)
