"""The results store: open (creating or checking the schema), write a run in one transaction, read back.

A SQLite file in the workspace by default, or a PostgreSQL database shared by a lab's hosts (store/engine.py
reads the URL): the same code for both. A crash mid-write leaves no half run: every run and its samples go
in one transaction; a run key is stored once however many writers race on it.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from sqlalchemy import and_, Connection, Engine, delete, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from edgebench.errors import StoreError, StoreUnreachableError
from edgebench.records import Check, EnergyResult, RunRecord
from edgebench.store import schema as t
from edgebench.store.engine import (create_store_engine, driver_reason, is_connection_loss, parse_store_url,
                                    write_transaction)
from edgebench.store.migrate import ensure_schema
from edgebench.store.run_rows import energy_row, record_from_row, run_row, stats_row


@dataclass(frozen=True)
class LatencySample:
    phase: str  # warmup | timed
    index: int
    latency_us: float
    start_ns: int | None


@dataclass(frozen=True)
class DeviceSample:
    t_ns: int
    channel: str
    value_text: str | None


@dataclass(frozen=True)
class SavedRun:
    """What the store holds for a run after `save_run`: the record given, or (written=False) the row another
    writer stored first under the same run key, which is kept."""

    record: RunRecord
    written: bool


# A writer that loses a race retries its transaction and then reads the winner's rows; more rounds than
# writers of one run key never happen in practice, the bound only stops a livelock.
_CONFLICT_ROUNDS = 8


class ResultsStore:
    """All reads and writes of results. Thread-safe for one process (one engine, short transactions); any
    number of processes and hosts may write to one PostgreSQL store (or one SQLite file on one host)."""

    def __init__(self, location: str | Path) -> None:
        where = parse_store_url(location)
        self.url = where.shown  # password hidden: this is printed in messages
        self.backend = where.backend
        self.engine: Engine = create_store_engine(where)
        try:
            self._ensure_schema()
        except BaseException:
            self.engine.dispose()
            raise

    # -- schema -------------------------------------------------------------------------------
    def _ensure_schema(self) -> None:
        try:
            with write_transaction(self.engine) as conn:
                ensure_schema(conn, self.url)
        except DBAPIError as exc:
            raise StoreError(f"cannot open results store {self.url}: {driver_reason(exc)}") from exc

    # -- sessions -----------------------------------------------------------------------------
    def add_session(self, session: str, *, started_at_utc: str, command: str, host: str,
                    version: str) -> None:
        with self._reporting("adding session " + session), write_transaction(self.engine) as conn:
            conn.execute(insert(t.sessions).values(session=session, started_at_utc=started_at_utc,
                                                   command=command, host=host, edgebench_version=version))

    def has_session(self, session: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(t.sessions.c.session).where(t.sessions.c.session == session)).first() is not None

    def latest_session(self) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.sessions.c.session)
                               .order_by(t.sessions.c.started_at_utc.desc(), t.sessions.c.session.desc())).first()
        return row[0] if row else None

    def stored_run_statuses(self, session: str) -> dict[str, str]:
        """run_key -> status of every run stored for the session."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.runs.c.run_key, t.runs.c.status).where(t.runs.c.session == session))
            return {key: status for key, status in rows}

    # -- writes -------------------------------------------------------------------------------
    def upsert_device(self, device_id: str, device_kind: str, info: Mapping[str, Any]) -> None:
        values = dict(device_id=device_id, device_kind=device_kind,
                      manufacturer=info.get("manufacturer"), model=info.get("model"), soc=info.get("soc"),
                      abi=info.get("abi"), os_version=info.get("os_version"),
                      info_json=json.dumps(info, sort_keys=True, default=str))

        def write(conn: Connection) -> None:
            exists = conn.execute(select(t.devices.c.device_id).where(t.devices.c.device_id == device_id)).first()
            if exists:
                conn.execute(t.devices.update().where(t.devices.c.device_id == device_id).values(**values))
            else:
                conn.execute(insert(t.devices).values(**values))
        self._write_until_settled(write, f"storing device {device_id}")

    def upsert_variant(self, model_sha256: str, name: str, size_bytes: int, info: Mapping[str, Any]) -> None:
        def write(conn: Connection) -> None:
            exists = conn.execute(select(t.variants.c.model_sha256)
                                  .where(t.variants.c.model_sha256 == model_sha256)).first()
            if not exists:
                conn.execute(insert(t.variants).values(model_sha256=model_sha256, name=name, size_bytes=size_bytes,
                                                       info_json=json.dumps(info, sort_keys=True, default=str)))
        self._write_until_settled(write, f"storing model {name}")

    def save_run(self, record: RunRecord, protocol_json: Mapping[str, Any],
                 latency_samples: Sequence[LatencySample] = (),
                 device_samples: Sequence[DeviceSample] = (), energy: EnergyResult | None = None) -> SavedRun:
        """Store one run with its checks, summary, raw samples and (battery runs) energy atomically.

        Idempotent per run key: a stored *failed* attempt with the same key (a resumed session re-doing
        it) is moved to run_attempts in the same transaction; an ok or invalid one is never overwritten,
        and is returned instead (written=False). Of writers racing on one key (several hosts), one wins;
        the others read the winner's row: a run is never stored twice, nor lost.
        """
        with self._reporting(f"storing run {record.run_id}"):
            for _ in range(_CONFLICT_ROUNDS):
                seen = self._stored_run_identity(record.run_key)
                try:
                    with write_transaction(self.engine) as conn:
                        written = _write_run(conn, record, protocol_json, latency_samples, device_samples, energy)
                except IntegrityError:
                    # Another writer stored this key between our read and our insert (PostgreSQL lets
                    # both read; the unique run key refuses the second): the next round reads its row.
                    # If the stored row did not change, the conflict is this row's own (e.g. a NULL in
                    # a required column): that is a bug to see, not a race to retry.
                    if self._stored_run_identity(record.run_key) == seen:
                        raise
                    continue
                if written:
                    return SavedRun(record, written=True)
                (winner,) = self._runs(t.runs.c.run_key == record.run_key)
                return SavedRun(winner, written=False)
        raise StoreError(f"run {record.run_id} ({record.run_key[:12]}) changed under {_CONFLICT_ROUNDS} attempts "
                         f"to store it in {self.url}: other writers keep replacing it. Stop the other writers of "
                         "this session and resume it (push-and-run --resume).")

    def _stored_run_identity(self, run_key: str) -> tuple[Any, ...] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.runs.c.run_id, t.runs.c.status, t.runs.c.started_at_utc)
                               .where(t.runs.c.run_key == run_key)).first()
        return tuple(row) if row is not None else None

    def _write_until_settled(self, write: Callable[[Connection], None], what: str) -> None:
        """Run a check-then-insert `write` in a transaction; when another writer inserted the same key in
        between (IntegrityError), run it again: it then finds their row and leaves it."""
        with self._reporting(what):
            for round_ in range(_CONFLICT_ROUNDS):
                try:
                    with write_transaction(self.engine) as conn:
                        write(conn)
                    return
                except IntegrityError:
                    if round_ == _CONFLICT_ROUNDS - 1:
                        raise

    @contextmanager
    def _reporting(self, what: str) -> Iterator[None]:
        """A lost connection or a value the database refuses becomes a StoreError that says so; a broken
        constraint (IntegrityError) stays what it is: a bug to see."""
        try:
            yield
        except IntegrityError:
            raise
        except DBAPIError as exc:
            if is_connection_loss(exc):  # worth waiting for: store/buffered.py does, within --db-outage
                raise StoreUnreachableError(
                    f"{what} in results store {self.url} failed: {driver_reason(exc)}. Check that the database is "
                    "reachable; the run folders on this host keep what was measured.") from exc
            if isinstance(exc, (OperationalError, InterfaceError)):
                raise StoreError(f"{what} in results store {self.url} failed: {driver_reason(exc)}. Check that the "
                                 "database is reachable; the run folders on this host keep what was measured.") from exc
            raise StoreError(f"{what} in results store {self.url} was refused: {driver_reason(exc)}") from exc

    # -- lineage ------------------------------------------------------------------------------
    def save_lineage(self, artifacts: Sequence[Mapping[str, Any]], links: Sequence[Mapping[str, Any]]) -> None:
        """Add artifacts and the links between them in one transaction; what is stored already stays.
        Another process adding some of the same rows at once: the retry sees them and adds only the rest."""
        self._write_until_settled(lambda conn: _write_lineage(conn, artifacts, links), "storing lineage")

    def artifact(self, artifact_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.artifacts).where(t.artifacts.c.artifact_id == artifact_id)).mappings().first()
            return dict(row) if row else None

    def artifact_parents(self, artifact_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.artifact_links).where(t.artifact_links.c.child_id == artifact_id)
                                .order_by(t.artifact_links.c.parent_id, t.artifact_links.c.detail)).mappings()
            return [dict(r) for r in rows]

    def find_ids(self, prefix: str) -> list[tuple[str, str]]:
        """(what, id) of runs and artifacts whose id starts with `prefix`."""
        like = prefix.lower() + "%"
        with self.engine.connect() as conn:
            runs = conn.execute(select(t.runs.c.run_id).where(t.runs.c.run_id.like(like))).scalars().all()
            arts = conn.execute(select(t.artifacts.c.artifact_id).where(t.artifacts.c.artifact_id.like(like))
                                ).scalars().all()
            models = conn.execute(select(t.variants.c.model_sha256).where(t.variants.c.model_sha256.like(like))
                                  ).scalars().all()
        return ([("run", r) for r in runs] + [("artifact", a) for a in arts]
                + [("model", m) for m in models if m not in arts])

    def runs_of_model(self, model_sha256: str) -> list[RunRecord]:
        return self._runs(t.runs.c.model_sha256 == model_sha256)

    def run(self, run_id: str) -> RunRecord | None:
        found = self._runs(t.runs.c.run_id == run_id)
        return found[0] if found else None

    # -- reads --------------------------------------------------------------------------------
    def runs(self, session: str | None = None, *, device_id: str | None = None,
             model_sha256: str | None = None) -> list[RunRecord]:
        """Stored runs, of a session (all: None), of one device and model when given (a run's output
        checks compare only those: reading the whole session for each run grows with it)."""
        where = [c == v for c, v in ((t.runs.c.session, session), (t.runs.c.device_id, device_id),
                                     (t.runs.c.model_sha256, model_sha256)) if v is not None]
        return self._runs(and_(*where) if where else None)

    def _runs(self, where: Any = None) -> list[RunRecord]:
        query = select(t.runs, *[c for c in t.summaries.c if c.name != "run_id"]).select_from(
            t.runs.outerjoin(t.summaries, t.runs.c.run_id == t.summaries.c.run_id))
        checks_query = select(t.checks)
        if where is not None:
            query = query.where(where)
            checks_query = checks_query.where(t.checks.c.run_id.in_(select(t.runs.c.run_id).where(where)))
        query = query.order_by(t.runs.c.started_at_utc, t.runs.c.run_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
            check_rows = conn.execute(checks_query).mappings().all()
        checks_by_run: dict[str, list[Check]] = {}
        for c in check_rows:
            checks_by_run.setdefault(c["run_id"], []).append(
                Check(name=c["name"], outcome=c["outcome"], reason=c["reason"], advisory=c["advisory"]))
        return [record_from_row(r, tuple(checks_by_run.get(r["run_id"], ()))) for r in rows]

    def runs_by_ids(self, run_ids: Sequence[str]) -> list[RunRecord]:
        """The stored runs among `run_ids` (ids not stored are left out), oldest first."""
        return [r for chunk in _chunks(run_ids) for r in self._runs(t.runs.c.run_id.in_(chunk))]

    def session_names(self) -> list[str]:
        """Every session, newest first."""
        with self.engine.connect() as conn:
            return list(conn.execute(select(t.sessions.c.session).order_by(
                t.sessions.c.started_at_utc.desc(), t.sessions.c.session.desc())).scalars().all())

    def devices(self, device_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """device_id -> its stored row (device_kind, manufacturer, model, soc, ...)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.devices).where(t.devices.c.device_id.in_(list(device_ids)))).mappings()
            return {r["device_id"]: dict(r) for r in rows}

    def variants(self, model_sha256s: Sequence[str]) -> dict[str, dict[str, Any]]:
        """model_sha256 -> its stored variants row (name, size_bytes, info_json with the path it ran from)."""
        out: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(model_sha256s):
                rows = conn.execute(select(t.variants).where(t.variants.c.model_sha256.in_(chunk))).mappings()
                out.update({r["model_sha256"]: dict(r) for r in rows})
        return out

    def timed_latencies_us(self, run_ids: Sequence[str]) -> dict[str, list[float]]:
        """run_id -> its timed latency samples (µs) in inference order; runs without samples are absent."""
        out: dict[str, list[float]] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(run_ids):
                rows = conn.execute(select(t.latency_samples.c.run_id, t.latency_samples.c.latency_us)
                                    .where(t.latency_samples.c.run_id.in_(chunk), t.latency_samples.c.phase == "timed")
                                    .order_by(t.latency_samples.c.run_id, t.latency_samples.c.idx))
                for run_id, latency_us in rows:
                    out.setdefault(run_id, []).append(float(latency_us))
        return out

    def energy_rows(self, run_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.energy).where(t.energy.c.run_id.in_(list(run_ids)))).mappings()
            return {r["run_id"]: dict(r) for r in rows}

    def device_samples(self, run_id: str) -> list[DeviceSample]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.device_samples).where(t.device_samples.c.run_id == run_id)
                                .order_by(t.device_samples.c.t_ns)).mappings()
            return [DeviceSample(r["t_ns"], r["channel"], r["value_text"]) for r in rows]

    def latency_samples(self, run_id: str) -> list[LatencySample]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.latency_samples).where(t.latency_samples.c.run_id == run_id)
                                .order_by(t.latency_samples.c.phase, t.latency_samples.c.idx)).mappings()
            return [LatencySample(r["phase"], r["idx"], r["latency_us"], r["start_ns"]) for r in rows]

    def table_rows(self, table_name: str) -> Iterable[dict[str, Any]]:
        table = t.metadata.tables[table_name]
        # An order of its own: without one, SQLite and PostgreSQL may hand rows back differently.
        order = list(table.primary_key.columns) or list(table.columns)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(table).order_by(*order)).mappings()]

    def close(self) -> None:
        self.engine.dispose()


def _chunks(ids: Sequence[str], size: int = 500) -> list[list[str]]:
    """Ids in slices small enough for any backend's limit on bound parameters (SQLite's is 999 in old builds)."""
    unique = list(dict.fromkeys(ids))
    return [unique[i:i + size] for i in range(0, len(unique), size)]


def _write_run(conn: Connection, record: RunRecord, protocol_json: Mapping[str, Any],
               latency_samples: Sequence[LatencySample], device_samples: Sequence[DeviceSample],
               energy: EnergyResult | None) -> bool:
    """Write one run in the caller's transaction; False (nothing written) when a finished run holds its key."""
    # FOR UPDATE (PostgreSQL): a second writer replacing the same failed attempt waits here, then finds
    # it gone, instead of deleting rows of the first writer's new run (same run id).
    previous = conn.execute(select(t.runs.c.run_id, t.runs.c.status, t.runs.c.error, t.runs.c.started_at_utc)
                            .where(t.runs.c.run_key == record.run_key).with_for_update()).first()
    if previous is not None:
        if previous.status != "failed":
            return False
        if (record.status == "failed" and previous.started_at_utc == record.started_at_utc
                and previous.error == record.error):
            # The same attempt written again (another process flushed its outbox entry too, or a commit whose
            # answer was lost is retried): not a redo, so no earlier attempt to keep.
            return False
        conn.execute(insert(t.run_attempts).values(
            run_key=record.run_key, run_id=previous.run_id, session=record.session,
            status=previous.status, error=previous.error, started_at_utc=previous.started_at_utc))
        for table in (t.checks, t.summaries, t.latency_samples, t.device_samples, t.energy):
            conn.execute(delete(table).where(table.c.run_id == previous.run_id))
        conn.execute(delete(t.runs).where(t.runs.c.run_id == previous.run_id))
    conn.execute(insert(t.runs).values(**run_row(record, protocol_json)))
    if record.checks:
        conn.execute(insert(t.checks), [
            dict(run_id=record.run_id, name=c.name, outcome=c.outcome, reason=c.reason, advisory=c.advisory)
            for c in record.checks])
    if record.latency is not None:
        conn.execute(insert(t.summaries).values(run_id=record.run_id, **stats_row(record.latency)))
    if latency_samples:
        conn.execute(insert(t.latency_samples), [
            dict(run_id=record.run_id, phase=s.phase, idx=s.index, latency_us=s.latency_us,
                 start_ns=s.start_ns) for s in latency_samples])
    if device_samples:
        conn.execute(insert(t.device_samples), [
            dict(run_id=record.run_id, t_ns=s.t_ns, channel=s.channel, value_text=s.value_text)
            for s in device_samples])
    if energy is not None:
        conn.execute(insert(t.energy).values(run_id=record.run_id, **energy_row(energy)))
    return True


def _write_lineage(conn: Connection, artifacts: Sequence[Mapping[str, Any]],
                   links: Sequence[Mapping[str, Any]]) -> None:
    for a in artifacts:
        known = conn.execute(select(t.artifacts.c.artifact_id)
                             .where(t.artifacts.c.artifact_id == a["artifact_id"])).first()
        if not known:
            conn.execute(insert(t.artifacts).values(**a))
    for link in links:
        link = dict(link)
        same = ((t.artifact_links.c.child_id == link["child_id"])
                & (t.artifact_links.c.parent_id == link["parent_id"]))
        if not link.pop("only_if_new", False):  # only_if_new: skip when any link child -> parent exists
            same = same & (t.artifact_links.c.detail == link["detail"])
        if not conn.execute(select(t.artifact_links.c.child_id).where(same)).first():
            conn.execute(insert(t.artifact_links).values(**link))
