"""`lab status`, `lab cancel`, `lab retry`: the queue's state per session, host and device, from the database."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text

from edgebench.errors import UsageError
from edgebench.lab.devices import AnnouncedDevice, announced
from edgebench.lab.plan import MEASURE_TASK
from edgebench.lab.queue import Lab
from edgebench.lab.tables import lab_sessions

JOB_STATES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborting", "aborted")
_COUNTS = text("SELECT args->>'session' AS session, args->>'serial' AS serial, status::text AS status, count(*) AS n "
               "FROM procrastinate_jobs WHERE task_name = :task AND (CAST(:session AS text) IS NULL OR "
               "args->>'session' = :session) GROUP BY 1, 2, 3")
_JOBS = text("SELECT id, status::text AS status FROM procrastinate_jobs WHERE task_name = :task "
             "AND args->>'session' = :session")


@dataclass(frozen=True)
class DeviceStatus:
    announced: AnnouncedDevice  # as its worker announced it
    heartbeat_age_s: float
    alive: bool  # heartbeat within the stall timeout and not stopped


@dataclass(frozen=True)
class SessionStatus:
    session: str
    submitted_at_utc: str
    submitted_by: str
    jobs: dict[str, int]  # job state -> count
    per_device: dict[str, dict[str, int]] = field(default_factory=dict)  # serial -> state -> count

    @property
    def finished(self) -> bool:
        return self.jobs.get("todo", 0) == 0 and self.jobs.get("doing", 0) == 0


@dataclass(frozen=True)
class LabStatus:
    devices: tuple[DeviceStatus, ...]
    sessions: tuple[SessionStatus, ...]

    def to_json(self) -> dict[str, Any]:
        return {"devices": [{**d.announced.__dict__, "heartbeat_age_s": round(d.heartbeat_age_s, 1), "alive": d.alive}
                            for d in self.devices],
                "sessions": [{"session": s.session, "submitted_at_utc": s.submitted_at_utc,
                              "submitted_by": s.submitted_by, "jobs": s.jobs, "per_device": s.per_device,
                              "finished": s.finished} for s in self.sessions]}


def lab_status(lab: Lab, *, session: str | None, stall_s: float) -> LabStatus:
    announced_rows, now = announced(lab.engine)
    devices = tuple(_device_status(d, now, stall_s) for d in announced_rows)
    with lab.engine.connect() as conn:
        query = select(lab_sessions.c.session, lab_sessions.c.submitted_at_utc, lab_sessions.c.submitted_by)
        if session is not None:
            query = query.where(lab_sessions.c.session == session)
        rows = conn.execute(query.order_by(lab_sessions.c.submitted_at_utc)).all()
        counts = conn.execute(_COUNTS, {"task": MEASURE_TASK, "session": session}).mappings().all()
    if session is not None and not rows:
        raise UsageError(f"no lab session {session!r} on {lab.store.shown}. `edgebench lab status` lists them.")
    sessions = []
    for name, submitted, by in rows:
        jobs: dict[str, int] = {state: 0 for state in JOB_STATES}
        per_device: dict[str, dict[str, int]] = {}
        for c in counts:
            if c["session"] == name:
                jobs[c["status"]] = jobs.get(c["status"], 0) + int(c["n"])
                per_device.setdefault(c["serial"], {})[c["status"]] = int(c["n"])
        sessions.append(SessionStatus(name, submitted, by, jobs, per_device))
    return LabStatus(devices, tuple(sessions))


def _device_status(d: AnnouncedDevice, now: dt.datetime, stall_s: float) -> DeviceStatus:
    age = d.age_s(now)
    return DeviceStatus(d, age, d.state != "stopped" and age <= stall_s)


def cancel_session(lab: Lab, session: str) -> tuple[int, int]:
    """Waiting jobs are cancelled, running ones asked to stop (their run is not stored). Returns (cancelled,
    stopping)."""
    jobs = _session_jobs(lab, session)
    app = lab.app()
    cancelled = stopping = 0
    with app.open():
        for job_id, status in jobs:
            if status in ("todo", "doing") and app.job_manager.cancel_job_by_id(job_id, abort=True):
                cancelled += status == "todo"
                stopping += status == "doing"
    return cancelled, stopping


def retry_session(lab: Lab, session: str, *, states: tuple[str, ...] = ("failed",)) -> int:
    """Jobs of the session in `states` go back into their device's queue; returns how many."""
    jobs = [(i, s) for i, s in _session_jobs(lab, session) if s in states]
    app = lab.app()
    with app.open():
        for job_id, _status in jobs:
            app.job_manager.retry_job_by_id(job_id, retry_at=dt.datetime.now(dt.timezone.utc))
    return len(jobs)


def _session_jobs(lab: Lab, session: str) -> list[tuple[int, str]]:
    with lab.engine.connect() as conn:
        known = conn.execute(select(lab_sessions.c.session).where(lab_sessions.c.session == session)).first()
        if known is None:
            raise UsageError(f"no lab session {session!r} on {lab.store.shown}. `edgebench lab status` lists them.")
        return [(int(r[0]), str(r[1])) for r in conn.execute(_JOBS, {"task": MEASURE_TASK, "session": session})]
