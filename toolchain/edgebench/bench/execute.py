"""One run on a deployed target: build its invocation, drive the harness, collect, validate, and
build its record. Latency runs (`execute_run`) and battery runs (profiling.battery_run) share
`drive_and_collect` and `runner_failure`; each adds only its own validation.

Nothing here writes to the store: the worker decides whether a run's outcome is stored (a run cut
short by a lost connection is redone, not stored as failed).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Generic, Sequence, TypeVar

from edgebench.bench import benchmark_model_engine as bm
from edgebench.bench import checks as run_checks
from edgebench.bench.input_shapes import ShapePlan, shapes_ran
from edgebench.bench.invocation import (INPUT_SEED, Deployment, Invocation, build_invocation, model_device_path,
                                        runner_args, sample_interval_ms)
from edgebench.bench.plan import ModelFile, PlannedRun
from edgebench.bench.references import Reference
from edgebench.bench.run_record import RunHeader, run_header, utc_now
from edgebench.devices.adb import DeviceConnectionError
from edgebench.errors import EdgebenchError, ParseError, UsageError
from edgebench.harness.output import HarnessOutput, parse_harness_output
from edgebench.harness.samples import Telemetry, read_samples, telemetry_from
from edgebench.package_files import DRIVER_SCRIPT, SLICE_SCRIPT
from edgebench.protocols import ResolvedProtocol
from edgebench.records import Check, Provenance, RunConfig, RunRecord
from edgebench.store import DeviceSample, LatencySample
from edgebench.targets.base import DriverResult, Target, with_output_tail
from edgebench.targets.staging import file_sha256
from edgebench.user_files import MAX_TEXT_BYTES, read_text_bounded
from edgebench.workspace import Workspace

__all__ = ["INPUT_SEED", "Deployment", "PreparedRun", "RunOutcome", "collected_from", "drive_and_collect", "execute_run",
           "model_device_path", "outcome_of", "prepare_run",
           "read_pulled_run", "runner_args", "runner_failure", "sample_interval_ms", "utc_now"]

# Seconds allowed beyond the protocol's own bounds for library load, init and collection.
RUN_TIMEOUT_MARGIN_S = 180.0

T = TypeVar("T")


@dataclass(frozen=True)
class RunOutcome:
    record: RunRecord
    latency_samples: tuple[LatencySample, ...]
    device_samples: tuple[DeviceSample, ...]


@dataclass(frozen=True)
class Collected(Generic[T]):
    """What one driver call left: `value` (what `read` made of the pulled folder) or `error` (why the
    run produced nothing usable, with the runner's and driver's last words)."""

    result: DriverResult | None
    value: T | None
    error: str | None

    @property
    def wall_seconds(self) -> float | None:
        return self.result.wall_seconds if self.result is not None else None


def drive_and_collect(dep: Deployment, run_name: str, invocation: Invocation, results_dir: Path, *, keep: bool,
                      read: Callable[[DriverResult], T]) -> Collected[T]:
    """Run the driver, pull its folder, `read` it, and always clean the run folder on the device (its
    log window goes to results_dir/logcat.txt). DeviceConnectionError propagates: the caller decides
    whether the run is redone or stored as failed."""
    target = dep.target
    result = None
    marker = None
    try:
        result = target.run_driver(run_name, list(invocation.args), invocation.env, invocation.timeout_s,
                                   results_dir)
        marker = result.log_marker
        return Collected(result, read(result), None)
    except DeviceConnectionError:
        raise
    except EdgebenchError as exc:
        return Collected(result, None, with_output_tail(str(exc), result))
    finally:
        try:
            target.finish_run(run_name, keep=keep, log_marker=marker, log_path=results_dir / "logcat.txt")
        except DeviceConnectionError:
            pass  # the device is gone; its run folder is removed by a later cleanup


def runner_failure(header: RunHeader, output: HarnessOutput, model: ModelFile, dep: Deployment,
                   result: DriverResult | None, *, require_timed: bool = False) -> RunRecord | None:
    """The failed record of a run whose runner output is not a measurement of this model on this
    runtime (changed files, a runner that failed or, with `require_timed`, timed nothing), or None."""
    wall = result.wall_seconds if result is not None else None
    mismatch = identity_mismatch(output, model, dep)
    if mismatch is not None:
        return header.failed(mismatch, wall_seconds=wall, runtime_api_generation=output.api_generation)
    if output.ok and (output.timed or not require_timed):
        return None
    if output.ok:
        reason = "the runner timed no inference"
    else:
        reason = output.failure_reason or ""
        if output.error is None:  # not the runner's own words: add what it and the driver printed
            reason = with_output_tail(reason, result)
    return header.failed(reason, wall_seconds=wall, accelerator_used=output.accelerator_used,
                         fallback_reason=output.fallback_reason, runtime_api_generation=output.api_generation)


@dataclass(frozen=True)
class PreparedRun:
    """A run ready to start: its record header (identity), its driver call and its run folder's name."""

    run: PlannedRun
    header: RunHeader
    invocation: Invocation
    run_name: str  # the run folder under the target's runs/: SESSION/RUN_ID
    protocol: ResolvedProtocol
    engine: str
    shape_plan: ShapePlan | None
    reference: Reference | None
    agreement_off: str


def prepare_run(dep: Deployment, run: PlannedRun, *, key: str, session: str, protocol: ResolvedProtocol,
                profile_ops: bool, engine: str = "runner", shape_plan: ShapePlan | None = None,
                reference: Reference | None = None,
                agreement_off: str = "not requested (--check-outputs)") -> PreparedRun:
    """The header and driver call of one run (no device work beyond the cached describe())."""
    target = dep.target
    info = target.describe()
    header = run_header(key=key, session=session, model=run.model, target=target.name, device_id=info.device_id,
                        config=run.config, protocol=protocol.name, repeat=run.repeat,
                        provenance=Provenance(info.device_kind), harness_build_id=dep.harness_build_id,
                        runtime_sha256=dep.runtime_sha256)
    invocation = build_invocation(dep, run.model, run.config, protocol, sample_ms=sample_interval_ms(protocol),
                                  timeout_margin_s=RUN_TIMEOUT_MARGIN_S, engine=engine, profile_ops=profile_ops,
                                  shape_plan=shape_plan, reference=reference)
    return PreparedRun(run, header, invocation, f"{session}/{header.run_id}", protocol, engine, shape_plan,
                       reference, agreement_off)


# What a finished driver call's folder holds, read: the runner's output and samples, or benchmark_model's outcome.
Pulled = tuple[HarnessOutput, list[DeviceSample]] | RunOutcome


def read_driver_result(prepared: PreparedRun, dep: Deployment, result: DriverResult) -> Pulled:
    """Read the pulled folder of a finished driver call. Raises EdgebenchError when it holds nothing usable."""
    if prepared.engine == "benchmark_model":
        return _benchmark_model_outcome(prepared.header, result, prepared.protocol, prepared.run.config, dep.target)
    return read_pulled_run(result, dep.target.sysroot)


def collected_from(prepared: PreparedRun, dep: Deployment, result: DriverResult) -> Collected[Pulled]:
    """`read_driver_result` as drive_and_collect reports it: the value, or the error with the run's last words."""
    try:
        return Collected(result, read_driver_result(prepared, dep, result), None)
    except EdgebenchError as exc:
        return Collected(result, None, with_output_tail(str(exc), result))


def outcome_of(prepared: PreparedRun, dep: Deployment, collected: Collected[Pulled]) -> RunOutcome:
    """The run's outcome (ok, invalid or failed) from what its driver call left."""
    header, run = prepared.header, prepared.run
    wall = collected.wall_seconds
    if isinstance(collected.value, RunOutcome):
        return collected.value
    if collected.value is None:
        if prepared.engine == "benchmark_model":
            return RunOutcome(header.failed(collected.error or "", wall_seconds=wall), (), ())
        return _outcome(header.failed(collected.error or "", wall_seconds=wall), None, [])
    output, samples = collected.value
    header = header.with_shapes(shapes_ran(output.setup, prepared.shape_plan))  # what ran, not what was asked
    failed = runner_failure(header, output, run.model, dep, collected.result)
    if failed is not None:
        return _outcome(failed, output, samples)
    out_dir = collected.result.out_dir if collected.result is not None else Path(".")
    info = dep.target.describe()
    checks = run_checks.evaluate(output, prepared.protocol, run.config, _telemetry(samples, out_dir),
                                 device_kind=info.device_kind, reference=prepared.reference,
                                 agreement_off=prepared.agreement_off)
    record = header.measured(output, checks, invalid=run_checks.is_invalid(checks), wall_seconds=wall)
    return _outcome(record, output, samples)


def execute_run(dep: Deployment, run: PlannedRun, *, key: str, session: str, protocol: ResolvedProtocol,
                results_dir: Path, keep: bool, profile_ops: bool,
                on_stage: Callable[[str], None], engine: str = "runner",
                shape_plan: ShapePlan | None = None, reference: Reference | None = None,
                agreement_off: str = "not requested (--check-outputs)") -> RunOutcome:
    """Run once and return the outcome (ok, invalid or failed). DeviceConnectionError propagates.

    `engine`: "runner" (edgebench's harness) or "benchmark_model" (the official binary, staged as
    bin/benchmark_model; its text output is parsed like `edgebench inspect` does).
    """
    prepared = prepare_run(dep, run, key=key, session=session, protocol=protocol, profile_ops=profile_ops,
                           engine=engine, shape_plan=shape_plan, reference=reference, agreement_off=agreement_off)
    on_stage("run")

    def read(result: DriverResult) -> Pulled:
        on_stage("validate")
        return read_driver_result(prepared, dep, result)

    collected = drive_and_collect(dep, prepared.run_name, prepared.invocation, results_dir, keep=keep, read=read)
    return outcome_of(prepared, dep, collected)


def identity_mismatch(output: HarnessOutput, model: ModelFile, dep: Deployment) -> str | None:
    """Why the files the runner read on the device are not the ones this run is recorded under, or None.

    Staging skips a file whose size matches its manifest, so a same-size file changed on the device
    would otherwise be measured under the host's hash. A runner that did not report a hash (it failed
    before reading the file) is not compared."""
    target = dep.target
    problems = []
    if output.model_sha256 is not None and output.model_sha256 != model.sha256:
        path = output.setup.get("model_path") if output.setup else None
        problems.append(f"the model at {path or target.device_path(model_device_path(model))} has sha256 "
                        f"{output.model_sha256}, but {model.path} on the host has {model.sha256}")
    if output.library_sha256 is not None and output.library_sha256 != dep.runtime_sha256:
        problems.append(f"the runtime at {output.library_path or dep.library} has sha256 {output.library_sha256}, "
                        f"but the host staged one with {dep.runtime_sha256}")
    if not problems:
        return None
    return (f"{target.name}: {'; '.join(problems)}. The file on the device was changed after it was staged; "
            "run again with --verify (re-hashes the device's files and pushes what differs)")


def read_pulled_run(result: DriverResult, sysroot: str, *, max_runner_bytes: int | None = None
                    ) -> tuple[HarnessOutput, list[DeviceSample]]:
    """The runner's validated output and the sampler's samples from a pulled run folder.

    `max_runner_bytes`: refuse a larger runner.jsonl (battery runs, which are bounded by time, not by
    a count of inferences)."""
    runner_file = result.out_dir / "runner.jsonl"
    if not runner_file.exists():
        raise ParseError(f"the driver produced no runner.jsonl (exit {result.exit_code}); "
                         f"stderr: {result.stderr_tail.strip()[-500:] or '(empty)'}")
    size = runner_file.stat().st_size
    if max_runner_bytes is not None and size > max_runner_bytes:
        # One line per inference: a µs-fast model run for minutes writes millions, and holding them as
        # Python objects would exhaust this host's memory (seen: 24 GB). Refused, with the way out.
        lines = _count_lines(runner_file)
        raise ParseError(f"the runner wrote {size / 2**20:.0f} MiB of output ({lines:,} lines, one per inference): "
                         f"more than the {max_runner_bytes // 2**20} MiB edgebench analyses per battery run. "
                         "Run this model at a fixed rate: --inference-rate HZ (e.g. 1000)", source=str(runner_file))
    output = parse_harness_output(runner_file.read_text(errors="replace"), source=str(runner_file))
    return output, read_samples(result.out_dir / "samples.jsonl", sysroot=sysroot)


MAX_BATTERY_RUNNER_BYTES = 64 * 2**20  # ~750,000 per-inference lines


def _count_lines(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


def _benchmark_model_outcome(header: RunHeader, result: DriverResult, protocol: ResolvedProtocol,
                             config: RunConfig, target: Target) -> RunOutcome:
    from edgebench.inspect.benchmark_model import parse_benchmark_model

    wall = result.wall_seconds
    text_file = result.out_dir / "benchmark_model.txt"
    if not text_file.exists():
        raise ParseError(f"the driver produced no benchmark_model.txt (exit {result.exit_code}); "
                         f"{result.stderr_tail.strip()[-300:] or 'is bin/benchmark_model executable there?'}")
    parsed = parse_benchmark_model(read_text_bounded(text_file, MAX_TEXT_BYTES), source=str(text_file))
    samples = read_samples(result.out_dir / "samples.jsonl", sysroot=target.sysroot)
    fields = bm.record_fields(parsed, config)  # accelerator_used: what the log says ran
    reason = bm.failure_reason(parsed, result.exit_code)
    if reason is not None:
        return RunOutcome(header.failed(reason, wall_seconds=wall, **fields), (), tuple(samples))
    checks = bm.checks_for(parsed, protocol, config, _telemetry(samples, result.out_dir))
    # benchmark_model prints no outputs: the check is there, not evaluated, with the reason.
    checks = (*checks, Check("output_agreement", "not_checked", "the benchmark_model engine reports no outputs "
                                                                 "to compare (use the runner engine)"))
    record = header.record(status="invalid" if run_checks.is_invalid(checks) else "ok", checks=checks,
                           latency=bm.latency_from(parsed), wall_seconds=wall, **fields)
    return RunOutcome(record, (), tuple(samples))


def _telemetry(samples: list[DeviceSample], out_dir: Path) -> Telemetry:
    """Sampler telemetry plus the framework thermal status the driver read before and after."""
    from dataclasses import replace

    from edgebench.harness.state import read_state

    before, after = read_state(out_dir / "state_before.txt"), read_state(out_dir / "state_after.txt")
    known = [s.thermal_status for s in (before, after) if s is not None and s.thermal_status is not None]
    return replace(telemetry_from(samples, before), thermal_status_max=max(known) if known else None)


def _outcome(record: RunRecord, output: HarnessOutput | None, samples: list[DeviceSample]) -> RunOutcome:
    latency: list[LatencySample] = []
    if output is not None:
        latency = [LatencySample("warmup", s.index, s.latency_us, s.start_ns) for s in output.warmup]
        latency += [LatencySample("timed", s.index, s.latency_us, s.start_ns) for s in output.timed]
    return RunOutcome(record, tuple(latency), tuple(samples))


def deploy_harness_factory(workspace: Workspace, runtime_dir: Path | None = None, *, verify: bool = False,
                           engine_binary: Path | None = None
                           ) -> Callable[[Target, Sequence[ModelFile]], Deployment]:
    """Build (cached) the harness for the target's ABI and stage it, the runtime and the models.

    `runtime_dir`: a folder with the device's libLiteRt.so and its accelerator libraries (every .so
    in it is staged); default: the runtime edgebench knows for the target's ABI. `verify`: re-hash
    files on the device instead of trusting the manifest of what was pushed.
    """
    from edgebench.harness.build import build_harness
    from edgebench.harness.litert_lib import find_litert_library

    def deploy(target: Target, models: Sequence[ModelFile]) -> Deployment:
        build = build_harness(target.harness_abi, out_root=workspace.harness_builds)
        if runtime_dir is not None:
            library = runtime_dir / "libLiteRt.so"
            if not library.is_file():
                raise UsageError(f"--runtime {runtime_dir}: expected libLiteRt.so in that folder. Received: "
                                 f"{sorted(p.name for p in runtime_dir.glob('*')) or 'an empty folder'}.")
            libraries = {f"lib/{p.name}": p for p in sorted(runtime_dir.glob("*.so"))}
        else:
            library = find_litert_library(target.harness_abi)
            libraries = {"lib/libLiteRt.so": library}
        driver = DRIVER_SCRIPT
        files = {"bin/edgebench_runner": build.runner_path, "bin/edgebench_sampler": build.sampler_path,
                 "driver.sh": driver, "slice.sh": SLICE_SCRIPT, **libraries}
        files.update({model_device_path(m): m.path for m in models})
        if engine_binary is not None:
            files["bin/benchmark_model"] = engine_binary
        target.stage(files, verify=verify)
        return Deployment(target=target, harness_build_id=build.build_id, runtime_sha256=file_sha256(library),
                          bin_dir=target.device_path("bin"), library=target.device_path("lib/libLiteRt.so"))

    return deploy
