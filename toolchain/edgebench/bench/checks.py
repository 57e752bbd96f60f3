"""Validity checks of one latency run: the runner's output, the timed loop's runs and seconds, the
warm-up, the accelerator and delegation, thermal state and battery level during the timed loop.

A failing check makes the run `invalid` (kept, with its reason, never dropped); an advisory check
(`shortened`) is recorded but leaves the run ok. A check that could not be evaluated is
`not_checked` with the reason, never `pass`.
"""
from __future__ import annotations

from typing import Sequence

from edgebench.bench.agreement import agreement_check
from edgebench.bench.cpu_frequency import frequency_check, timed_window_ns, workload_cpus
from edgebench.harness.output import HarnessOutput, TimedSample
from edgebench.harness.samples import Telemetry
from edgebench.protocols import ResolvedProtocol
from edgebench.bench.references import Reference
from edgebench.records import Check, RunConfig

# The runner's loop clock starts just before the first inference's stamp: allow that gap (and float
# rounding) when checking the timed span the host recomputes from the stamps.
SPAN_TOLERANCE = 0.99


def _span_seconds(samples: Sequence[TimedSample]) -> float:
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
             telemetry: Telemetry, *, device_kind: str | None = None, reference: Reference | None = None,
             agreement_off: str = "not requested (--check-outputs)") -> tuple[Check, ...]:
    """`reference`: what the outputs were compared with on the device (None: not asked, `agreement_off`
    says why). A variant x accelerator whose outputs disagree fails `output_agreement`: invalid."""
    eff = protocol.effective
    checks: list[Check] = [Check("schema", "pass")]

    count = len(output.timed)
    checks.append(Check("timed_runs", "pass" if count >= eff.runs else "fail",
                        None if count >= eff.runs else
                        f"{count} timed runs < {eff.runs} required: the {eff.max_seconds:g} s cap cut the loop"))
    seconds = timed_seconds(output)
    enough = seconds >= eff.min_seconds * SPAN_TOLERANCE
    checks.append(Check("timed_seconds", "pass" if enough else "fail",
                        None if enough else
                        f"timed loop lasted {seconds:.2f} s < {eff.min_seconds:g} s required"))
    warm = len(output.warmup)
    warm_ok = warm >= eff.warmup_runs and warmup_seconds(output) >= eff.warmup_seconds * SPAN_TOLERANCE
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

    cpus, cpus_source = workload_cpus(output, config.cpu_mask, device_kind)
    checks.extend(telemetry_checks(telemetry, window_ns=timed_window_ns(output), cpus=cpus, cpus_source=cpus_source))
    checks.append(agreement_check(output, reference, off_reason=agreement_off))
    return tuple(checks)


def telemetry_checks(telemetry: Telemetry, *, window_ns: tuple[int, int] | None = None,
                     cpus: tuple[int, ...] | None = None,
                     cpus_source: str = "no timestamps or cores of the workload known") -> list[Check]:
    """The checks that come from the sampler, whatever engine ran.

    `window_ns`: the timed loop on the sampler's clock; `cpus`: the cores the workload ran on (and
    `cpus_source`, how that is known). Without both, the frequency check is not_checked."""
    return [_thermal_check(telemetry),
            frequency_check(telemetry, window_ns=window_ns, cpus=cpus, cpus_source=cpus_source),
            _battery_check(telemetry)]


def _thermal_check(t: Telemetry) -> Check:
    if t.thermal_status_max is None and not t.cooling_states:
        return Check("thermal", "not_checked", "target exposes no thermal status or cooling devices")
    reasons = []
    if t.thermal_status_max is not None and t.thermal_status_max >= 1:
        reasons.append(f"thermal status reached {t.thermal_status_max}")
    cooling = [f"cooling device {name} at state {state}" for name, state in t.cooling_states if state > 0]
    if cooling and t.thermal_status_max == 0:  # say the status read, so the run can be placed at it (policy)
        reasons.append("thermal status 0")
    reasons += cooling
    return Check("thermal", "fail" if reasons else "pass", "; ".join(reasons) or None)


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
