"""A device worker's plan in slices: many runs per device call, each stored the moment its frame arrives.

The device runs the slice (slice.sh: every run through the driver in its own folder, the protocol's
cool-down decided there from the thermal readings); the host reads, validates and stores each finished
run while the next one runs. What a lost device, a hung run, Ctrl-C or a killed host cost is what they
cost one run at a time: the run in flight. A run already stored is never run or stored again.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Callable, Protocol, Sequence

from edgebench.bench.cooldown import device_cooldown
from edgebench.bench.execute import (Deployment, PreparedRun, RunOutcome, collected_from, outcome_of, prepare_run,
                                     utc_now)
from edgebench.bench.plan import ModelFile, PlannedRun
from edgebench.bench.session_plan import SessionPlan, WorkerReport
from edgebench.bench.stopping import MAX_REDO_ATTEMPTS, Interrupted
from edgebench.devices.adb import DeviceConnectionError
from edgebench.errors import EdgebenchError
from edgebench.store import BufferedStore
from edgebench.targets.base import DeviceInfo, DriverResult, Target
from edgebench.targets.slice_protocol import SliceEntry
from edgebench.workspace import Workspace

# Runs per device call: bounds the slice file (old adbd shells and small /data/local/tmp alike) and how
# much plan a hung harness holds up before the host notices; far above what fixed costs need.
MAX_RUNS_PER_SLICE = 64


class SliceHost(Protocol):
    """What running slices needs of the device's worker (bench/worker.py's DeviceWorker): its device, plan and
    store, and the one-run-at-a-time steps a slice shares with it (storing, failing, waiting for the device)."""

    @property
    def target(self) -> Target: ...
    @property
    def plan(self) -> SessionPlan: ...
    @property
    def stop(self) -> threading.Event: ...
    @property
    def outbox(self) -> BufferedStore: ...
    @property
    def workspace(self) -> Workspace: ...
    @property
    def report(self) -> WorkerReport: ...
    @property
    def deploy(self) -> Callable[[Target, Sequence[ModelFile]], Deployment]: ...
    @property
    def on_stage(self) -> Callable[[PlannedRun, str, str], None]: ...

    def slice_in_flight(self, slice_name: str | None) -> None: ...
    def store_run(self, run: PlannedRun, outcome: RunOutcome) -> None: ...
    def failed_outcome(self, dep: Deployment | None, run: PlannedRun, key: str, reason: str) -> RunOutcome: ...
    def wait_for_device(self) -> bool: ...
    def kill_leftover(self, run_name: str) -> None: ...


@dataclass(frozen=True)
class PendingRun:
    run: PlannedRun
    key: str


class _SliceEvents:
    """Callbacks of one slice: progress, and each finished run validated and stored at once."""

    def __init__(self, worker: SliceHost, dep: Deployment, prepared: Sequence[PreparedRun]) -> None:
        self.worker = worker
        self.dep = dep
        self.prepared = prepared
        self.finished_count = 0  # runs stored (a run counts once its record is in the store or the outbox)
        self.in_flight: int | None = None  # started on the device, its frame not yet here
        self.started_at_utc: dict[int, str] = {}
        # An error of the host's own (validating or storing a finished run): no run on the device is to blame.
        self.host_error: BaseException | None = None

    def stage(self, index: int, stage: str) -> None:
        if stage == "run":
            self.in_flight = index
            self.started_at_utc[index] = utc_now()  # when it really started, not when the slice was planned
        self.worker.on_stage(self.prepared[index].run, self.worker.target.name, stage)

    def finished(self, index: int, result: DriverResult) -> None:
        if self.worker.stop.is_set():
            raise Interrupted()  # the stop may have cut this run short: never stored, a resume redoes it
        prepared = self.prepared[index]
        if index in self.started_at_utc:
            prepared = replace(prepared, header=replace(prepared.header, started_at_utc=self.started_at_utc[index]))
        self.in_flight = None
        try:
            self.worker.on_stage(prepared.run, self.worker.target.name, "validate")
            outcome = outcome_of(prepared, self.dep, collected_from(prepared, self.dep, result))
            self.worker.store_run(prepared.run, outcome)
        except BaseException as exc:
            self.host_error = exc
            raise
        self.finished_count += 1


def run_in_slices(worker: SliceHost, pending: list[PendingRun], dep: Deployment, baseline_c: dict[str, float],
                  info: DeviceInfo, *, warm: bool) -> None:
    """Run `pending` (in plan order, already-stored and refused runs left out) in slices on the worker's device."""

    target, plan = worker.target, worker.plan
    drops: dict[str, int] = {}
    stalls = 0  # slices in a row that failed with no run in flight
    while pending:
        if worker.stop.is_set():
            raise Interrupted()
        worker.outbox.raise_if_stopped()  # the store stayed away longer than --db-outage: stop here
        chunk = pending[:MAX_RUNS_PER_SLICE]
        prepared = [prepare_run(dep, p.run, key=p.key, session=plan.session, protocol=plan.protocol,
                                profile_ops=plan.profile_ops, engine=plan.engine,
                                shape_plan=plan.shape_plan(p.run.model.sha256),
                                reference=plan.reference(p.run.model.sha256), agreement_off=plan.agreement_off)
                    for p in chunk]
        entries = [SliceEntry(p.run_name, p.invocation.args, p.invocation.env, p.invocation.timeout_s) for p in prepared]
        results_dirs = [worker.workspace.session_dir(plan.session) / p.key[:16] for p in chunk]
        events = _SliceEvents(worker, dep, prepared)
        cooldown = device_cooldown(plan.protocol.effective, baseline_c, before_first=warm)
        worker.slice_in_flight(plan.session)
        try:
            target.run_slice(plan.session, entries, results_dirs, keep=plan.keep, cooldown=cooldown, events=events)
            pending = pending[len(chunk):]
        except Interrupted:
            raise
        except EdgebenchError as exc:
            if events.host_error is not None:
                raise events.host_error from None  # the store or validation failed: not a run's fault
            if worker.stop.is_set():
                raise Interrupted() from exc  # the stop killed the slice: the run in flight is not stored
            in_flight = events.in_flight
            pending = pending[events.finished_count:]  # the stored runs are done
            if isinstance(exc, DeviceConnectionError):
                if not _recover(worker, pending, dep, exc, drops):
                    return
                dep = worker.deploy(target, plan.staged_models)  # a reboot may have wiped the staged files
            elif in_flight is not None or stalls >= 1:
                # A hung run (killed), or the slice failed around a run: that run fails alone. Failing with no
                # run in flight twice in a row (a slice that cannot start) fails the next run with the reason,
                # so the plan goes on as one call per run would.
                broken = pending.pop(0)
                worker.store_run(broken.run, worker.failed_outcome(dep, broken.run, broken.key, str(exc)))
                stalls = 0
            else:
                stalls += 1  # failed between runs (a cool-down, the slice file): try the rest again once
        else:
            stalls = 0
        finally:
            worker.slice_in_flight(None)
        warm = True


def _recover(worker: SliceHost, pending: list[PendingRun], dep: Deployment, exc: DeviceConnectionError,
             drops: dict[str, int]) -> bool:
    """The device dropped with pending[0] in flight: wait for it and kill what is left of the slice (True),
    or store that run as failed and report the rest as not run (False: the device stayed gone). A run in
    flight at more than MAX_REDO_ATTEMPTS drops is stored as failed and taken off `pending`."""

    target, plan = worker.target, worker.plan
    lost = pending[0]
    drops[lost.key] = drops.get(lost.key, 0) + 1
    worker.on_stage(lost.run, target.name, f"waiting for device (up to {plan.reconnect_timeout_s:.0f} s)")
    if not worker.wait_for_device():
        reason = f"device disconnected ({exc}) and did not come back within {plan.reconnect_timeout_s:.0f} s"
        worker.report.problem = reason
        worker.store_run(lost.run, worker.failed_outcome(dep, lost.run, lost.key, reason))
        worker.report.not_run = len(pending) - 1
        return False
    # A dropped link does not stop the harness on the device: kill what is left of the slice.
    worker.kill_leftover(plan.session)
    if drops[lost.key] > MAX_REDO_ATTEMPTS:
        reason = f"the connection dropped {MAX_REDO_ATTEMPTS + 1} times during this run"
        worker.store_run(lost.run, worker.failed_outcome(dep, lost.run, lost.key, reason))
        pending.pop(0)
    worker.on_stage(lost.run, target.name, "redeploy")
    return True
