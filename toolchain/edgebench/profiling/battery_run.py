"""One battery profiling run: the shared run pipeline (bench.invocation, bench.execute,
bench.run_record) with the driver's idle windows, then what only a battery run does: its windows,
the energy estimate and its checks, the power rails, the trace plot, and the energy row.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from edgebench import battery as eb
from edgebench.battery import setup_checks
from edgebench.battery.estimate import RunEnergy
from edgebench.battery.rails import RunRails, estimate_rails
from edgebench.bench.execute import MAX_BATTERY_RUNNER_BYTES, drive_and_collect, read_pulled_run, runner_failure
from edgebench.bench.input_shapes import ShapePlan, shapes_ran
from edgebench.bench.invocation import Deployment, IdleWindows, build_invocation
from edgebench.bench.plan import ModelFile, run_key
from edgebench.bench.run_record import RunHeader, run_header
from edgebench.devices.adb import DeviceConnectionError
from edgebench.errors import EdgebenchError
from edgebench.harness.output import HarnessOutput
from edgebench.targets.device_state import screen_of
from edgebench.profiling.phone_commands import observe_state
from edgebench.profiling.preparation import PreparedDevice
from edgebench.profiling.protocol import BatteryProtocol
from edgebench.profiling.run_evidence import charger_online, cooling_in, thermal_evidence
from edgebench.profiling.windows import read_phases, windows_of
from edgebench.protocols import PRESETS, ResolvedProtocol
from edgebench.records import Check, EnergyResult, EnergySource, Provenance, RunConfig, RunRecord
from edgebench.store import DeviceSample, LatencySample, ResultsStore
from edgebench.targets.adb import AdbTarget
from edgebench.targets.base import DriverResult
from edgebench.workspace import Workspace

WINDOW_PROP = "debug.edgebench.window"  # the virtual device keeps its energy books by this property
RUN_MARGIN_S = 180.0
BATTERY_CONFIG = RunConfig(threads=1, accelerator="cpu")


@dataclass(frozen=True)
class BatteryRunResult:
    run_id: str
    record: RunRecord
    energy: RunEnergy | None
    plot: str | None
    rails: RunRails | None = None


@dataclass(frozen=True)
class BatteryRunContext:
    """What every run of a session shares: set up once, before the first run."""

    workspace: Workspace
    store: ResultsStore
    target: AdbTarget
    protocol: BatteryProtocol
    shortened: tuple[str, ...]
    keep: bool
    deployment: Deployment
    prepared: PreparedDevice
    calibration: eb.Calibration


def as_resolved(p: BatteryProtocol) -> ResolvedProtocol:
    """Battery runs are keyed and invoked like latency runs; the battery preset's values stand in the
    effective protocol."""
    base = replace(PRESETS["standard"], name="battery", warmup_runs=0, warmup_seconds=p.warmup_s, runs=1,
                   min_seconds=p.duration_s, max_seconds=p.duration_s, repeats=p.repeats, cooldown=p.cooldown,
                   run_delay_ms=1000.0 / p.rate_hz if p.rate_hz else 0.0)
    return ResolvedProtocol(preset=base, effective=base, shortened=())


def run_battery(ctx: BatteryRunContext, session: str, model: ModelFile, repeat: int,
                shape_plan: ShapePlan | None) -> BatteryRunResult:
    """Run, collect, validate and store one battery run; a run that fails is stored failed and the
    session goes on."""
    target, p, dep = ctx.target, ctx.protocol, ctx.deployment
    info = target.describe()
    resolved = as_resolved(p)
    key = run_key(session=session, model_sha256=model.sha256, harness_build_id=dep.harness_build_id,
                  runtime_sha256=dep.runtime_sha256, device_id=info.device_id, config=BATTERY_CONFIG,
                  protocol=resolved, repeat=repeat, input_shapes=shape_plan.key() if shape_plan is not None else ())
    energy_source: EnergySource = "simulated" if info.device_kind in ("virtual", "emulator") else "measured"
    header = run_header(key=key, session=session, model=model, target=target.name, device_id=info.device_id,
                        config=BATTERY_CONFIG, protocol="battery", repeat=repeat,
                        provenance=Provenance(info.device_kind, energy_source=energy_source),
                        harness_build_id=dep.harness_build_id, runtime_sha256=dep.runtime_sha256)
    results_dir = ctx.workspace.session_dir(session) / header.run_id
    invocation = build_invocation(dep, model, BATTERY_CONFIG, resolved,
                                  sample_ms=max(1, int(round(1000.0 / p.sample_hz))), timeout_margin_s=RUN_MARGIN_S,
                                  shape_plan=shape_plan,
                                  idle=IdleWindows(int(round(p.idle_s)), header.run_id, WINDOW_PROP))

    def read(result: DriverResult) -> tuple[HarnessOutput, list[DeviceSample], dict[str, float]]:
        output, samples = read_pulled_run(result, target.sysroot, max_runner_bytes=MAX_BATTERY_RUNNER_BYTES)
        return output, samples, read_phases(result.out_dir / "phases.txt")

    try:
        collected = drive_and_collect(dep, f"{session}/{header.run_id}", invocation, results_dir, keep=ctx.keep,
                                      read=read)
    except DeviceConnectionError as exc:  # no redo here (a battery run is minutes): stored failed, as ever
        return store_failed(ctx, header.failed(str(exc)))
    if collected.value is None:
        return store_failed(ctx, header.failed(collected.error or "", wall_seconds=collected.wall_seconds))
    output, samples, phases = collected.value
    header = header.with_shapes(shapes_ran(output.setup, shape_plan))  # what the runner ran
    failed = runner_failure(header, output, model, dep, collected.result, require_timed=True)
    if failed is not None:
        return store_failed(ctx, failed)
    try:
        series = eb.GaugeSeries.from_samples([(s.t_ns, s.channel, s.value_text) for s in samples],
                                             ctx.prepared.battery_dir)
        windows = windows_of(phases, output)
    except EdgebenchError as exc:  # this run's trace cannot be analysed: recorded, the session goes on
        return store_failed(ctx, header.failed(str(exc), wall_seconds=collected.wall_seconds), samples)
    return estimate_and_store(ctx, header, output, samples, series, windows, results_dir, collected.wall_seconds)


def estimate_and_store(ctx: BatteryRunContext, header: RunHeader, output: HarnessOutput,
                       samples: list[DeviceSample], series: eb.GaugeSeries, windows: eb.Windows,
                       results_dir: Path, wall_seconds: float | None, *, plot_name: str = "trace.png",
                       protocol_extra: Mapping[str, Any] | None = None) -> BatteryRunResult:
    """Estimate the run's energy over `windows`, check it and store it with its samples (`protocol_extra`:
    more of what the run was, stored beside the battery protocol, e.g. a policy run's segment)."""
    p, prepared, calibration = ctx.protocol, ctx.prepared, ctx.calibration
    state_after = observe_state(ctx.target)
    cooling_max = cooling_in(samples, windows.measured)[1]
    inference_times_s = np.array([s.start_ns / 1e9 for s in output.timed])
    before = prepared.state_before
    energy = eb.estimate_run(
        series, calibration, windows, len(output.timed), inference_times_s=inference_times_s,
        sample_period_s=1.0 / p.sample_hz, input_suspended=prepared.path.input_suspended,
        updates_stopped=state_after.updates_stopped,
        thermal=thermal_evidence(results_dir, samples, windows.measured),  # the driver's state files
        cooling_max_state=cooling_max[1] if cooling_max else None,
        screen_changed=_changed(screen_of(before.wakefulness), screen_of(state_after.wakefulness)),
        airplane_changed=_changed(before.airplane if not prepared.changes.airplane_set else "1",
                                  state_after.airplane),
        expected_duration_s=p.duration_s,
        shortened_reason="; ".join(ctx.shortened) if ctx.shortened else None, settle_s=p.settle_s)
    rails = (estimate_rails(samples, windows, len(output.timed), subsystems=prepared.rails.subsystems,
                            settle_s=p.settle_s)
             if prepared.rails.available else None)
    checks = tuple(energy.checks) + (
        setup_checks.calibration(calibration, series.between(*windows.span)),
        setup_checks.charger_online(charger_online(samples, prepared.battery_dir, windows.span),
                                    prepared.path.input_suspended),
    ) + prepared.precondition_checks
    invalid = any(c.outcome == "fail" and not c.advisory for c in checks)
    plot = None
    try:
        plot = str(eb.plot_trace(series, calibration, windows, inference_times_s, results_dir / plot_name))
    except Exception as exc:  # noqa: BLE001 - a plot never loses a measurement
        plot = None
        checks = checks + (Check("trace_plot", "not_checked", f"plot failed: {exc}", advisory=True),)
    record = header.measured(output, checks, invalid=invalid, wall_seconds=wall_seconds)
    latency_rows = [LatencySample("timed", s.index, s.latency_us, s.start_ns) for s in output.timed]
    ctx.store.save_run(record, {"battery": p.to_json(), **(protocol_extra or {})}, latency_rows, samples,
                       energy=EnergyResult(
        energy_source=record.provenance.energy_source,
        idle_pre_power_mw=energy.idle_pre_power_mw, idle_post_power_mw=energy.idle_post_power_mw,
        idle_power_mw=energy.idle_power_mw, active_power_mw=energy.active_power_mw,
        measured_seconds=energy.measured_seconds, inferences=energy.inferences,
        energy_per_inference_mj=energy.energy_per_inference_mj,
        gross_energy_per_inference_mj=energy.gross_energy_per_inference_mj,
        charge_counter_energy_mj=energy.charge_counter_energy_mj,
        current_integral_energy_mj=energy.current_integral_energy_mj,
        calibration=calibration, power_path=prepared.path.how, device_changes=prepared.changes, rails=rails))
    return BatteryRunResult(record.run_id, record, energy, plot, rails)


def store_failed(ctx: BatteryRunContext, record: RunRecord, samples: list[DeviceSample] | None = None, *,
                 protocol_extra: Mapping[str, Any] | None = None) -> BatteryRunResult:
    ctx.store.save_run(record, {"battery": ctx.protocol.to_json(), **(protocol_extra or {})},
                       device_samples=samples or ())
    return BatteryRunResult(record.run_id, record, None, None)


def _changed(before: object, after: object) -> bool | None:
    if before is None or after is None:
        return None
    return before != after
