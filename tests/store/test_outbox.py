"""The outbox and the buffered store: runs kept on disk while the store is away, stored once when it is back.

SQLite for what needs no outage; the module's own throwaway PostgreSQL, halted and started again, for
what does (tests/store/postgres.py).
"""
from __future__ import annotations

import dataclasses
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from edgebench.cli.main import main
from edgebench.errors import StoreError, StoreUnreachableError, UsageError
from edgebench.records import Check, InputShape, LatencyStats, Provenance, RunConfig, RunRecord
from edgebench.store import BufferedStore, DeviceSample, LatencySample, ResultsStore, StoreOutageError
from edgebench.store.buffered import Backoff
from edgebench.store.engine import is_connection_loss
from edgebench.store.outbox import OutboxEntry, RunOutbox
from edgebench.workspace import Workspace

from .postgres import StoppablePostgres, stoppable_postgres  # noqa: F401 - fixture

FAST = Backoff(first_s=0.05, max_s=0.2)
SAMPLES = tuple(LatencySample("timed", i, 10.0 + i, 1000 * i) for i in range(3)) + (LatencySample("warmup", 0, 50.0, None),)
DEVICE_SAMPLES = (DeviceSample(5, "/sys/class/thermal/thermal_zone0/temp", "41000"), DeviceSample(6, "battery", None))


def _record(run_id: str = "r1", key: str = "k1", session: str = "s1") -> RunRecord:
    """Every field a stored run keeps, none left at its default."""
    return RunRecord(
        run_id=run_id, run_key=key, session=session, model="m.tflite", model_sha256="a" * 64,
        model_size_bytes=10, target="phone-1", device_id="android:x", config=RunConfig(4, "gpu", "f0"),
        protocol="smoke", repeat=2, status="invalid",
        checks=(Check("thermal", "fail", "38.5 °C above the baseline"), Check("shortened", "fail", "runs 10 < 50",
                                                                             advisory=True),
                Check("output_consistency", "not_checked", "no earlier run")),
        provenance=Provenance("virtual", "measured", "simulated"),
        latency=LatencyStats(3, 10.0, 10.2, 11.0, 11.8, 11.98, 12.0, 11.0, None),
        init_ms=1.5, first_inference_us=30.0, peak_rss_kb=2048, threads_observed=4, accelerator_used="cpu",
        fallback_reason="no GPU delegate", output_checksum="0123456789abcdef", harness_build_id="hb",
        runtime_sha256="b" * 64, runtime_api_generation="litert-2", started_at_utc="2026-01-01T00:00:00Z",
        wall_seconds=2.25, error=None, engine="edgebench_runner",
        input_shapes=(InputShape("image", (-1, 8, 8, 3), (1, 8, 8, 3), "batch"),))


def _by_name(record: RunRecord) -> RunRecord:
    return dataclasses.replace(record, checks=tuple(sorted(record.checks, key=lambda c: c.name)))


def _entry(store_url: str, record: RunRecord | None = None) -> OutboxEntry:
    return OutboxEntry(store_url, record or _record(), {"preset": {"name": "smoke"}, "effective": {"runs": 50}},
                       SAMPLES, DEVICE_SAMPLES)


def _open(url: str) -> ResultsStore:
    store = ResultsStore(url)
    store.add_session("s1", started_at_utc="2026-01-01T00:00:00", command="test", host="h", version="0")
    store.upsert_device("android:x", "virtual", {"model": "v"})
    store.upsert_variant("a" * 64, "m.tflite", 10, {})
    return store


@pytest.fixture
def sqlite_store(tmp_path: Path):
    store = _open(f"sqlite:///{tmp_path / 'results.sqlite'}")
    yield store
    store.close()


def test_an_entry_keeps_what_the_store_would_keep_through_disk(tmp_path: Path, sqlite_store: ResultsStore) -> None:
    outbox = RunOutbox(tmp_path / "outbox")
    path = outbox.put(_entry(sqlite_store.url))
    assert path == tmp_path / "outbox" / "s1" / "k1.json"
    ((found, back),) = outbox.entries()
    assert found == path and back == _entry(sqlite_store.url)
    sqlite_store.save_run(_record(), back.protocol_json, back.latency_samples, back.device_samples)
    # The same record the store reads back (which hands checks back in its own order).
    assert [_by_name(r) for r in sqlite_store.runs("s1")] == [_by_name(back.record)]


def test_a_write_cut_short_leaves_the_earlier_entry_whole_and_no_stray_file(tmp_path: Path) -> None:
    outbox = RunOutbox(tmp_path / "outbox")
    outbox.put(_entry("sqlite:///x"))
    unwritable = dataclasses.replace(_entry("sqlite:///x"), protocol_json={"oops": object()})
    with pytest.raises(TypeError):  # dies halfway through the JSON
        outbox.put(unwritable)
    assert [p.name for p in (tmp_path / "outbox" / "s1").iterdir()] == ["k1.json"]
    (tmp_path / "outbox" / "s1" / ".tmp-killed.json").write_text('{"format": 1, "store_u')  # a killed writer
    assert [e for _, e in outbox.entries()] == [_entry("sqlite:///x")]


def test_an_unreadable_entry_is_an_error_naming_its_file(tmp_path: Path) -> None:
    bad = tmp_path / "outbox" / "s1" / "k9.json"
    bad.parent.mkdir(parents=True)
    bad.write_text("{}")
    with pytest.raises(StoreError, match=f"outbox entry {bad} cannot be read"):
        RunOutbox(tmp_path / "outbox").entries()


def test_flushing_a_run_twice_stores_it_once_with_its_samples(tmp_path: Path, sqlite_store: ResultsStore) -> None:
    workspace = Workspace(tmp_path)
    buffered = BufferedStore(sqlite_store, workspace, db_outage_s=1, backoff=FAST)
    on_disk_when_written: list[list[str]] = []
    save_run = sqlite_store.save_run

    def spying_save_run(*args, **kwargs):  # a process killed inside the write would still have the run
        on_disk_when_written.append([e.record.run_key for _, e in RunOutbox(workspace.outbox).entries()])
        return save_run(*args, **kwargs)

    sqlite_store.save_run = spying_save_run  # type: ignore[method-assign]
    assert buffered.save_run(_record(), {}, SAMPLES, DEVICE_SAMPLES) is not None
    assert on_disk_when_written == [["k1"]] and not list(workspace.outbox.glob("*/*.json"))
    # Stored, then killed before the file was removed: the next session flushes it again.
    RunOutbox(workspace.outbox).put(_entry(sqlite_store.url))
    other_store = RunOutbox(workspace.outbox)
    other_store.put(_entry("postgresql+psycopg://u@elsewhere/db", _record("r2", "k2")))  # not this store's
    assert BufferedStore(sqlite_store, workspace, db_outage_s=1).flush_outbox() == 1
    assert [r.run_key for r in sqlite_store.runs("s1")] == ["k1"]
    assert len(sqlite_store.latency_samples("r1")) == 4 and len(sqlite_store.device_samples("r1")) == 2
    assert [e.store_url for _, e in other_store.entries()] == ["postgresql+psycopg://u@elsewhere/db"]


def test_a_run_the_store_refuses_is_raised_at_once_naming_its_file_and_kept(tmp_path: Path,
                                                                         sqlite_store: ResultsStore) -> None:
    buffered = BufferedStore(sqlite_store, Workspace(tmp_path), db_outage_s=60, backoff=FAST)
    orphan = _record("r3", "k3", session="no-such-session")  # its session row is missing: a constraint fails
    started = time.monotonic()
    with pytest.raises(StoreError, match="refused run r3 kept in the outbox .*k3.json") as refused:
        buffered.save_run(orphan, {})
    assert time.monotonic() - started < 5 and not isinstance(refused.value, StoreUnreachableError)
    assert (tmp_path / "outbox" / "no-such-session" / "k3.json").is_file()
    with pytest.raises(StoreError, match="refused run r3"):
        BufferedStore(sqlite_store, Workspace(tmp_path)).flush_outbox()


@pytest.mark.parametrize("message, lost", [("database is locked", True), ("unable to open database file", True),
                                           ("no such table: runs", False), ("no such column: engine", False)])
def test_sqlite_errors_are_told_apart(message: str, lost: bool) -> None:
    assert is_connection_loss(OperationalError("SELECT 1", {}, sqlite3.OperationalError(message))) is lost


def test_db_outage_is_checked() -> None:
    with pytest.raises(UsageError, match=r"--db-outage takes a number from 0 to 604,800. Received: -1"):
        BufferedStore(None, Workspace(Path("/nonexistent")), db_outage_s=-1)  # type: ignore[arg-type]
    assert main(["push-and-run", "m.tflite", "--db-outage", "nan"]) == 2


def test_while_postgres_is_down_runs_wait_on_disk_then_the_writer_stops_and_the_next_one_stores_them(
        tmp_path: Path, stoppable_postgres: StoppablePostgres) -> None:
    stoppable_postgres.start()
    url = make_url(stoppable_postgres.url).render_as_string(hide_password=False)
    store = _open(url)
    workspace = Workspace(tmp_path)
    buffered = BufferedStore(store, workspace, db_outage_s=1.0, backoff=FAST)
    try:
        assert buffered.save_run(_record(), {}, SAMPLES) is not None
        stoppable_postgres.halt()
        assert buffered.save_run(_record("r2", "k2"), {}, SAMPLES) is None  # kept, no waiting
        assert [r.run_key for r in buffered.runs("s1")] == ["k1", "k2"]  # reads see it, the store is away
        deadline = time.monotonic() + 10
        with pytest.raises(StoreOutageError) as stopped:
            while time.monotonic() < deadline:
                buffered.raise_if_stopped()
                time.sleep(0.1)
        assert f"results store {store.url} was unreachable for" in str(stopped.value)
        assert f"1 measured run(s) are kept on this host in {workspace.outbox} (session(s) s1)" in str(stopped.value)
        with pytest.raises(StoreOutageError):  # kept, then refused: the writer stops
            buffered.save_run(_record("r3", "k3"), {}, SAMPLES)
    finally:
        buffered.close()
        stoppable_postgres.start()
    assert BufferedStore(store, workspace).flush_outbox() == 2
    assert sorted(r.run_key for r in store.runs("s1")) == ["k1", "k2", "k3"]
    assert len(store.latency_samples("r2")) == 4 and not list(workspace.outbox.glob("*/*.json"))
    # A statement the server refuses is no outage: raised, never waited for.
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE device_samples"))
    with pytest.raises(StoreError) as refused:
        BufferedStore(store, workspace, db_outage_s=60).save_run(_record("r4", "k4"), {}, (), DEVICE_SAMPLES)
    assert not isinstance(refused.value, StoreUnreachableError) and "device_samples" in str(refused.value)
    store.close()
