"""`lab submit`: a measurement session into the queue, one job per model × config × repeat × device.

Everything is checked before anything is queued (the models are readable, the protocol's values, at
least one live device matches), so a refused submission leaves nothing behind. The model files go into
the database: the hosts of a lab share no filesystem.
"""
from __future__ import annotations

import getpass
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import procrastinate.jobs
from sqlalchemy import delete, insert, select

from edgebench.bench.execute import utc_now
from edgebench.bench.session import load_models, new_session_id
from edgebench.errors import UsageError
from edgebench.lab.devices import live, matching, parse_condition
from edgebench.lab.plan import MEASURE_TASK, LabModel, LabPlan, device_lock, device_queue
from edgebench.lab.queue import Lab
from edgebench.lab.tables import lab_models, lab_sessions
from edgebench.store import ResultsStore
from edgebench.store.engine import write_transaction
from edgebench.version import __version__


@dataclass(frozen=True)
class Submitted:
    session: str
    jobs: int
    serials: tuple[str, ...]
    device_models: tuple[str, ...]  # the distinct models of the devices it runs on


def submit(lab: Lab, results: ResultsStore, model_paths: Sequence[str | os.PathLike[str]], *, protocol: str,
           overrides: Mapping[str, Any], threads: Sequence[int], accelerators: Sequence[str], cpu_mask: str | None,
           input_shapes: Sequence[str] | None, device_conditions: Sequence[str], stall_s: float,
           command: str, one_device_model: bool = False) -> Submitted:
    """Queue the session; `one_device_model`: refuse conditions that match devices of several models (a
    tuning trial's latency must come from one kind of phone)."""
    models, problems = load_models(model_paths)
    if problems:
        raise UsageError("nothing was queued: " + "; ".join(p.message for p in problems))
    conditions = [parse_condition(c) for c in device_conditions]
    plan = LabPlan(protocol=protocol, overrides=dict(overrides), threads=tuple(threads),
                   accelerators=tuple(accelerators), cpu_mask=cpu_mask,
                   input_shapes=tuple(input_shapes) if input_shapes else None,
                   models=tuple(LabModel(m.sha256, m.name, m.size_bytes) for m in models), devices=())
    plan.resolved_protocol()  # refuses bad values before anything is queued
    reachable = live(lab.engine, stall_s)
    if not reachable:
        raise UsageError(f"nothing was queued: no lab worker has announced a device in the last {stall_s:g} s on "
                         f"{lab.store.shown}. Start `edgebench lab worker --store URL` on the hosts with phones.")
    chosen = matching(reachable, conditions)
    wanted = " or ".join(", ".join(f"{k}={v}" for k, v in c.items()) for c in conditions)
    if not chosen:
        have = "; ".join(f"{d.serial} (model={d.model}, abi={d.abi}, host={d.host})" for d in reachable)
        raise UsageError(f"nothing was queued: no live device matches --devices {wanted!r}. Live devices: {have}.")
    kinds = tuple(sorted({d.model or d.abi for d in chosen}))
    if one_device_model and len(kinds) > 1:
        raise UsageError(f"nothing was queued: {wanted or 'every live device'!r} matches devices of {len(kinds)} "
                         f"models ({', '.join(kinds)}); one latency cannot mix them. Name one, e.g. "
                         f"lab:model={kinds[0]}.")
    plan = LabPlan(**{**plan.__dict__, "devices": tuple(sorted((d.device_id, d.serial) for d in chosen))})
    session = new_session_id()
    _upload(lab, models)
    results.add_session(session, started_at_utc=utc_now(), command=command, host=socket.gethostname(),
                        version=__version__)
    for m in models:
        results.upsert_variant(m.sha256, m.name, m.size_bytes, {"path": str(m.path)})
    with write_transaction(lab.engine) as conn:
        conn.execute(insert(lab_sessions).values(session=session, submitted_at_utc=utc_now(),
                                                 submitted_by=f"{getpass.getuser()}@{socket.gethostname()}",
                                                 plan_json=plan.to_json()))
    jobs = plan.job_kwargs(session)
    app = lab.app()
    try:
        with app.open():  # every job in one statement: a submission is queued whole or not at all
            app.job_manager.batch_defer_jobs([
                procrastinate.jobs.Job(queue=device_queue(j["device_id"]), lock=device_lock(j["device_id"]),
                                       queueing_lock=None, task_name=MEASURE_TASK, task_kwargs=j) for j in jobs])
    except BaseException:
        with write_transaction(lab.engine) as conn:
            conn.execute(delete(lab_sessions).where(lab_sessions.c.session == session))
        raise
    return Submitted(session, len(jobs), tuple(serial for _id, serial in plan.devices), kinds)


def _upload(lab: Lab, models: Sequence[Any]) -> None:
    with write_transaction(lab.engine) as conn:
        for m in models:
            if conn.execute(select(lab_models.c.model_sha256).where(lab_models.c.model_sha256 == m.sha256)).first():
                continue
            conn.execute(insert(lab_models).values(model_sha256=m.sha256, name=m.name, size_bytes=m.size_bytes,
                                                   content=Path(m.path).read_bytes()))


def load_plan(lab: Lab, session: str) -> LabPlan:
    with lab.engine.connect() as conn:
        row = conn.execute(select(lab_sessions.c.plan_json).where(lab_sessions.c.session == session)).first()
    if row is None:
        raise UsageError(f"no lab session {session!r} on {lab.store.shown}. `edgebench lab status` lists them.")
    return LabPlan.from_json(row[0])
