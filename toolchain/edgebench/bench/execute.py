"""One run on a deployed target: drive the harness, collect, validate, and build its record.

Nothing here writes to the store: the worker decides whether a run's outcome is stored (a run cut
short by a lost connection is redone, not stored as failed).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from edgebench.bench import benchmark_model_engine as bm
from edgebench.bench import checks as run_checks
from edgebench.bench.input_shapes import ShapePlan, shapes_ran
from edgebench.bench.plan import ModelFile, PlannedRun
from edgebench.devices.adb import DeviceConnectionError
from edgebench.errors import EdgebenchError, ParseError, UsageError
from edgebench.harness.output import HarnessOutput, parse_harness_output
from edgebench.harness.samples import read_samples, telemetry_from
from edgebench.package_files import DRIVER_SCRIPT
from edgebench.protocols import ResolvedProtocol
from edgebench.records import Provenance, RunConfig, RunRecord
from edgebench.stats import latency_stats
from edgebench.store import DeviceSample, LatencySample
from edgebench.targets.base import Target, with_output_tail
from edgebench.targets.staging import file_sha256
from edgebench.user_files import MAX_TEXT_BYTES, read_text_bounded
from edgebench.workspace import Workspace

# Seconds allowed beyond the protocol's own bounds for library load, init and collection.
RUN_TIMEOUT_MARGIN_S = 180.0
INPUT_SEED = 1


@dataclass
class Deployment:
    target: Target
    harness_build_id: str
    runtime_sha256: str
    bin_dir: str  # where the driver finds edgebench_runner and edgebench_sampler
    library: str


@dataclass(frozen=True)
class RunOutcome:
    record: RunRecord
    latency_samples: tuple[LatencySample, ...]
    device_samples: tuple[DeviceSample, ...]


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def model_device_path(model: ModelFile) -> str:
    # The device never sees the user's file name: hostile names cannot reach a shell.
    return f"models/{model.sha256[:16]}.tflite"


def runner_args(dep: Deployment, model: ModelFile, config: RunConfig, protocol: ResolvedProtocol,
                profile_ops: bool) -> list[str]:
    eff = protocol.effective
    args = ["--model", dep.target.device_path(model_device_path(model)), "--lib", dep.library,
            "--threads", str(config.threads), "--accelerator", config.accelerator,
            "--warmup-runs", str(eff.warmup_runs), "--warmup-seconds", f"{eff.warmup_seconds:g}",
            "--runs", str(eff.runs), "--min-seconds", f"{eff.min_seconds:g}",
            "--max-seconds", f"{eff.max_seconds:g}", "--input-seed", str(INPUT_SEED)]
    if eff.run_delay_ms:
        args += ["--run-delay-ms", f"{eff.run_delay_ms:g}"]
    return args + (["--profile-ops"] if profile_ops else [])


def execute_run(dep: Deployment, run: PlannedRun, *, key: str, session: str, protocol: ResolvedProtocol,
                results_dir: Path, keep: bool, profile_ops: bool,
                on_stage: Callable[[str], None], engine: str = "runner",
                shape_plan: ShapePlan | None = None) -> RunOutcome:
    """Run once and return the outcome (ok, invalid or failed). DeviceConnectionError propagates.

    `engine`: "runner" (edgebench's harness) or "benchmark_model" (the official binary, staged as
    bin/benchmark_model; its text output is parsed like `edgebench inspect` does).
    """
    target = dep.target
    info = target.describe()
    run_id = key[:16]
    run_name = f"{session}/{run_id}"
    eff = protocol.effective
    timeout = eff.warmup_seconds + eff.max_seconds * 1.5 + RUN_TIMEOUT_MARGIN_S
    base = dict(run_id=run_id, run_key=key, session=session, model=run.model.name,
                model_sha256=run.model.sha256, model_size_bytes=run.model.size_bytes, target=target.name,
                device_id=info.device_id, config=run.config, protocol=protocol.name, repeat=run.repeat,
                provenance=Provenance(info.device_kind), harness_build_id=dep.harness_build_id,
                runtime_sha256=dep.runtime_sha256, started_at_utc=utc_now())
    output: HarnessOutput | None = None
    samples: list[DeviceSample] = []
    wall = None
    marker = None
    result = None
    try:
        on_stage("run")
        env = {"EDGEBENCH_SYSROOT": target.sysroot, "EDGEBENCH_BIN_DIR": dep.bin_dir, "EDGEBENCH_ENGINE": engine,
               "EDGEBENCH_SAMPLE_MS": str(sample_interval_ms(protocol))}
        if run.config.cpu_mask:
            env["EDGEBENCH_CPU_MASK"] = run.config.cpu_mask
        if engine == "benchmark_model":
            args = bm.benchmark_model_args(target.device_path(model_device_path(run.model)), run.config, protocol,
                                           profile_ops)
        else:
            args = runner_args(dep, run.model, run.config, protocol, profile_ops)
            args += shape_plan.runner_args() if shape_plan is not None else []
        result = target.run_driver(run_name, args, env, timeout, results_dir)
        wall = result.wall_seconds
        marker = result.log_marker
        on_stage("validate")
        if engine == "benchmark_model":
            return _benchmark_model_outcome(base, result, protocol, run.config, target, wall)
        output, samples = read_pulled_run(result, target.sysroot)
    except DeviceConnectionError:
        raise
    except EdgebenchError as exc:
        return _outcome(RunRecord(**base, status="failed", checks=(), error=with_output_tail(str(exc), result),
                                  wall_seconds=wall),
                        output, samples)
    finally:
        try:
            target.finish_run(run_name, keep=keep, log_marker=marker, log_path=results_dir / "logcat.txt")
        except DeviceConnectionError:
            pass  # the device is gone; its run folder is removed by a later cleanup

    base["input_shapes"] = shapes_ran(output.setup, shape_plan)  # what the runner ran, not what was asked
    mismatch = identity_mismatch(output, run.model, dep)
    if mismatch is not None:
        return _outcome(RunRecord(**base, status="failed", checks=(), error=mismatch, wall_seconds=wall,
                                  runtime_api_generation=output.api_generation), output, samples)
    if not output.ok:
        reason = output.failure_reason or ""
        if output.error is None:  # not the runner's own words: add what it and the driver printed
            reason = with_output_tail(reason, result)
        return _outcome(RunRecord(**base, status="failed", checks=(), error=reason, wall_seconds=wall,
                                  accelerator_used=output.accelerator_used, fallback_reason=output.fallback_reason,
                                  runtime_api_generation=output.api_generation), output, samples)
    checks = run_checks.evaluate(output, protocol, run.config, _telemetry(samples, results_dir),
                                 device_kind=info.device_kind)
    timed = [s.latency_us for s in output.timed]
    record = RunRecord(
        **base, status="invalid" if run_checks.is_invalid(checks) else "ok", checks=checks,
        latency=latency_stats(timed) if timed else None,
        init_ms=output.init_total_us / 1000.0 if output.init_total_us is not None else None,
        first_inference_us=output.first_inference_us, peak_rss_kb=output.peak_rss_kb,
        threads_observed=output.threads_observed, accelerator_used=output.accelerator_used,
        fallback_reason=output.fallback_reason, output_checksum=output.output_checksum,
        runtime_api_generation=output.api_generation, wall_seconds=wall)
    return _outcome(record, output, samples)


def sample_interval_ms(protocol: ResolvedProtocol) -> int:
    """Sampler interval: about 10 samples over the protocol's minimum timed loop, between 100 ms and 1 s
    (the cpu_frequency check needs several samples inside the loop; the sampler costs one read per node)."""
    return int(min(1000.0, max(100.0, protocol.effective.min_seconds * 1000.0 / 10)))


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


def read_pulled_run(result, sysroot: str, *, max_runner_bytes: int | None = None  # type: ignore[no-untyped-def]
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


def _benchmark_model_outcome(base: dict, result, protocol: ResolvedProtocol, config: RunConfig,  # type: ignore[no-untyped-def]
                             target: Target, wall: float | None) -> RunOutcome:
    from edgebench.inspect.benchmark_model import parse_benchmark_model

    text_file = result.out_dir / "benchmark_model.txt"
    if not text_file.exists():
        raise ParseError(f"the driver produced no benchmark_model.txt (exit {result.exit_code}); "
                         f"{result.stderr_tail.strip()[-300:] or 'is bin/benchmark_model executable there?'}")
    parsed = parse_benchmark_model(read_text_bounded(text_file, MAX_TEXT_BYTES), source=str(text_file))
    samples = read_samples(result.out_dir / "samples.jsonl", sysroot=target.sysroot)
    fields = bm.record_fields(parsed, config)  # accelerator_used: what the log says ran
    reason = bm.failure_reason(parsed, result.exit_code)
    if reason is not None:
        record = RunRecord(**base, status="failed", checks=(), error=reason, wall_seconds=wall, **fields)
        return RunOutcome(record, (), tuple(samples))
    checks = bm.checks_for(parsed, protocol, config, _telemetry(samples, result.out_dir))
    record = RunRecord(**base, status="invalid" if run_checks.is_invalid(checks) else "ok", checks=checks,
                       latency=bm.latency_from(parsed), wall_seconds=wall, **fields)
    return RunOutcome(record, (), tuple(samples))


def _telemetry(samples: list[DeviceSample], out_dir: Path) -> run_checks.Telemetry:
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
                 "driver.sh": driver, **libraries}
        files.update({model_device_path(m): m.path for m in models})
        if engine_binary is not None:
            files["bin/benchmark_model"] = engine_binary
        target.stage(files, verify=verify)
        return Deployment(target=target, harness_build_id=build.build_id, runtime_sha256=file_sha256(library),
                          bin_dir=target.device_path("bin"), library=target.device_path("lib/libLiteRt.so"))

    return deploy
