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

from sqlalchemy import insert, select

from edgebench.bench.execute import utc_now
from edgebench.bench.session import load_models, new_session_id
from edgebench.errors import UsageError
from edgebench.lab.devices import announced, live, matching, parse_condition
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


def submit(lab: Lab, results: ResultsStore, model_paths: Sequence[str | os.PathLike[str]], *, protocol: str,
           overrides: Mapping[str, Any], threads: Sequence[int], accelerators: Sequence[str], cpu_mask: str | None,
           input_shapes: Sequence[str] | None, device_conditions: Sequence[str], stall_s: float,
           command: str) -> Submitted:
    models, problems = load_models(model_paths)
    if problems:
        raise UsageError("nothing was queued: " + "; ".join(p.message for p in problems))
    conditions = [parse_condition(c) for c in device_conditions]
    plan = LabPlan(protocol=protocol, overrides=dict(overrides), threads=tuple(threads),
                   accelerators=tuple(accelerators), cpu_mask=cpu_mask,
                   input_shapes=tuple(input_shapes) if input_shapes else None,
                   models=tuple(LabModel(m.sha256, m.name, m.size_bytes) for m in models), serials=())
    plan.resolved_protocol()  # refuses bad values before anything is queued
    reachable = live(announced(lab.engine), stall_s)
    if not reachable:
        raise UsageError(f"nothing was queued: no lab worker has announced a device in the last {stall_s:g} s on "
                         f"{lab.store.shown}. Start `edgebench lab worker --store URL` on the hosts with phones.")
    chosen = matching(reachable, conditions)
    if not chosen:
        wanted = " or ".join(", ".join(f"{k}={v}" for k, v in c.items()) for c in conditions)
        have = "; ".join(f"{d.serial} (model={d.model}, abi={d.abi}, host={d.host})" for d in reachable)
        raise UsageError(f"nothing was queued: no live device matches --devices {wanted!r}. Live devices: {have}.")
    plan = LabPlan(**{**plan.__dict__, "serials": tuple(sorted(d.serial for d in chosen))})
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
    with app.open():
        for serial in plan.serials:
            deferrer = app.configure_task(MEASURE_TASK, queue=device_queue(serial), lock=device_lock(serial))
            deferrer.batch_defer(*[j for j in jobs if j["serial"] == serial])
    return Submitted(session, len(jobs), plan.serials)


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
