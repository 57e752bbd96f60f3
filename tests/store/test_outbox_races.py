"""The outbox and the buffered store under concurrency: the device workers of one session (threads), and other
processes sharing the workspace, keep, store and remove runs at the same time; none may lose or strand a run.

Each test drives the real code from real threads; where a race needs a narrow window to show, the window is
widened by pausing one thread at the exact step, never by replacing the code under test.
"""
from __future__ import annotations

import inspect
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

from edgebench.errors import StoreUnreachableError
from edgebench.store import BufferedStore, ResultsStore
from edgebench.store.buffered import Backoff
from edgebench.store.outbox import RunOutbox
from edgebench.workspace import Workspace

from .test_outbox import _entry, _open, _record


def test_two_devices_keeping_and_removing_runs_of_one_session_at_once_lose_none(tmp_path: Path) -> None:
    """Each device's worker keeps its run, stores it and removes it; removing a session's last entry removes
    the session's folder, which can vanish between the other worker's mkdir and its file. No put may fail:
    a failed put stops that device's session with its measured run unstored."""
    outbox = RunOutbox(tmp_path / "outbox")
    failures: list[BaseException] = []
    start = threading.Barrier(2)

    def device(name: str) -> None:
        start.wait()
        try:
            for i in range(250):
                outbox.remove(outbox.put(_entry("sqlite:///x", _record(f"{name}{i}", f"{name}-{i}"))))
        except BaseException as exc:  # noqa: BLE001 - reported below, with what it was
            failures.append(exc)

    workers = [threading.Thread(target=device, args=(name,)) for name in ("a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    assert outbox.entries() == [] and not (tmp_path / "outbox" / "s1").exists()  # nothing left behind


def test_listing_the_outbox_while_another_writer_removes_session_folders_never_fails(tmp_path: Path) -> None:
    """A push-and-run starting on a shared workspace lists the outbox (flush_outbox) while another process
    stores its runs, removing each session folder with its last entry; a folder listed and gone is empty."""
    writer, reader = RunOutbox(tmp_path / "outbox"), RunOutbox(tmp_path / "outbox")
    stop = threading.Event()

    def session() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            writer.remove(writer.put(_entry("sqlite:///x", _record(f"r{i}", f"k{i}"))))

    thread = threading.Thread(target=session)
    thread.start()
    errors: list[BaseException] = []
    try:
        for _ in range(1500):
            try:
                reader.entries("sqlite:///x")
            except BaseException as exc:  # noqa: BLE001 - collected and shown below
                errors.append(exc)
    finally:
        stop.set()
        thread.join()
    assert errors == []


class _PausingCondition(threading.Condition):
    """The buffered store's lock, pausing the flusher thread right after it released the lock at the step of
    `_flush` that finds nothing left to store (the window between deciding to end and having ended)."""

    def __init__(self, store: BufferedStore) -> None:
        super().__init__()
        self.store = store
        source, first = inspect.getsourcelines(BufferedStore._flush)
        at = next(n for n, line in enumerate(source) if "if not self._pending:" in line)
        self.lines = range(first + at - 1, first + at + 6)  # the `with`, the check, the return
        self.paused, self.go_on = threading.Event(), threading.Event()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        super().__exit__(kind, value, tb)
        caller = sys._getframe(1)
        if (threading.current_thread().name == "edgebench-outbox" and caller.f_code.co_name == "_flush"
                and caller.f_lineno in self.lines and not self.store._pending and not self.paused.is_set()):
            self.paused.set()
            self.go_on.wait(5)


def test_a_run_kept_while_the_flusher_is_ending_is_still_stored(tmp_path: Path) -> None:
    """The flusher ends when nothing waits; a device's run that cannot be stored at that very moment is kept
    and must get a flusher of its own, not wait for the next run or the end of the session."""
    url = f"sqlite:///{tmp_path / 'results.sqlite'}"
    store = _open(url)
    save_run = store.save_run
    unreachable_once = {"k1", "k2"}

    def flaky_save_run(record, *args, **kwargs):  # type: ignore[no-untyped-def]
        if record.run_key in unreachable_once:
            unreachable_once.discard(record.run_key)
            raise StoreUnreachableError("connection refused (the store restarting)")
        return save_run(record, *args, **kwargs)

    store.save_run = flaky_save_run  # type: ignore[method-assign]
    buffered = BufferedStore(store, Workspace(tmp_path), db_outage_s=30, backoff=Backoff(first_s=0.05, max_s=0.1))
    pausing = _PausingCondition(buffered)
    buffered._cond = pausing
    try:
        assert buffered.save_run(_record("r1", "k1"), {}) is None  # kept; the flusher stores it on its retry
        assert pausing.paused.wait(10), "the flusher never came to its end"
        assert buffered.save_run(_record("r2", "k2"), {}) is None  # fails now: kept, needs a flusher
        pausing.go_on.set()
        deadline = time.monotonic() + 10
        while buffered.waiting() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(r.run_key for r in ResultsStore(url).runs("s1")) == ["k1", "k2"]
        assert buffered.waiting() == 0
    finally:
        pausing.go_on.set()
        buffered.close()
        store.close()


def test_reading_a_sessions_runs_while_the_flusher_stores_one_misses_none(tmp_path: Path) -> None:
    """A device's worker reads its earlier runs (for its output checks; it keeps the answer for the session)
    while the flusher stores one of them after an outage: the store's answer predates that commit, so the run
    must come from the runs still waiting, read before the store was asked."""
    url = f"sqlite:///{tmp_path / 'results.sqlite'}"
    store = _open(url)
    save_run, runs = store.save_run, store.runs
    unreachable_once = {"k1"}  # k2 then waits behind k1 without a try of its own
    storing_k2, store_read = threading.Event(), threading.Event()

    def flaky_save_run(record, *args, **kwargs):  # type: ignore[no-untyped-def]
        if record.run_key in unreachable_once:
            unreachable_once.discard(record.run_key)
            raise StoreUnreachableError("connection refused (the store restarting)")
        if record.run_key == "k2":
            storing_k2.set()
            store_read.wait(10)  # the flusher commits k2 while the worker's read is under way
        return save_run(record, *args, **kwargs)

    def slow_runs(*args, **kwargs):  # type: ignore[no-untyped-def]
        answer = runs(*args, **kwargs)
        store_read.set()
        time.sleep(0.5)  # a busy server: the answer arrives after k2's commit
        return answer

    store.save_run = flaky_save_run  # type: ignore[method-assign]
    store.runs = slow_runs  # type: ignore[method-assign]
    buffered = BufferedStore(store, Workspace(tmp_path), db_outage_s=30, backoff=Backoff(first_s=0.05, max_s=0.1))
    try:
        buffered.save_run(_record("r1", "k1"), {})
        buffered.save_run(_record("r2", "k2"), {})  # waits behind k1
        assert storing_k2.wait(10)
        got, answered = buffered.runs_answer("s1", device_id="android:x", model_sha256="a" * 64)
        buffered.drain()
        assert answered and sorted(r.run_key for r in got) == ["k1", "k2"]
    finally:
        store_read.set()
        buffered.close()
        store.close()
