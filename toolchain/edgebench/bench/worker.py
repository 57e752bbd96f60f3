"""One worker per device: lock it, deploy, run its plan in order, survive a dropped connection.

A device that drops mid-run, or between runs (deploy, temperature baseline, cool-down), is waited
for (bounded by the reconnect timeout); the interrupted run
is redone after a fresh deploy, finished runs are kept. A device that stays gone gets its
interrupted run stored as failed and its remaining runs reported as not run (a resume does them).
A results store that goes away is waited for the same way, without holding the device up: runs are
kept in the workspace's outbox and stored when it is back (store/buffered.py, `--db-outage`).
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Sequence

from edgebench.bench.cooldown import cool_down
from edgebench.bench.execute import Deployment, RunOutcome, execute_run
from edgebench.bench.input_shapes import ShapePlan
from edgebench.bench.output_consistency import with_output_checks
from edgebench.targets.locks import DeviceBusyError, HostLock, owner_record
from edgebench.bench.plan import ModelFile, PlannedRun, configs, plan_runs, run_key
from edgebench.bench.run_record import run_header
from edgebench.bench.session_plan import SessionPlan, WorkerReport
from edgebench.bench.slice_worker import PendingRun, run_in_slices
from edgebench.bench.stopping import MAX_REDO_ATTEMPTS, Interrupted
from edgebench.devices.adb import DeviceConnectionError
from edgebench.devices.cpu_topology import clusters_of, named_masks, resolve_cpu_mask
from edgebench.errors import EdgebenchError
from edgebench.protocols import ResolvedProtocol
from edgebench.records import Provenance, RunRecord
from edgebench.store import BufferedStore, ResultsStore
from edgebench.targets.base import DeviceInfo, Target
from edgebench.workspace import Workspace

RECONNECT_POLL_S = 2.0


class DeviceWorker:
    def __init__(self, target: Target, plan: SessionPlan, *, store: ResultsStore, workspace: Workspace,
                 deploy: Callable[[Target, Sequence[ModelFile]], Deployment], stop: threading.Event,
                 on_stage: Callable[[PlannedRun, str, str], None], on_record: Callable[[RunRecord], None],
                 outbox: BufferedStore | None = None) -> None:
        """`outbox`: where runs are written (shared by a session's workers); without one, the worker makes
        its own over `store` (outbox in `workspace`, budget plan.db_outage_s) and waits for it at the end."""
        self.target = target
        self.plan = plan
        self.store = store
        self._owns_outbox = outbox is None
        self.outbox = outbox or BufferedStore(store, workspace, db_outage_s=plan.db_outage_s)
        self.workspace = workspace
        self.deploy = deploy
        self.stop = stop
        self.on_stage = on_stage
        self.on_record = on_record
        self.report = WorkerReport(target.name)
        # What cancel() stops: (a run's folder, False) or (a slice's session, True). One attribute, set and read
        # whole: the main thread reads it while the worker thread changes it.
        self._in_flight: tuple[str, bool] | None = None
        self._interrupted_run: str | None = None
        self._drop_reason = ""
        self.baseline_c: dict[str, float] | None = None  # the temperatures cool-downs aim for
        # Per model: this session's runs on this device by run key, read from the store once. Only this worker
        # adds to them while it holds the device's lock, so each later run is checked without a query.
        self._session_runs: dict[tuple[str, str], dict[str, RunRecord]] = {}

    # -- called from the main thread --------------------------------------------------------------
    def cancel(self) -> None:
        """Kill the harness of the run in flight (the session is stopping)."""
        in_flight = self._in_flight
        if in_flight is not None:
            run_name, is_slice = in_flight
            # A slice is stopped whole, and the target removes the folders of its runs not delivered itself
            # (run_slice): it knows which ones may exist, where the host may not have heard the last one start.
            self._interrupted_run = None if is_slice else run_name
            try:
                self.target.cancel_run(run_name)
            except EdgebenchError:
                pass

    def clean_up_after_stop(self) -> None:
        """Remove the stopped run's folder on the device (unless --keep): its results are not stored."""
        if self._interrupted_run is not None and not self.plan.keep:
            try:
                self.target.finish_run(self._interrupted_run, keep=False)
            except EdgebenchError:
                pass

    def slice_in_flight(self, slice_name: str | None) -> None:
        """A slice is running (cancel() stops all of it), or none (None)."""
        self._in_flight = None if slice_name is None else (slice_name, True)

    # -- the worker thread ------------------------------------------------------------------------
    def run(self) -> WorkerReport:
        target, plan = self.target, self.plan
        try:
            info = target.describe()
        except EdgebenchError as exc:
            self.report.problem = str(exc)
            return self.report
        host_lock = HostLock(info.device_id, target.name)
        host_lock.acquire(plan.session)
        try:
            try:
                target.acquire_device_lock(owner_record(plan.session))
                try:
                    self._undo_crashed_battery_run()
                    self._run_plan(info)
                finally:
                    try:
                        target.release_device_lock()
                    except EdgebenchError:
                        pass  # gone: the lock turns stale and is taken over later
            finally:
                host_lock.release()
            if self._owns_outbox:
                self.outbox.drain()  # the device is free; its runs still wait for the store (within the budget)
        finally:
            if self._owns_outbox:
                self.outbox.close()
        return self.report

    def _undo_crashed_battery_run(self) -> None:
        """A battery run whose host crashed left the charger suspended (or more): put it back first."""
        undone = self.target.restore_pending_changes()
        if undone and self.plan.models:
            self.on_stage(PlannedRun(self.plan.models[0], configs(self.plan.threads, self.plan.accelerators,
                                                                  None)[0], 0),
                          self.target.name, "restored after a crashed battery run: " + "; ".join(undone))

    def _run_plan(self, info: DeviceInfo) -> None:
        target, plan = self.target, self.plan
        # Its runs cannot be stored before its row: waited for (within the budget) if the store is away.
        self.outbox.call(lambda: self.store.upsert_device(info.device_id, info.device_kind, info.to_json()))
        # Named masks (little, big, ...) mean different CPUs on different devices.
        mask = resolve_cpu_mask(plan.cpu_mask, named_masks(clusters_of(target.cpu_facts())), device=target.name)
        planned = plan_runs(plan.models, configs(plan.threads, plan.accelerators, mask), plan.protocol.effective.repeats)
        if plan.only_repeat is not None:
            planned = [run for run in planned if run.repeat == plan.only_repeat]
        self.report.planned = len(planned)
        if not planned:
            return
        self.on_stage(planned[0], target.name, "deploy")
        try:
            target.remove_leftover_runs()
            dep = self.deploy(target, plan.staged_models)
            baseline = dict(plan.warm_baseline_c) if plan.warm_baseline_c else target.read_temperatures_c()
        except DeviceConnectionError as exc:  # dropped before the first run: wait for it like mid-run
            prepared = self._prepare_after_drop(planned[0], exc)
            if prepared is None:
                self._give_up(planned, 0, None, info)
                return
            dep, baseline = prepared
        self.baseline_c = baseline
        warm = plan.warm_baseline_c is not None
        if plan.batch and target.supports_slices():
            self._run_plan_in_slices(planned, dep, baseline, info, warm=warm)
        else:
            self._run_plan_one_by_one(planned, dep, baseline, info, ran_one=warm)

    def _key(self, run: PlannedRun, dep: Deployment | None, info: DeviceInfo) -> str:
        """The run's key; a run the device was gone for before anything was deployed is keyed "not deployed"."""
        return run_key(session=self.plan.session, model_sha256=run.model.sha256,
                       harness_build_id=dep.harness_build_id if dep else "not deployed",
                       runtime_sha256=dep.runtime_sha256 if dep else "not deployed",
                       device_id=info.device_id, config=run.config, protocol=self.plan.protocol, repeat=run.repeat,
                       input_shapes=_shape_key(self.plan.shape_plan(run.model.sha256)))

    def _run_plan_in_slices(self, planned: Sequence[PlannedRun], dep: Deployment, baseline: dict[str, float],
                            info: DeviceInfo, *, warm: bool) -> None:
        pending: list[PendingRun] = []
        for run in planned:
            key = self._key(run, dep, info)
            if self.plan.done.get(key) in ("ok", "invalid"):
                self.report.skipped += 1
                self.on_stage(run, self.target.name, "already stored")
                continue
            refusal = self.plan.shape_refusal(run.model.sha256)
            if refusal is not None:  # recorded like any model that cannot run; the others go on
                self.store_run(run, self.failed_outcome(dep, run, key, refusal))
                continue
            pending.append(PendingRun(run, key))
        run_in_slices(self, pending, dep, baseline, info, warm=warm)

    def _run_plan_one_by_one(self, planned: Sequence[PlannedRun], dep: Deployment, baseline: dict[str, float],
                             info: DeviceInfo, *, ran_one: bool) -> None:
        target, plan = self.target, self.plan
        for index, run in enumerate(planned):
            if self.stop.is_set():
                raise Interrupted()
            self.outbox.raise_if_stopped()  # the store stayed away longer than --db-outage: stop here
            key = self._key(run, dep, info)
            if plan.done.get(key) in ("ok", "invalid"):
                self.report.skipped += 1
                self.on_stage(run, target.name, "already stored")
                continue
            refusal = plan.shape_refusal(run.model.sha256)
            if refusal is not None:  # recorded like any model that cannot run; the others go on
                self.store_run(run, self.failed_outcome(dep, run, key, refusal))
                continue
            if ran_one:
                self.on_stage(run, target.name, "cool-down")
                try:
                    cool_down(plan.protocol.effective, target.read_temperatures_c, baseline, sleep=self._sleep,
                              read_thermal_status=target.read_thermal_status)
                except DeviceConnectionError as exc:  # dropped between runs: wait for it like mid-run
                    prepared = self._prepare_after_drop(run, exc)
                    if prepared is None:
                        self._give_up(planned, index, dep, info)
                        return
                    dep, _ = prepared
            outcome, dep, gone = self._run_with_redo(dep, run, key)
            if self.stop.is_set():
                raise Interrupted()  # cut short by the stop: never stored, a resume redoes it
            ran_one = True
            self.store_run(run, outcome)
            if gone:
                self.report.not_run = len(planned) - index - 1
                return

    def _run_with_redo(self, dep: Deployment, run: PlannedRun, key: str) -> tuple[RunOutcome, Deployment, bool]:
        """The run's outcome, the (maybe renewed) deployment, and whether the device stayed gone."""
        target, plan = self.target, self.plan
        results_dir = self.workspace.session_dir(plan.session) / key[:16]
        run_name = f"{plan.session}/{key[:16]}"
        for _attempt in range(MAX_REDO_ATTEMPTS + 1):
            self._in_flight = (run_name, False)
            try:
                outcome = execute_run(dep, run, key=key, session=plan.session, protocol=plan.protocol,
                                      results_dir=results_dir, keep=plan.keep, profile_ops=plan.profile_ops,
                                      on_stage=lambda stage: self.on_stage(run, target.name, stage),
                                      engine=plan.engine, shape_plan=plan.shape_plan(run.model.sha256),
                                      reference=plan.reference(run.model.sha256), agreement_off=plan.agreement_off)
                return outcome, dep, False
            except DeviceConnectionError as exc:
                if self.stop.is_set():
                    raise Interrupted() from exc
                self.on_stage(run, target.name, f"waiting for device (up to {plan.reconnect_timeout_s:.0f} s)")
                if not self.wait_for_device():
                    reason = (f"device disconnected ({exc}) and did not come back within "
                              f"{plan.reconnect_timeout_s:.0f} s")
                    self.report.problem = reason
                    return self.failed_outcome(dep, run, key, reason), dep, True
                # A dropped link does not stop the harness on the device: kill what is left of the
                # interrupted attempt, or the redo would share the CPUs with it.
                self.kill_leftover(run_name)
                self.on_stage(run, target.name, "redeploy")
                dep = self.deploy(target, plan.staged_models)  # a reboot may have wiped the staged files
            finally:
                self._in_flight = None
        reason = f"the connection dropped {MAX_REDO_ATTEMPTS + 1} times during this run"
        return self.failed_outcome(dep, run, key, reason), dep, False

    def _prepare_after_drop(self, run: PlannedRun, exc: DeviceConnectionError) -> tuple[Deployment, dict[str, float]] | None:
        """The device dropped outside a run: wait for it, then deploy again (a reboot may have wiped the
        staged files) and read a fresh temperature baseline; None when it stayed gone."""
        self._drop_reason = str(exc)
        for _attempt in range(MAX_REDO_ATTEMPTS + 1):
            if self.stop.is_set():
                raise Interrupted() from exc
            self.on_stage(run, self.target.name, f"waiting for device (up to {self.plan.reconnect_timeout_s:.0f} s)")
            if not self.wait_for_device():
                return None
            try:
                self.on_stage(run, self.target.name, "redeploy")
                self.target.remove_leftover_runs()
                return self.deploy(self.target, self.plan.staged_models), self.target.read_temperatures_c()
            except DeviceConnectionError as again:
                self._drop_reason = str(again)
        return None

    def _give_up(self, planned: Sequence[PlannedRun], index: int, dep: Deployment | None,
                 info: DeviceInfo) -> None:
        """The device stayed gone before run `index` started: that run is stored as failed with the
        reason (as a run interrupted by the drop would be) and the rest are reported as not run."""
        reason = (f"device disconnected ({self._drop_reason}) and did not come back within "
                  f"{self.plan.reconnect_timeout_s:.0f} s")
        self.report.problem = reason
        run = planned[index]
        self.store_run(run, self.failed_outcome(dep, run, self._key(run, dep, info), reason))
        self.report.not_run = len(planned) - index - 1

    def kill_leftover(self, run_name: str) -> None:
        try:
            self.target.cancel_run(run_name)
        except DeviceConnectionError:
            pass  # gone again: the redo below meets the same and waits once more

    def wait_for_device(self) -> bool:
        """True once the device answers again; False when it stayed gone. DeviceBusyError when it came back
        with its lock taken over by another host (the device was away longer than the stale limit): that
        host measures it now, so this worker must not touch it again; its runs not done are reported."""
        deadline = time.monotonic() + self.plan.reconnect_timeout_s
        while time.monotonic() < deadline:
            if self.stop.is_set():
                raise Interrupted()
            if self.target.reconnect():
                try:
                    held = self.target.holds_device_lock()
                except DeviceConnectionError:
                    held = None  # gone again: keep waiting
                if held:
                    return True
                if held is False:
                    raise DeviceBusyError(self.target.name, "the device came back with its lock taken over by another "
                                          "host (it was away longer than the lock's stale limit): that host is "
                                          "measuring it now, so this session stopped on it; its runs not done are "
                                          "counted as not run (--resume does them later)", command="lock")
            self._sleep(RECONNECT_POLL_S)
        return False

    def _sleep(self, seconds: float) -> None:
        if self.stop.wait(seconds):
            raise Interrupted()

    def store_run(self, run: PlannedRun, outcome: RunOutcome) -> None:
        # Compared with the stored runs, and with those still in the outbox when the store is away.
        record = outcome.record
        earlier = self._earlier_runs(record)
        outcome = with_output_checks(outcome, list(earlier.values()))
        saved = self.outbox.save_run(outcome.record, _protocol_json(self.plan.protocol), outcome.latency_samples,
                                     outcome.device_samples)
        # Another writer of a shared store may have stored this run first: theirs is kept and reported.
        # None: kept in the outbox until the store is back (the record is the one that will be stored).
        record = saved.record if saved is not None else outcome.record
        if saved is None:
            self.on_stage(run, self.target.name, f"results store unreachable: {self.outbox.waiting()} run(s) kept "
                                                 f"in the outbox until it is back (up to {self.outbox.db_outage_s:g} s)")
        earlier[record.run_key] = record
        self.report.records.append(record)
        self.on_record(record)

    def _earlier_runs(self, record: RunRecord) -> dict[str, RunRecord]:
        scope = (record.device_id, record.model_sha256)
        if scope in self._session_runs:
            return self._session_runs[scope]
        stored, answered = self.outbox.runs_answer(self.plan.session, device_id=record.device_id,
                                                   model_sha256=record.model_sha256)
        earlier = {r.run_key: r for r in stored}
        if answered:  # kept only when the store itself answered: during an outage it is asked again next run
            self._session_runs[scope] = earlier
        return earlier

    def failed_outcome(self, dep: Deployment | None, run: PlannedRun, key: str, reason: str) -> RunOutcome:
        info = self.target.describe()
        header = run_header(key=key, session=self.plan.session, model=run.model, target=self.target.name,
                            device_id=info.device_id, config=run.config, protocol=self.plan.protocol.name,
                            repeat=run.repeat, provenance=Provenance(info.device_kind),
                            harness_build_id=dep.harness_build_id if dep else None,
                            runtime_sha256=dep.runtime_sha256 if dep else None)
        return RunOutcome(header.failed(reason), (), ())


def _shape_key(shape_plan: ShapePlan | None) -> list[list[Any]]:
    return shape_plan.key() if shape_plan is not None else []


def _protocol_json(protocol: ResolvedProtocol) -> dict[str, object]:
    return {"preset": protocol.preset.to_json(), "effective": protocol.effective.to_json()}
