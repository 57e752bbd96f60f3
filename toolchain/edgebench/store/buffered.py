"""Writing runs while the results store may go away for a while (a lab's PostgreSQL restarting, a cable).

`BufferedStore` wraps a ResultsStore for the writers of a measurement session. Every run goes into the
outbox on disk first (store/outbox.py), then to the store; when the store cannot be reached the run
stays in the outbox and a background flusher retries, with exponential backoff, while the devices go
on measuring. When the store has been unreachable for longer than the outage budget (`--db-outage`),
the writers stop with a StoreOutageError that says where the kept runs are and how they get stored.
A killed process loses nothing either: the next session with the workspace stores them first
(`flush_outbox`). Only a lost connection is waited for; any other error of the store is raised.
"""
from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence, TypeVar

from sqlalchemy.exc import DBAPIError

from edgebench.errors import StoreError, StoreUnreachableError
from edgebench.protocols import check_number
from edgebench.records import RunRecord
from edgebench.store.db import DeviceSample, LatencySample, ResultsStore, SavedRun
from edgebench.store.engine import driver_reason, is_connection_loss
from edgebench.store.outbox import OutboxEntry, RunOutbox
from edgebench.workspace import Workspace

DEFAULT_DB_OUTAGE_S = 120.0
MAX_DB_OUTAGE_S = 7 * 24 * 3600.0  # a lab left over a week-end is still a lab; beyond, the flag is a typo
T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """Waits between attempts to reach the store: first_s, doubling, never more than max_s."""

    first_s: float = 0.5
    max_s: float = 5.0  # a lab's database back after a restart is seen within 5 s, not 10

    def delays_s(self) -> Iterator[float]:
        delay = self.first_s
        while True:
            yield delay
            delay = min(delay * 2, self.max_s)


class StoreOutageError(StoreUnreachableError):
    """The store stayed unreachable longer than the outage budget; the measured runs are in the outbox."""


class BufferedStore:
    """The writes of a session's runs, safe against a store that goes away for up to `db_outage_s` seconds.

    Args:
        store: the results store (its other reads and writes stay on it: `buffered.store`).
        workspace: runs are kept in `workspace.outbox` until the store has them.
        db_outage_s: how long (s, 0..MAX_DB_OUTAGE_S) the store may stay unreachable before the writers
            stop; 0 stops at the first failure (the runs are still kept).
        backoff: the waits between attempts.

    One per process is enough and any number may share a workspace (entries are per run key, storing one
    twice is harmless). Thread-safe. Call `flush_outbox()` once before a session starts (it stores what
    earlier processes left), `save_run`/`runs` from the device workers, `raise_if_stopped()` before each
    run, `drain()` at the end of the session and `close()` when done.
    """

    def __init__(self, store: ResultsStore, workspace: Workspace, *, db_outage_s: float = DEFAULT_DB_OUTAGE_S,
                 backoff: Backoff = Backoff()) -> None:
        self.db_outage_s = check_number("--db-outage", db_outage_s, low=0, high=MAX_DB_OUTAGE_S)
        self.store = store
        self.outbox = RunOutbox(workspace.outbox)
        self.backoff = backoff
        self._cond = threading.Condition()
        self._pending: list[tuple[Path, OutboxEntry]] = []  # this process's runs the store does not have yet
        self._flusher: threading.Thread | None = None
        self._closed = threading.Event()
        self._down_since: float | None = None  # time.monotonic() of the first failure of the current outage
        self._last_reason = ""
        self._stopped: StoreError | None = None  # why writing stopped (budget spent, or a write refused)
        # (session, device id or None, model sha256 or None) -> run key -> record, for reads in an outage
        self._known: dict[tuple[str, str | None, str | None], dict[str, RunRecord]] = {}

    # -- writes -------------------------------------------------------------------------------------
    def save_run(self, record: RunRecord, protocol_json: Mapping[str, Any],
                 latency_samples: Sequence[LatencySample] = (),
                 device_samples: Sequence[DeviceSample] = ()) -> SavedRun | None:
        """Keep the run in the outbox, then store it: the stored run (see ResultsStore.save_run), or None
        when the store is unreachable (or older runs are still waiting) and the flusher will store it.
        Raises StoreOutageError (after keeping the run) once the outage budget is spent."""
        entry = OutboxEntry(self.store.url, record, dict(protocol_json), tuple(latency_samples),
                            tuple(device_samples))
        path = self.outbox.put(entry)
        with self._cond:
            if self._pending or self._stopped is not None:  # an outage is on: queue behind the older runs
                self._pending.append((path, entry))
                self._start_flusher()
                self._raise_if_stopped()
                return None
        try:
            saved = self._store_entry(path, entry)
        except StoreUnreachableError as exc:
            with self._cond:
                self._note_down(exc)
                self._pending.append((path, entry))
                self._start_flusher()
            return None
        return saved

    def call(self, write: Callable[[], T]) -> T:
        """`write()` (e.g. `lambda: store.upsert_device(...)`), tried again with backoff while the store is
        unreachable, within the outage budget; StoreOutageError after it. For the few writes a session
        cannot go on without (its device row must exist before its runs are stored)."""
        delays = self.backoff.delays_s()
        while True:
            try:
                result = write()
            except (StoreUnreachableError, DBAPIError) as exc:
                if isinstance(exc, DBAPIError) and not is_connection_loss(exc):
                    raise
                with self._cond:
                    remaining_s = self._note_down(exc)
                    if remaining_s <= 0:
                        raise self._outage_error() from exc
                if self._closed.wait(min(next(delays), remaining_s)):
                    raise self._outage_error() from exc
                continue
            with self._cond:
                self._down_since = None
            return result

    def flush_outbox(self) -> int:
        """Store the runs that earlier processes kept in the outbox for this store (killed, or stopped by an
        outage), oldest first, waiting for the store within the budget. Returns how many there were."""
        entries = self.outbox.entries(self.store.url)
        for path, entry in entries:
            self.call(functools.partial(self._store_entry, path, entry))
        return len(entries)

    # -- reads --------------------------------------------------------------------------------------
    def runs(self, session: str, *, device_id: str | None = None, model_sha256: str | None = None) -> list[RunRecord]:
        """The session's stored runs (of one device and model, when given) and those waiting in this
        process's outbox. While the store cannot be reached: the runs it held at the last read and every
        run written through here since (not asked again until the flusher reached it: a host that drops
        packets would hold each read for the connect timeout)."""
        return self.runs_answer(session, device_id=device_id, model_sha256=model_sha256)[0]

    def runs_answer(self, session: str, *, device_id: str | None = None,
                    model_sha256: str | None = None) -> tuple[list[RunRecord], bool]:
        """runs(), and whether the store itself answered (False: it could not be reached, and the runs are
        what this process knew)."""
        scope = (session, device_id, model_sha256)
        answered = False
        # What waits is read BEFORE the store: a run leaves _pending only once it is committed, so each run is
        # in this list or in the store's answer. (Read after, a run the flusher committed during the store's
        # read was in neither.)
        with self._cond:
            outage_on = self._down_since is not None
            stored = list(self._known.get(scope, {}).values())
            waiting = [e.record for _, e in self._pending if e.record.session == session
                       and device_id in (None, e.record.device_id) and model_sha256 in (None, e.record.model_sha256)]
        if not outage_on:
            try:
                stored = self.store.runs(session, device_id=device_id, model_sha256=model_sha256)
            except DBAPIError as exc:
                if not is_connection_loss(exc):
                    raise
            else:
                answered = True
                with self._cond:
                    # Merged, not replaced: runs stored through here during the read stay known.
                    known = self._known.get(scope, {})
                    self._known[scope] = {**known, **{r.run_key: r for r in stored}}
        keys = {r.run_key for r in stored}
        return stored + [r for r in waiting if r.run_key not in keys], answered

    # -- the session's end and the workers' checks --------------------------------------------------
    def raise_if_stopped(self) -> None:
        """StoreOutageError once the budget is spent (or the StoreError of a run the store refused)."""
        with self._cond:
            self._raise_if_stopped()

    def drain(self) -> None:
        """Wait until the store has every run kept by this process (or raise why it never will)."""
        with self._cond:
            while self._pending and self._stopped is None and not self._closed.is_set():
                self._start_flusher()
                self._cond.wait(timeout=0.5)
            self._raise_if_stopped()

    def waiting(self) -> int:
        """Runs of this process the store does not have yet."""
        with self._cond:
            return len(self._pending)

    def close(self) -> None:
        """Stop the flusher; what the store does not have yet stays in the outbox for the next session."""
        self._closed.set()
        flusher = self._flusher
        if flusher is not None:
            flusher.join(timeout=30)

    # -- inside -------------------------------------------------------------------------------------
    def _store_entry(self, path: Path, entry: OutboxEntry) -> SavedRun:
        try:
            saved = self.store.save_run(entry.record, entry.protocol_json, entry.latency_samples,
                                        entry.device_samples)
        except StoreUnreachableError:
            raise
        except Exception as exc:  # refused: a bug or a wrong store, not an outage; the entry stays
            raise StoreError(f"the results store {self.store.url} refused run {entry.record.run_id} kept in the "
                             f"outbox {path}: {exc}. The file is kept; move it away to go on without that "
                             "run.") from exc
        self.outbox.remove(path)
        with self._cond:
            self._down_since = None
            r = entry.record
            for scope in {(r.session, d, m) for d in (None, r.device_id) for m in (None, r.model_sha256)}:
                self._known.setdefault(scope, {})[r.run_key] = saved.record
        return saved

    def _start_flusher(self) -> None:  # with self._cond held
        if self._flusher is None and self._stopped is None and not self._closed.is_set():
            self._flusher = threading.Thread(target=self._flush, name="edgebench-outbox", daemon=True)
            self._flusher.start()

    def _flush(self) -> None:
        """Store the waiting runs in order; wait with backoff while the store is unreachable."""
        delays = self.backoff.delays_s()
        try:
            while not self._closed.is_set():
                with self._cond:
                    if not self._pending:
                        # Cleared here, under the lock, not only in `finally`: a run queued between this
                        # return and the finally would find a flusher that no longer flushes and start none.
                        self._flusher = None
                        return
                    path, entry = self._pending[0]
                try:
                    self._store_entry(path, entry)
                except StoreUnreachableError as exc:
                    with self._cond:
                        remaining_s = self._note_down(exc)
                        if remaining_s <= 0:
                            self._stopped = self._outage_error()
                            return
                    self._closed.wait(min(next(delays), remaining_s))
                    continue
                except StoreError as exc:
                    with self._cond:
                        self._stopped = exc
                    return
                delays = self.backoff.delays_s()
                with self._cond:
                    self._pending.pop(0)
        finally:
            with self._cond:
                if self._flusher is threading.current_thread():
                    self._flusher = None
                self._cond.notify_all()

    def _note_down(self, exc: BaseException) -> float:
        """Record a failure to reach the store; the seconds of budget left. With self._cond held."""
        now = time.monotonic()
        if self._down_since is None:
            self._down_since = now
        cause = exc if isinstance(exc, DBAPIError) else exc.__cause__
        self._last_reason = driver_reason(cause) if isinstance(cause, DBAPIError) else str(exc)
        return self._down_since + self.db_outage_s - now

    def _raise_if_stopped(self) -> None:
        if self._stopped is not None:
            if isinstance(self._stopped, StoreOutageError):
                raise self._outage_error()  # counted again: runs kept since are in the message too
            raise self._stopped

    def _outage_error(self) -> StoreOutageError:
        down_s = time.monotonic() - self._down_since if self._down_since is not None else 0.0
        kept = [path for path, _ in self.outbox.entries(self.store.url)]
        sessions = self.outbox.sessions(kept)
        resume = f" --resume {sessions[-1]}" if len(sessions) == 1 else " --resume SESSION"
        return StoreOutageError(
            f"results store {self.store.url} was unreachable for {down_s:.0f} s, longer than --db-outage "
            f"{self.db_outage_s:g} s allows (last error: {self._last_reason}). Measuring stopped. "
            f"{len(kept)} measured run(s) are kept on this host in {self.outbox.folder} "
            f"(session(s) {', '.join(sessions) or 'none'}); nothing measured is lost. They are stored when the "
            f"next push-and-run with this workspace starts and reaches the store: once it is back, run "
            f"`edgebench push-and-run ...{resume}` to store them and do the runs not done yet.")
