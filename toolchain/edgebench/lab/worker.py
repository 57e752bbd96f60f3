"""`lab worker`: serve the devices this host reaches, taking their jobs from the lab's queue.

One procrastinate worker per process, one queue and one lock per device (a job of device X waits for
a worker that reaches X; two jobs never run on X at once, whichever workers reach it). Beside the
queue's own worker heartbeat, this process refreshes its devices' rows (`lab status`), and puts back
into the queue the jobs of workers whose heartbeat stopped (SIGKILL, power loss, a pulled cable):
procrastinate marks them stalled, any live worker re-queues them, and the one that reaches the device
runs them. A run stored before its worker died is not stored again: the run key is unique.

The database going away stops the queue's worker; this process waits for it (backoff, up to the
outage budget) and starts again, while the devices finish the runs in flight.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import os
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from edgebench.errors import StoreError, StoreUnreachableError, UsageError
from edgebench.lab import devices as announced_devices
from edgebench.lab.devices import AnnouncedDevice, utc_now
from edgebench.lab.jobs import JobRunner, JobSpec
from edgebench.lab.plan import MEASURE_TASK, device_queue
from edgebench.lab.queue import Lab
from edgebench.store import StoreOutageError
from edgebench.store.engine import driver_reason, is_connection_loss
from edgebench.targets.base import Target

OUTAGE_BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)  # then every 8 s


class DatabaseLost(StoreError):
    """The queue's worker stopped on its own: its heartbeat could not reach the database."""
DOING_HERE = text("SELECT id FROM procrastinate_jobs WHERE status = 'doing' AND worker_id = ANY(:workers)")
JOBS_LEFT = text("SELECT count(*) FROM procrastinate_jobs WHERE queue_name = ANY(:queues) AND status IN ('todo', 'doing')")


@dataclass(frozen=True)
class WorkerSettings:
    heartbeat_s: float = 5.0  # how often this worker says it is alive
    stall_s: float = 30.0  # a worker silent this long is dead: its jobs go back into the queue
    db_outage_s: float = 120.0  # how long to wait for the database before stopping
    until_idle: bool = False  # stop once no job is waiting for (or running on) these devices


class LabWorker:
    def __init__(self, lab: Lab, runner: JobRunner, targets: Sequence[tuple[Target, AnnouncedDevice]],
                 settings: WorkerSettings, say: Callable[[str], None]) -> None:
        self.lab = lab
        self.runner = runner
        self.devices = [d for _t, d in targets]
        self.settings = settings
        self.say = say
        self.name = self.devices[0].worker
        self.queues = [device_queue(d.device_id) for d in self.devices]
        self._stopping = False
        self._worker_task: asyncio.Task[Any] | None = None
        self._outage_since: float | None = None  # monotonic time the database was first found gone
        self._failure: BaseException | None = None  # why the worker stopped, raised once its jobs are done
        self._requeue_from = 0.0  # monotonic time from which stalled jobs may be re-queued
        self._running: dict[int, int | None] = {}  # job id -> the queue worker's id, of jobs running here
        self._queue_worker_ids: set[int] = set()  # the queue's ids of this process's workers, past and present
        self._orphan_candidates: set[int] = set()
        self._states: dict[str, tuple[str, int | None, str | None]] = {d.serial: ("idle", None, None)
                                                                        for d in self.devices}
        self._quick_restarts = 0  # the queue's worker stopping while the database answers

    def run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        loop = asyncio.get_running_loop()
        # Jobs (sync, on the default executor), heartbeats and outbox work share one pool: a thread per
        # device and some to spare, so the heartbeat never waits behind measuring devices.
        loop.set_default_executor(ThreadPoolExecutor(max_workers=len(self.devices) + 4, thread_name_prefix="edgebench-lab"))
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._request_stop)
        try:
            while not self._stopping:
                try:
                    await asyncio.to_thread(announced_devices.announce, self.lab.engine, self._fresh_rows())
                    await self._database_back()
                    await self._serve()
                except Exception as exc:  # noqa: BLE001 - only a lost database is waited for; others re-raised
                    if not _is_connection_loss(exc):
                        raise
                    self._database_lost(exc)
                    await self._wait_for_database(exc)
                    if self._outage_s() < 1.0 and isinstance(exc, DatabaseLost):
                        self._quick_restarts += 1
                        if self._quick_restarts >= 3:  # not an outage: something else stops the queue's worker
                            raise StoreError(f"the lab's queue worker stopped {self._quick_restarts} times in a row "
                                             f"while {self.lab.store.shown} answered; run with --verbose to see "
                                             "procrastinate's reason") from exc
            if self._failure is not None:
                raise self._failure
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            await asyncio.to_thread(self._mark_stopped)

    def _request_stop(self) -> None:
        if self._stopping:  # a second Ctrl-C: stop the runs in flight too (not stored; their jobs run again)
            self.runner.stop.set()
            return
        self.say("stopping: the jobs in flight finish first (Ctrl-C again to stop them now)")
        self._stop_serving()

    def _stop_serving(self) -> None:
        self._stopping = True
        if self._worker_task is not None:
            self._worker_task.cancel()

    async def _serve(self) -> None:
        app = self.lab.app(measure=self._measure)
        async with app.open_async():
            await self._requeue_stalled(app)
            self._worker_task = asyncio.create_task(app.run_worker_async(
                queues=self.queues, concurrency=len(self.devices), name=self.name, install_signal_handlers=False,
                update_heartbeat_interval=self.settings.heartbeat_s, stalled_worker_timeout=self.settings.stall_s,
                fetch_job_polling_interval=self.settings.heartbeat_s, abort_job_polling_interval=1.0))
            side = asyncio.create_task(self._side_loop(app))
            try:
                await self._worker_task
            except asyncio.CancelledError:
                if not self._stopping:
                    raise
            finally:
                side.cancel()
                await asyncio.gather(side, return_exceptions=True)
                self._worker_task = None
        if not self._stopping:  # the queue's worker stopped by itself: its heartbeat failed
            raise DatabaseLost(f"the lab's queue worker stopped: lost {self.lab.store.shown}")

    async def _side_loop(self, app: Any) -> None:
        """Heartbeat of the device rows, re-queueing of stalled jobs, --until-idle; an outage is waited out
        here too (the queue's own connection pool waits for the database while it is short)."""
        idle_since: float | None = None
        ran_jobs = False
        try:
            while True:
                await asyncio.sleep(self.settings.heartbeat_s)
                try:
                    await asyncio.to_thread(announced_devices.beat, self.lab.engine, self.name, dict(self._states))
                    await self._database_back()
                    # The queue's worker stops its own heartbeat first when it shuts down, then waits for the
                    # jobs in flight: they must not look stalled to the other workers meanwhile.
                    for worker_id in {w for w in self._running.values() if w is not None}:
                        await app.job_manager.update_heartbeat(worker_id)
                    await self._requeue_stalled(app)
                    await self._requeue_orphans(app)
                    self._quick_restarts = 0  # a heartbeat went round: the queue's worker runs
                    left = await asyncio.to_thread(self._jobs_left) if self.settings.until_idle else 0
                except Exception as exc:  # noqa: BLE001 - only a lost database is waited for; others re-raised
                    if not _is_connection_loss(exc):
                        raise
                    self._database_lost(exc)
                    if self._outage_s() > self.settings.db_outage_s:
                        raise self._outage_error(exc) from exc
                    continue
                if not self.settings.until_idle:
                    continue
                if left > 0:
                    idle_since, ran_jobs = None, True
                    continue
                idle_since = idle_since or time.monotonic()
                # Idle right after a job, or for a stall timeout from the start (time for a `lab submit`).
                if ran_jobs or time.monotonic() - idle_since >= self.settings.stall_s:
                    self.say("no job left for these devices: stopping (--until-idle)")
                    self._stop_serving()
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - reported by _main once the jobs in flight are done
            self._failure = exc
            self._stop_serving()

    def _database_lost(self, exc: BaseException) -> None:
        if self._outage_since is None:
            self._outage_since = time.monotonic()
            self.say(f"lost the lab's database {self.lab.store.shown} ({_reason(exc)}); waiting for it for up to "
                     f"{self.settings.db_outage_s:g} s (--db-outage) while the runs in flight finish")

    def _outage_s(self) -> float:
        return time.monotonic() - self._outage_since if self._outage_since is not None else 0.0

    async def _database_back(self) -> None:
        if self._outage_since is None:
            return
        self.say(f"the lab's database is back after {self._outage_s():.0f} s")
        self._outage_since = None
        # Every worker's heartbeat stopped with the database: give the live ones a stall timeout to beat
        # again before taking their running jobs for dead ones.
        self._requeue_from = time.monotonic() + self.settings.stall_s
        # Store what waited on disk before taking jobs again: a re-queued job finds its run stored.
        await asyncio.to_thread(self.runner.outbox.drain)

    def _outage_error(self, exc: BaseException) -> StoreError:
        return StoreError(f"the lab's database {self.lab.store.shown} was unreachable for {self._outage_s():.0f} s "
                          f"(--db-outage {self.settings.db_outage_s:g}; {_reason(exc)}); this worker stopped. Runs "
                          f"it measured are kept in {self.runner.workspace.root / 'outbox'} and stored when a worker "
                          "of this workspace starts again.")

    async def _requeue_stalled(self, app: Any) -> None:
        """Jobs whose worker stopped heartbeating go back into their device's queue (any live worker does
        this; two doing it at once is harmless: the second finds the job no longer running)."""
        if time.monotonic() < self._requeue_from:
            return
        stalled = await app.job_manager.get_stalled_jobs(task_name=MEASURE_TASK,
                                                         seconds_since_heartbeat=self.settings.stall_s)
        if not stalled:
            return
        # The queue's worker may be gone while its process still measures the job (its queue worker stopped
        # on a lost database and waits for the job): that process's device row says so, and is fresh.
        in_flight = await asyncio.to_thread(announced_devices.jobs_in_flight, self.lab.engine, self.settings.stall_s)
        for job in stalled:
            if job.id in self._running or job.id in in_flight:
                continue
            try:
                await app.job_manager.retry_job(job)
            except Exception as exc:  # noqa: BLE001 - another worker re-queued it first
                logging.getLogger(__name__).debug("re-queueing job %s: %s", job.id, exc)
                continue
            self.say(f"re-queued job {job.id} of device {job.task_kwargs.get('serial')}: its worker stopped "
                     f"heartbeating for {self.settings.stall_s:g} s")

    async def _requeue_orphans(self, app: Any) -> None:
        """Jobs the queue lists as running here that are not: their end could not be recorded while the
        database was away (the queue's worker lived on through it). Left so, they would hold their device's
        lock for ever; back into the queue, they find their run stored."""
        if not self._queue_worker_ids:
            return
        ids = await asyncio.to_thread(self._doing_here) - set(self._running)
        # Seen twice, a heartbeat apart: a job just taken is listed before its function starts here.
        orphans, self._orphan_candidates = ids & self._orphan_candidates, ids
        for job_id in orphans:
            await app.job_manager.retry_job_by_id_async(job_id, retry_at=utc_now())
            self.say(f"re-queued job {job_id}: its end was not recorded while the database was away")

    def _doing_here(self) -> set[int]:
        with self.lab.engine.connect() as conn:
            rows = conn.execute(DOING_HERE, {"workers": sorted(self._queue_worker_ids)})
            return {int(r[0]) for r in rows}

    def _jobs_left(self) -> int:
        with self.lab.engine.connect() as conn:
            return int(conn.execute(JOBS_LEFT, {"queues": self.queues}).scalar_one())

    def _measure(self, context: Any, **kwargs: Any) -> str:
        job = JobSpec(**kwargs)
        self._running[context.job.id] = context.job.worker_id
        if context.job.worker_id is not None:
            self._queue_worker_ids.add(context.job.worker_id)
        try:
            return self._measure_job(context, job)
        finally:
            self._running.pop(context.job.id, None)

    def _measure_job(self, context: Any, job: JobSpec) -> str:
        started = time.perf_counter()
        self.runner.results.reset()
        self._set_state(job.serial, "measuring", context.job.id, job.session)
        state_s = time.perf_counter() - started
        try:
            outcome = self.runner.run(job, context.should_abort)
        except Exception as exc:
            self.say(f"job {context.job.id} on {job.serial} failed: {_reason(exc)}")
            raise
        finally:
            before = time.perf_counter()
            self._set_state(job.serial, "idle", None, None)
            state_s += time.perf_counter() - before
        database_ms = (state_s + self.runner.results.seconds()) * 1000
        self.say(f"job {context.job.id} on {job.serial} done in {time.perf_counter() - started:.2f} s "
                 f"(database {database_ms:.0f} ms): {outcome}")
        return outcome

    async def _wait_for_database(self, exc: BaseException) -> None:
        for attempt in itertools.count():
            if self._stopping:  # Ctrl-C while waiting: what was measured waits on disk for the next start
                return
            remaining_s = self.settings.db_outage_s - self._outage_s()
            if remaining_s <= 0:
                raise self._outage_error(exc)
            await asyncio.sleep(min(OUTAGE_BACKOFF_S[min(attempt, len(OUTAGE_BACKOFF_S) - 1)], remaining_s + 0.1))
            if await asyncio.to_thread(self._database_answers):
                return

    def _set_state(self, serial: str, state: str, job_id: int | None, session: str | None) -> None:
        """The device's row for `lab status`; while the database is away it catches up at the next heartbeat."""
        self._states[serial] = (state, job_id, session)  # the next heartbeat writes it if this cannot
        try:
            announced_devices.set_state(self.lab.engine, self.name, serial, state, job_id, session)
        except Exception as exc:  # noqa: BLE001 - only a lost database is let pass
            if not _is_connection_loss(exc):
                raise

    def _database_answers(self) -> bool:
        try:
            with self.lab.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - any failure means: not yet
            return False

    def _fresh_rows(self) -> list[AnnouncedDevice]:
        now = utc_now().isoformat()
        return [AnnouncedDevice(**{**d.__dict__, "state": "idle", "job_id": None, "session": None,
                                   "last_heartbeat_utc": now}) for d in self.devices]

    def _mark_stopped(self) -> None:
        try:
            for d in self.devices:
                announced_devices.set_state(self.lab.engine, self.name, d.serial, "stopped", None, None)
        except Exception:  # noqa: BLE001 - the database is away: the rows turn stale instead
            pass


def worker_name() -> str:
    return f"{socket.gethostname()}/{os.getpid()}"


def _is_connection_loss(exc: BaseException) -> bool:
    """A lost or refused database connection, however it is wrapped: SQLAlchemy's (the store's own test),
    psycopg's directly or under procrastinate's ConnectorException, psycopg_pool's timeout, the store's."""
    import psycopg
    import psycopg_pool

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, StoreOutageError):  # the outbox gave up (budget spent, or a refused run): fatal
            return False
        if isinstance(seen, (DatabaseLost, StoreUnreachableError, psycopg_pool.PoolTimeout)):
            return True
        if isinstance(seen, DBAPIError):
            return is_connection_loss(seen)
        if isinstance(seen, psycopg.OperationalError):
            sqlstate = getattr(seen, "sqlstate", None)
            return sqlstate is None or sqlstate.startswith("08") or sqlstate.startswith("57P")
        if isinstance(seen, psycopg.InterfaceError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _reason(exc: BaseException) -> str:
    if isinstance(exc, DBAPIError):
        return driver_reason(exc)
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def check_settings(settings: WorkerSettings) -> WorkerSettings:
    if not 0.2 <= settings.heartbeat_s <= 300:
        raise UsageError(f"--heartbeat takes seconds from 0.2 to 300. Received: {settings.heartbeat_s:g}.")
    if not settings.heartbeat_s * 3 <= settings.stall_s <= 24 * 3600:
        raise UsageError(f"--stall-timeout takes at least three heartbeats ({settings.heartbeat_s * 3:g} s) and at "
                         f"most a day. Received: {settings.stall_s:g}.")
    if not 0 <= settings.db_outage_s <= 7 * 24 * 3600:
        raise UsageError(f"--db-outage takes seconds from 0 to a week. Received: {settings.db_outage_s:g}.")
    return settings
