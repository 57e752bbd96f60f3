"""The devices lab workers announced: who reaches which phone, in what state, seen when.

A worker writes one row per device it serves and refreshes it every heartbeat; `lab submit` matches
its --devices conditions against the rows refreshed within the stall timeout (the live devices).
Heartbeats are the database's clock (`now()`), never a host's: the hosts of a lab need not agree on time.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Mapping, Sequence

from sqlalchemy import Connection, Engine, delete, select, text, update

from edgebench.errors import UsageError
from edgebench.lab.tables import lab_devices
from edgebench.store.engine import write_transaction

MATCH_KEYS = ("serial", "model", "abi", "host", "device_id")


@dataclass(frozen=True)
class AnnouncedDevice:
    worker: str
    serial: str
    host: str
    device_id: str
    model: str | None
    abi: str
    state: str  # idle | measuring | stopped
    job_id: int | None
    session: str | None
    last_heartbeat_utc: str

    def age_s(self, now: dt.datetime) -> float:
        return (now - dt.datetime.fromisoformat(self.last_heartbeat_utc)).total_seconds()


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def database_now(conn: Connection) -> dt.datetime:
    return conn.execute(text("SELECT now()")).scalar_one()  # type: ignore[no-any-return]


def announce(engine: Engine, devices: Sequence[AnnouncedDevice]) -> None:
    """This worker's rows, replacing those of earlier workers of this host for the same devices that have
    stopped or died (`lab status` would list them as gone forever)."""
    with write_transaction(engine) as conn:
        now = database_now(conn).isoformat()
        for d in devices:
            earlier = conn.execute(select(lab_devices.c.worker, lab_devices.c.state).where(
                lab_devices.c.host == d.host, lab_devices.c.serial == d.serial)).all()
            for worker, state in earlier:
                if worker == d.worker or state == "stopped" or not _alive_here(worker):
                    conn.execute(delete(lab_devices).where(lab_devices.c.worker == worker,
                                                           lab_devices.c.serial == d.serial))
            conn.execute(lab_devices.insert().values(**{**d.__dict__, "last_heartbeat_utc": now}))


def _alive_here(worker: str) -> bool:
    """Whether the worker process (`host/pid`, of this host) still runs."""
    pid_text = worker.rpartition("/")[2]
    if not pid_text.isdigit():
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def beat(engine: Engine, worker: str, states: Mapping[str, tuple[str, int | None, str | None]]) -> None:
    """Refresh this worker's rows with each device's (state, job id, session): a state change the database
    missed while it was away is written with the first heartbeat that reaches it."""
    with write_transaction(engine) as conn:
        now = database_now(conn).isoformat()
        for serial, (state, job_id, session) in states.items():
            conn.execute(update(lab_devices).where(lab_devices.c.worker == worker, lab_devices.c.serial == serial)
                         .values(state=state, job_id=job_id, session=session, last_heartbeat_utc=now))


def set_state(engine: Engine, worker: str, serial: str, state: str, job_id: int | None, session: str | None) -> None:
    with write_transaction(engine) as conn:
        conn.execute(update(lab_devices).where(lab_devices.c.worker == worker, lab_devices.c.serial == serial)
                     .values(state=state, job_id=job_id, session=session,
                             last_heartbeat_utc=database_now(conn).isoformat()))


def announced(engine: Engine) -> tuple[list[AnnouncedDevice], dt.datetime]:
    """Every announced device, and the database's time now (to judge their heartbeats' age by)."""
    with engine.connect() as conn:
        rows = conn.execute(select(lab_devices).order_by(lab_devices.c.host, lab_devices.c.serial)).mappings().all()
        now = database_now(conn)
    return [AnnouncedDevice(**dict(r)) for r in rows], now


def live(engine: Engine, stall_s: float) -> list[AnnouncedDevice]:
    devices, now = announced(engine)
    return [d for d in devices if d.state != "stopped" and d.age_s(now) <= stall_s]


def jobs_in_flight(engine: Engine, stall_s: float) -> set[int]:
    """Jobs a worker says it is measuring, in a device row refreshed within the stall timeout."""
    devices, now = announced(engine)
    return {d.job_id for d in devices if d.state == "measuring" and d.job_id is not None and d.age_s(now) <= stall_s}


def parse_condition(text: str) -> dict[str, str]:
    """`model=Pixel 8,abi=arm64-v8a`: every key must match (case-insensitive)."""
    condition: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        key, eq, value = part.partition("=")
        key = key.strip().lower()
        if not eq or key not in MATCH_KEYS or not value.strip():
            raise UsageError(f"--devices takes KEY=VALUE conditions joined by commas, KEY one of "
                             f"{', '.join(MATCH_KEYS)}, e.g. 'model=Pixel 8' or 'abi=arm64-v8a,host=lab-2'. "
                             f"Received: {text!r}.")
        condition[key] = value.strip()
    return condition


def matching(devices: Sequence[AnnouncedDevice], conditions: Sequence[dict[str, str]]) -> list[AnnouncedDevice]:
    """Devices that meet any one condition (all of its keys); every device without conditions. One device
    reached by two workers is listed once."""
    chosen: dict[str, AnnouncedDevice] = {}
    for d in devices:
        if not conditions or any(all(str(getattr(d, k) or "").lower() == v.lower() for k, v in c.items())
                                 for c in conditions):
            chosen.setdefault(d.device_id, d)
    return list(chosen.values())
