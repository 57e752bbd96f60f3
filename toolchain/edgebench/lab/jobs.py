"""One lab job on one device: one model × config × repeat, run by push-and-run's own device worker.

The job rebuilds its run from the session's stored plan, fetches the model file from the database
(once per host, checked by hash), and hands a one-repeat SessionPlan to `bench.worker.DeviceWorker`:
device locks, reconnects, validity checks, cool-down and storing the run are push-and-run's, unchanged.
A run already stored (a job retried after its worker died) is skipped by its run key, never stored twice.
"""
from __future__ import annotations

import hashlib
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import procrastinate.exceptions
from sqlalchemy import select

from edgebench.bench.execute import Deployment
from edgebench.bench.input_shapes import plan_session_shapes
from edgebench.bench.plan import ModelFile, PlannedRun
from edgebench.bench.stopping import Interrupted
from edgebench.bench.session_plan import SessionPlan
from edgebench.bench.worker import DeviceWorker
from edgebench.lab.errors import JobFailed, StopRequested
from edgebench.lab.plan import LabPlan
from edgebench.lab.queue import Lab
from edgebench.lab.submit import load_plan
from edgebench.lab.tables import lab_models
from edgebench.records import RunRecord
from edgebench.store import BufferedStore, ResultsStore
from edgebench.store.db import SavedRun
from edgebench.targets.base import Target
from edgebench.workspace import Workspace

StageCallback = Callable[[PlannedRun, str, str], None]


class TimedStore(ResultsStore):
    """The results store, counting the seconds each job thread spends in it (`lab worker` reports them as
    the job's database time, the lab's cost next to the device's)."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self._spent = threading.local()

    def seconds(self) -> float:
        return float(getattr(self._spent, "s", 0.0))

    def reset(self) -> None:
        self._spent.s = 0.0

    def _timed(self, started: float) -> None:
        self._spent.s = self.seconds() + time.perf_counter() - started

    def stored_run_statuses(self, session: str) -> dict[str, str]:
        started = time.perf_counter()
        try:
            return super().stored_run_statuses(session)
        finally:
            self._timed(started)

    def upsert_device(self, device_id: str, device_kind: str, info: Mapping[str, Any]) -> None:
        started = time.perf_counter()
        try:
            super().upsert_device(device_id, device_kind, info)
        finally:
            self._timed(started)

    def runs(self, session: str | None = None, *, device_id: str | None = None,
             model_sha256: str | None = None) -> list[RunRecord]:
        started = time.perf_counter()
        try:
            return super().runs(session, device_id=device_id, model_sha256=model_sha256)
        finally:
            self._timed(started)

    def save_run(self, *args: Any, **kwargs: Any) -> SavedRun:
        started = time.perf_counter()
        try:
            return super().save_run(*args, **kwargs)
        finally:
            self._timed(started)


@dataclass(frozen=True)
class JobSpec:
    session: str
    device_id: str
    serial: str  # as `lab submit` saw it (the device may be on another adb serial here)
    model_sha256: str
    threads: int
    accelerator: str
    repeat: int


@dataclass
class JobRunner:
    """Runs jobs for the devices of one worker process; one job per device at a time (the queue's lock)."""

    lab: Lab
    results: TimedStore
    outbox: BufferedStore  # runs go to disk first, then to the store (waits out an outage within --db-outage)
    workspace: Workspace
    targets: dict[str, Target]  # device id -> target
    deploy: Callable[[Target, Sequence[ModelFile]], Deployment]
    reconnect_timeout_s: float
    on_stage: StageCallback
    on_record: Callable[[RunRecord], None]
    stop: threading.Event = field(default_factory=threading.Event)
    _plans: dict[str, LabPlan] = field(default_factory=dict)
    _baselines: dict[str, dict[str, float]] = field(default_factory=dict)
    _fetch_lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, job: JobSpec, should_abort: Callable[[], bool]) -> str:
        target = self.targets.get(job.device_id)
        if target is None:
            raise JobFailed(f"job for device {job.serial} ({job.device_id}) reached a worker that does not serve it")
        plan = self._plans.get(job.session) or self._plans.setdefault(job.session, load_plan(self.lab, job.session))
        stored = self._stored_run(job)
        if stored is not None:  # a job run again after its worker died, maybe on another host or harness build
            return f"already stored: {stored.status} {stored.run_id}"
        model = self._model_file(plan, job.model_sha256)
        shapes = plan_session_shapes([model], list(plan.input_shapes) if plan.input_shapes else None)
        session_plan = SessionPlan(
            session=job.session, protocol=plan.resolved_protocol(), models=[model], threads=[job.threads],
            accelerators=[job.accelerator], cpu_mask=plan.cpu_mask,
            done={},  # _stored_run above already skipped a stored run (a run key match is one of its cases)
            reconnect_timeout_s=self.reconnect_timeout_s, shapes=shapes, only_repeat=job.repeat,
            warm_baseline_c=self._baselines.get(job.serial), db_outage_s=self.outbox.db_outage_s,
            batch=False)  # a job is one run: nothing to put in a slice
        stop = threading.Event()
        worker = DeviceWorker(target, session_plan, store=self.results, workspace=self.workspace, deploy=self.deploy,
                              stop=stop, on_stage=self.on_stage, on_record=self.on_record, outbox=self.outbox)
        watcher = threading.Thread(target=self._watch, args=(should_abort, stop, worker), daemon=True,
                                   name=f"edgebench-abort-{job.serial}")
        watcher.start()
        try:
            report = worker.run()
        except Interrupted:
            if should_abort():  # `lab cancel`: the job ends aborted
                raise procrastinate.exceptions.JobAborted(f"device {job.serial}: cancelled; the run was not stored") from None
            raise StopRequested(f"device {job.serial}: the worker stopped before the run was stored; "
                                "the job goes back into the queue") from None
        finally:
            stop.set()  # ends the watcher
            watcher.join()
        if worker.baseline_c is not None and job.serial not in self._baselines:
            self._baselines[job.serial] = worker.baseline_c  # the idle temperatures of the first job
        if report.problem or report.not_run:
            raise JobFailed(f"device {job.serial}: {report.problem or 'the run was not done'}")
        if report.skipped:
            return "already stored"
        return ", ".join(f"{r.status} {r.run_id}" for r in report.records)

    def _stored_run(self, job: JobSpec) -> RunRecord | None:
        """The run of this job already stored (ok or invalid), found by what it measured rather than its run
        key, which also names the harness build and runtime: another host may have built them differently."""
        runs = self.outbox.call(lambda: self.results.runs(job.session, device_id=job.device_id,
                                                          model_sha256=job.model_sha256))
        return next((r for r in runs if r.repeat == job.repeat and r.config.threads == job.threads
                     and r.config.accelerator == job.accelerator and r.status in ("ok", "invalid")), None)

    def _watch(self, should_abort: Callable[[], bool], stop: threading.Event, worker: DeviceWorker) -> None:
        """Cancelled (`lab cancel`) or the worker stopping: kill the harness of the run in flight."""
        while not stop.wait(0.5):
            if self.stop.is_set() or should_abort():
                stop.set()
                worker.cancel()
                return

    def _model_file(self, plan: LabPlan, sha256: str) -> ModelFile:
        """The model's bytes from the database into this host's cache, once, checked by their hash."""
        entry = next((m for m in plan.models if m.sha256 == sha256), None)
        if entry is None:
            raise JobFailed(f"model {sha256[:12]} is not part of its session's plan")
        path = self.workspace.root / "lab-models" / sha256 / entry.name
        with self._fetch_lock:
            if not path.is_file():
                with self.lab.engine.connect() as conn:
                    row = conn.execute(select(lab_models.c.content).where(lab_models.c.model_sha256 == sha256)).first()
                if row is None:
                    raise JobFailed(f"model {entry.name} ({sha256[:12]}) is missing from the lab's database")
                content = bytes(row[0])
                if hashlib.sha256(content).hexdigest() != sha256:
                    raise JobFailed(f"model {entry.name} in the lab's database does not match its hash {sha256[:12]}")
                path.parent.mkdir(parents=True, exist_ok=True)
                partial = path.with_name(path.name + f".{os.getpid()}.part")
                partial.write_bytes(content)
                os.replace(partial, path)
        return ModelFile(path=path, name=entry.name, sha256=sha256, size_bytes=entry.size_bytes)
