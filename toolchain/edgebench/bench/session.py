"""push-and-run: every model × config × repeat on every target; one worker per device, in parallel.

A failed run is recorded with its reason and the rest continue. Every finished run is committed
before the next starts, so a killed session loses at most the runs in flight and resumes cleanly.
"""
from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from edgebench.version import __version__
from edgebench.bench.execute import Deployment, deploy_harness_factory, utc_now
from edgebench.bench.input_shapes import ShapePlan, ShapesArgument, plan_session_shapes
from edgebench.bench.plan import ModelFile, PlannedRun
from edgebench.bench.references import check_outputs_default, plan_references
from edgebench.bench.summary import summarize
from edgebench.bench.stopping import Interrupted
from edgebench.bench.session_plan import SessionPlan, WorkerReport
from edgebench.bench.worker import DeviceWorker
from edgebench.errors import EdgebenchError, UsageError
from edgebench.protocols import ResolvedProtocol
from edgebench.records import ConfigSummary, RunRecord
from edgebench.store import DEFAULT_DB_OUTAGE_S, BufferedStore, ResultsStore
from edgebench.targets.base import Target
from edgebench.targets.staging import file_sha256
from edgebench.user_files import regular_file_problem
from edgebench.workspace import Workspace

STOP_WAIT_S = 30.0  # after Ctrl-C: how long the workers get to kill and clean up their devices' runs

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
    device_problems: tuple[tuple[str, str], ...] = ()  # (target, why it stopped early)
    not_run: int = 0  # runs a device did not do or store (gone, or its worker stopped); a resume does them

    @property
    def ok(self) -> bool:
        return (not self.model_problems and not self.device_problems and self.not_run == 0
                and all(r.status != "failed" for r in self.records))


class SessionInterrupted(EdgebenchError):
    """Ctrl-C or SIGTERM: in-flight runs were killed and not stored; the session can be resumed."""

    exit_code = 130

    def __init__(self, session: str) -> None:
        super().__init__(f"session {session} interrupted: runs in flight were stopped and not stored. "
                         f"Continue it with: edgebench push-and-run ... --resume {session}")
        self.session = session


def new_session_id() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def load_models(paths: Sequence[str | os.PathLike[str]]) -> tuple[list[ModelFile], list[ModelProblem]]:
    """Hash every model file; unreadable paths become problems, not exceptions, so others still run."""
    models: list[ModelFile] = []
    problems: list[ModelProblem] = []
    for raw in paths:
        path = Path(raw)
        what = regular_file_problem(path)  # /dev/zero, a FIFO, a folder or 0 bytes: refused before staging
        if what is not None:
            problems.append(ModelProblem(str(raw), f"model file {str(raw)!r} {what}. Expected a .tflite file."))
            continue
        try:
            model = ModelFile(path=path.resolve(), name=path.name, sha256=file_sha256(path),
                              size_bytes=path.stat().st_size)
        except OSError as exc:
            problems.append(ModelProblem(str(raw), f"cannot read model file {str(raw)!r}: {exc.strerror}"))
            continue
        twin = next((m for m in models if m.sha256 == model.sha256), None)
        if twin is not None:
            # Runs are identified by model bytes: the same bytes under two names are one model.
            problems.append(ModelProblem(str(raw), f"model file {str(raw)!r} has the same bytes as "
                                                   f"{str(twin.path)!r}; it is measured once, as {twin.name!r}"))
            continue
        models.append(model)
    return models, problems


class PushAndRun:
    """One push-and-run session over targets. Use `run()`; see `edgebench.push_and_run` for the API."""

    def __init__(self, *, workspace: Workspace, store: ResultsStore, targets: Sequence[Target],
                 deploy: Callable[[Target, Sequence[ModelFile]], Deployment] | None = None,
                 on_stage: StageCallback | None = None, on_record: Callable[[RunRecord], None] | None = None,
                 on_plan: Callable[[int], None] | None = None, keep: bool = False,
                 profile_ops: bool = False, runtime_dir: Path | None = None,
                 reconnect_timeout_s: float = 120.0, verify: bool = False,
                 engine_binary: Path | None = None, db_outage_s: float = DEFAULT_DB_OUTAGE_S,
                 batch: bool = True) -> None:
        self.workspace = workspace
        self.store = store
        self.targets = list(targets)
        self._deploy = deploy or deploy_harness_factory(workspace, runtime_dir, verify=verify,
                                                        engine_binary=engine_binary)
        self.engine = "benchmark_model" if engine_binary is not None else "runner"
        self.on_stage = on_stage or (lambda run, target, stage: None)
        self.on_record = on_record or (lambda record: None)
        self.on_plan = on_plan or (lambda total: None)
        self.keep = keep
        self.profile_ops = profile_ops
        self.reconnect_timeout_s = reconnect_timeout_s
        self.db_outage_s = db_outage_s
        self.batch = batch  # several runs per device call where the target can (bench/slice_worker.py)
        self.stop = threading.Event()

    def run(self, model_paths: Sequence[str | os.PathLike[str]], *, protocol: ResolvedProtocol,
            threads: Sequence[int] = (1,), accelerators: Sequence[str] = ("cpu",), cpu_mask: str | None = None,
            resume: str | None = None, command: str = "", input_shapes: ShapesArgument = None,
            check_outputs: bool | None = None, reference: str | os.PathLike[str] | None = None) -> SessionResult:
        """`check_outputs`: compare outputs with a reference on the device (None: the protocol's default,
        on for standard and mlperf); `reference`: the model to compare with (default: each model's float
        parent when the artifact store knows it, else the model itself on CPU). bench/references.py."""
        models, problems = load_models(model_paths)
        checking = check_outputs_default(protocol.name, check_outputs)
        if reference is not None and not checking:
            raise UsageError("--reference goes with --check-outputs (outputs are not checked: "
                             f"{'--no-check-outputs was given' if check_outputs is False else 'the smoke protocol'})")
        references = (plan_references(models, reference, self.workspace.artifacts) if checking else None)
        if not models and problems:
            raise UsageError("no model could be read:\n  " + "\n  ".join(p.message for p in problems))
        shapes: dict[str, ShapePlan | str] = plan_session_shapes(models, input_shapes, engine=self.engine)
        outbox = BufferedStore(self.store, self.workspace, db_outage_s=self.db_outage_s)
        try:
            # Runs an earlier process measured but could not store (store away, or killed) go in first,
            # so a resume sees them as done.
            outbox.flush_outbox()
            session = self._open_session(resume, command)
            for model in models:
                self.store.upsert_variant(model.sha256, model.name, model.size_bytes, {"path": str(model.path)})
            plan = SessionPlan(session=session, protocol=protocol, models=models, threads=threads,
                               accelerators=accelerators, cpu_mask=cpu_mask,
                               done=self.store.stored_run_statuses(session), keep=self.keep,
                               profile_ops=self.profile_ops, reconnect_timeout_s=self.reconnect_timeout_s,
                               db_outage_s=self.db_outage_s, engine=self.engine, shapes=shapes,
                               references=references, batch=self.batch, agreement_off=(
                                   "--no-check-outputs was given" if check_outputs is False else
                                   f"not requested: the {protocol.name} protocol does not check outputs "
                                   "unless --check-outputs is given"))
            self.on_plan(len(models) * len(threads) * len(accelerators) * protocol.effective.repeats)  # per device
            workers = [DeviceWorker(t, plan, store=self.store, workspace=self.workspace, deploy=self._deploy,
                                    stop=self.stop, on_stage=self.on_stage, on_record=self.on_record, outbox=outbox)
                       for t in self.targets]
            reports = self._run_workers(workers, session)
            try:
                outbox.drain()  # every run kept while the store was away is in it before it is read back
            except KeyboardInterrupt:  # the kept runs stay in the outbox: the resume stores them first
                raise SessionInterrupted(session) from None
        finally:
            outbox.close()  # what the store did not take stays in the outbox for the next session
        records = self.store.runs(session)
        return SessionResult(
            session=session, records=tuple(records), summaries=tuple(summarize(records)),
            skipped_resumed=sum(r.skipped for r in reports), model_problems=tuple(problems),
            device_problems=tuple((r.target, r.problem) for r in reports if r.problem),
            not_run=sum(r.not_run for r in reports))

    def _run_workers(self, workers: list[DeviceWorker], session: str) -> list[WorkerReport]:
        """Each device on its own thread; the main thread waits, and turns Ctrl-C into a clean stop."""
        errors: dict[str, BaseException] = {}
        reports: dict[str, WorkerReport] = {}

        # Each worker's end, as an Event: on CPython before 3.13, a Thread.join() that Ctrl-C interrupts leaves
        # the thread marked stopped, and every later join() returns at once while it still runs. The session
        # then went on (and the process could exit) while a worker was still killing and cleaning up its
        # device's runs. An Event's state is its own flag: waiting again after an interruption still waits.
        ended = {w.target.name: threading.Event() for w in workers}

        def body(worker: DeviceWorker) -> None:
            try:
                reports[worker.target.name] = worker.run()
            except Interrupted:
                reports[worker.target.name] = worker.report
            except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
                errors[worker.target.name] = exc
                reports[worker.target.name] = worker.report
            finally:
                ended[worker.target.name].set()

        threads = [threading.Thread(target=body, args=(w,), name=f"edgebench-{w.target.name}", daemon=True)
                   for w in workers]
        for t in threads:
            t.start()
        try:
            for w in workers:
                while not ended[w.target.name].wait(0.2):  # a timeout, so that Ctrl-C is seen promptly
                    pass
        except KeyboardInterrupt:
            self.stop.set()
            for w in workers:
                w.cancel()
            deadline = time.monotonic() + STOP_WAIT_S
            for w in workers:
                ended[w.target.name].wait(max(0.0, deadline - time.monotonic()))
            for w in workers:
                w.clean_up_after_stop()
            raise SessionInterrupted(session) from None
        if errors:
            if len(errors) == len(workers) or len(workers) == 1:
                raise next(iter(errors.values()))
            for name, exc in errors.items():  # others finished: report, do not lose their results
                reports[name].stopped_by(exc)
        return [reports[w.target.name] for w in workers]

    def _open_session(self, resume: str | None, command: str) -> str:
        session: str | None
        if resume is None:
            session = new_session_id()
            self.store.add_session(session, started_at_utc=utc_now(), command=command,
                                   host=socket.gethostname(), version=__version__)
            return session
        session = self.store.latest_session() if resume == "latest" else resume
        if session is None or not self.store.has_session(session):
            raise UsageError(f"no stored session {resume!r} to resume. Expected a session id printed by an "
                             "earlier push-and-run (see `edgebench results list`), or no value for the latest.")
        return session
