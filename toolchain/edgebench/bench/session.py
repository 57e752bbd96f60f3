"""push-and-run: deploy, run, collect, validate, store, for every model × config × repeat × target.

A failed run is recorded with its reason and the rest continue. Every finished run is committed
before the next starts, so a killed session loses at most the run in flight and resumes cleanly.
"""
from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from edgebench import __version__
from edgebench.bench import checks as run_checks
from edgebench.bench.cooldown import cool_down
from edgebench.bench.plan import ModelFile, PlannedRun, configs, plan_runs, run_key
from edgebench.bench.summary import summarize
from edgebench.devices.cpu_topology import clusters_of, named_masks, resolve_cpu_mask
from edgebench.errors import EdgebenchError, ParseError, UsageError
from edgebench.harness.output import HarnessOutput, parse_harness_output
from edgebench.harness.samples import read_samples, telemetry_from
from edgebench.protocols import ResolvedProtocol
from edgebench.records import ConfigSummary, Provenance, RunConfig, RunRecord
from edgebench.stats import latency_stats
from edgebench.store import LatencySample, ResultsStore
from edgebench.targets.base import Target
from edgebench.targets.staging import file_sha256
from edgebench.workspace import Workspace

# Seconds allowed beyond the protocol's own bounds for library load, init and collection.
RUN_TIMEOUT_MARGIN_S = 180.0
INPUT_SEED = 1

StageCallback = Callable[[PlannedRun, str, str], None]  # (run, target name, stage)


@dataclass(frozen=True)
class ModelProblem:
    path: str
    message: str


@dataclass(frozen=True)
class SessionResult:
    session: str
    records: tuple[RunRecord, ...]
    summaries: tuple[ConfigSummary, ...]
    skipped_resumed: int
    model_problems: tuple[ModelProblem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.model_problems and all(r.status != "failed" for r in self.records)


@dataclass
class _Deployment:
    target: Target
    harness_build_id: str
    runtime_sha256: str
    bin_dir: str  # where the driver finds edgebench_runner and edgebench_sampler
    library: str


def new_session_id() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def _utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def load_models(paths: Sequence[str | os.PathLike[str]]) -> tuple[list[ModelFile], list[ModelProblem]]:
    """Hash every model file; unreadable paths become problems, not exceptions, so others still run."""
    models: list[ModelFile] = []
    problems: list[ModelProblem] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            what = "is a folder" if path.is_dir() else "does not exist"
            problems.append(ModelProblem(str(raw), f"model file {str(raw)!r} {what}. Expected a .tflite file."))
            continue
        try:
            models.append(ModelFile(path=path.resolve(), name=path.name, sha256=file_sha256(path),
                                    size_bytes=path.stat().st_size))
        except OSError as exc:
            problems.append(ModelProblem(str(raw), f"cannot read model file {str(raw)!r}: {exc.strerror}"))
    return models, problems


def _model_device_path(model: ModelFile) -> str:
    # The device never sees the user's file name: hostile names cannot reach a shell.
    return f"models/{model.sha256[:16]}.tflite"


def _runner_args(dep: _Deployment, model: ModelFile, config: RunConfig, protocol: ResolvedProtocol) -> list[str]:
    eff = protocol.effective
    return ["--model", dep.target.device_path(_model_device_path(model)), "--lib", dep.library,
            "--threads", str(config.threads), "--accelerator", config.accelerator,
            "--warmup-runs", str(eff.warmup_runs), "--warmup-seconds", f"{eff.warmup_seconds:g}",
            "--runs", str(eff.runs), "--min-seconds", f"{eff.min_seconds:g}",
            "--max-seconds", f"{eff.max_seconds:g}", "--input-seed", str(INPUT_SEED)]


class PushAndRun:
    """One push-and-run session over targets. Use `run()`; see `edgebench.push_and_run` for the API."""

    def __init__(self, *, workspace: Workspace, store: ResultsStore, targets: Sequence[Target],
                 deploy: Callable[[Target, Sequence[ModelFile]], _Deployment] | None = None,
                 on_stage: StageCallback | None = None, on_record: Callable[[RunRecord], None] | None = None,
                 on_plan: Callable[[int], None] | None = None, keep: bool = False,
                 profile_ops: bool = False, runtime_dir: Path | None = None) -> None:
        self.workspace = workspace
        self.store = store
        self.targets = list(targets)
        self._deploy = deploy or deploy_harness_factory(workspace, runtime_dir)
        self.on_stage = on_stage or (lambda run, target, stage: None)
        self.on_record = on_record or (lambda record: None)
        self.on_plan = on_plan or (lambda total: None)
        self.keep = keep
        self.profile_ops = profile_ops

    def run(self, model_paths: Sequence[str | os.PathLike[str]], *, protocol: ResolvedProtocol,
            threads: Sequence[int] = (1,), accelerators: Sequence[str] = ("cpu",), cpu_mask: str | None = None,
            resume: str | None = None, command: str = "") -> SessionResult:
        models, problems = load_models(model_paths)
        if not models and problems:
            raise UsageError("no model could be read:\n  " + "\n  ".join(p.message for p in problems))
        session = self._open_session(resume, command)
        done = self.store.stored_run_statuses(session)
        records: list[RunRecord] = []
        skipped = 0
        self.on_plan(len(models) * len(threads) * len(accelerators) * protocol.effective.repeats * len(self.targets))
        for target in self.targets:
            info = target.describe()
            # Named masks (little, big, ...) mean different CPUs on different devices.
            mask = resolve_cpu_mask(cpu_mask, named_masks(clusters_of(target.cpu_facts())), device=target.name)
            planned = plan_runs(models, configs(threads, accelerators, mask), protocol.effective.repeats)
            self.store.upsert_device(info.device_id, info.device_kind, info.to_json())
            for model in models:
                self.store.upsert_variant(model.sha256, model.name, model.size_bytes, {"path": str(model.path)})
            if planned:
                self.on_stage(planned[0], target.name, "deploy")
            dep = self._deploy(target, models)
            baseline = target.read_temperatures_c()
            previous_finished = False
            for run in planned:
                key = run_key(session=session, model_sha256=run.model.sha256, harness_build_id=dep.harness_build_id,
                              runtime_sha256=dep.runtime_sha256, device_id=info.device_id, config=run.config,
                              protocol=protocol, repeat=run.repeat)
                if done.get(key) in ("ok", "invalid"):
                    skipped += 1
                    self.on_stage(run, target.name, "already stored")
                    continue
                if previous_finished:
                    self.on_stage(run, target.name, "cool-down")
                    cool_down(protocol.effective, target.read_temperatures_c, baseline)
                record = self._one_run(dep, run, key, session, protocol)
                previous_finished = True
                records.append(record)
                self.on_record(record)
        all_records = [r for r in self.store.runs(session)]
        return SessionResult(session=session, records=tuple(all_records), summaries=tuple(summarize(all_records)),
                             skipped_resumed=skipped, model_problems=tuple(problems))

    def _open_session(self, resume: str | None, command: str) -> str:
        if resume is None:
            session = new_session_id()
            self.store.add_session(session, started_at_utc=_utc_now(), command=command,
                                   host=socket.gethostname(), version=__version__)
            return session
        session = self.store.latest_session() if resume == "latest" else resume
        if session is None or not self.store.has_session(session):
            raise UsageError(f"no stored session {resume!r} to resume. Expected a session id printed by an "
                             "earlier push-and-run (see `edgebench results list`), or no value for the latest.")
        return session

    def _one_run(self, dep: _Deployment, run: PlannedRun, key: str, session: str,
                 protocol: ResolvedProtocol) -> RunRecord:
        target = dep.target
        info = target.describe()
        run_id = key[:16]
        started_at = _utc_now()
        results_dir = self.workspace.session_dir(session) / run_id
        eff = protocol.effective
        timeout = eff.warmup_seconds + eff.max_seconds * 1.5 + RUN_TIMEOUT_MARGIN_S
        base = dict(run_id=run_id, run_key=key, session=session, model=run.model.name,
                    model_sha256=run.model.sha256, model_size_bytes=run.model.size_bytes, target=target.name,
                    device_id=info.device_id, config=run.config, protocol=protocol.name, repeat=run.repeat,
                    provenance=Provenance(info.device_kind), harness_build_id=dep.harness_build_id,
                    runtime_sha256=dep.runtime_sha256, started_at_utc=started_at)
        output: HarnessOutput | None = None
        samples = []
        wall = None
        try:
            self.on_stage(run, target.name, "run")
            env = {"EDGEBENCH_SYSROOT": target.sysroot, "EDGEBENCH_BIN_DIR": dep.bin_dir}
            if run.config.cpu_mask:
                env["EDGEBENCH_CPU_MASK"] = run.config.cpu_mask
            runner_args = _runner_args(dep, run.model, run.config, protocol)
            if self.profile_ops:
                runner_args.append("--profile-ops")
            result = target.run_driver(f"{session}/{run_id}", runner_args, env, timeout, results_dir)
            wall = result.wall_seconds
            self.on_stage(run, target.name, "validate")
            runner_file = result.out_dir / "runner.jsonl"
            if not runner_file.exists():
                raise ParseError(f"the driver produced no runner.jsonl (exit {result.exit_code}); "
                                 f"stderr: {result.stderr_tail.strip()[-500:] or '(empty)'}")
            output = parse_harness_output(runner_file.read_text(errors="replace"), source=str(runner_file))
            samples = read_samples(result.out_dir / "samples.jsonl", sysroot=target.sysroot)
        except EdgebenchError as exc:
            record = RunRecord(**base, status="failed", checks=(), error=str(exc), wall_seconds=wall)
            self._store(record, protocol, output, samples)
            return record
        finally:
            if not self.keep:
                target.remove_run(f"{session}/{run_id}")

        if not output.ok:
            reason = (f"{output.error.code} at {output.error.stage}: {output.error.message}" if output.error
                      else f"runner ended with status {output.end_status}")
            record = RunRecord(**base, status="failed", checks=(), error=reason, wall_seconds=wall,
                               accelerator_used=output.accelerator_used, fallback_reason=output.fallback_reason,
                               runtime_api_generation=output.api_generation)
            self._store(record, protocol, output, samples)
            return record

        self.on_stage(run, target.name, "store")
        checks = run_checks.evaluate(output, protocol, run.config, telemetry_from(samples))
        record = RunRecord(
            **base, status="invalid" if run_checks.is_invalid(checks) else "ok", checks=checks,
            latency=latency_stats([s.latency_us for s in output.timed]),
            init_ms=output.init_total_us / 1000.0 if output.init_total_us is not None else None,
            first_inference_us=output.first_inference_us, peak_rss_kb=output.peak_rss_kb,
            threads_observed=output.threads_observed, accelerator_used=output.accelerator_used,
            fallback_reason=output.fallback_reason, output_checksum=output.output_checksum,
            runtime_api_generation=output.api_generation, wall_seconds=wall)
        self._store(record, protocol, output, samples)
        return record

    def _store(self, record: RunRecord, protocol: ResolvedProtocol, output: HarnessOutput | None,
               samples: list) -> None:
        latency = []
        if output is not None:
            latency = [LatencySample("warmup", s.index, s.latency_us, s.start_ns) for s in output.warmup]
            latency += [LatencySample("timed", s.index, s.latency_us, s.start_ns) for s in output.timed]
        self.store.save_run(record, {"preset": protocol.preset.to_json(), "effective": protocol.effective.to_json()},
                            latency, samples)


def deploy_harness_factory(workspace: Workspace, runtime_dir: Path | None = None
                           ) -> Callable[[Target, Sequence[ModelFile]], _Deployment]:
    """Build (cached) the harness for the target's ABI and stage it, the runtime and the models.

    `runtime_dir`: a folder with the device's libLiteRt.so and its accelerator libraries (every .so
    in it is staged); default: the runtime edgebench knows for the target's ABI.
    """
    from edgebench.harness.build import build_harness
    from edgebench.harness.litert_lib import find_litert_library

    def deploy(target: Target, models: Sequence[ModelFile]) -> _Deployment:
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
        driver = Path(__file__).resolve().parents[3] / "android_harness" / "driver" / "driver.sh"
        files = {"bin/edgebench_runner": build.runner_path, "bin/edgebench_sampler": build.sampler_path,
                 "driver.sh": driver, **libraries}
        files.update({_model_device_path(m): m.path for m in models})
        target.stage(files)
        return _Deployment(target=target, harness_build_id=build.build_id, runtime_sha256=file_sha256(library),
                           bin_dir=target.device_path("bin"), library=target.device_path("lib/libLiteRt.so"))

    return deploy
