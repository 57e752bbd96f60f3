"""Several writers on one store (the hosts of a lab): no run is lost or stored twice, nobody fails.

Every writer has its own ResultsStore, so its own engine and connections, as separate processes
(tests/store/test_store_url.py races two processes) or hosts would.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event

from edgebench.store import LatencySample, ResultsStore
from tests.store.test_db import _record

WRITERS = 6


def _prepared(url: str) -> None:
    s = ResultsStore(url)
    s.add_session("s1", started_at_utc="2026-01-01T00:00:00", command="test", host="h", version="0")
    s.upsert_device("host:x", "local", {"model": "cpu"})
    s.upsert_variant("a" * 64, "m.tflite", 10, {})
    s.close()


def _all_at_once(count: int, work):
    """Run work(i) for each i in threads released together; their results in order."""
    barrier = threading.Barrier(count)

    def start(i):
        barrier.wait(timeout=30)
        return work(i)
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(start, range(count)))


def test_hosts_opening_a_new_store_at_once_all_get_one_schema(store_url):
    url = store_url("new")

    def open_and_register(i):
        s = ResultsStore(url)
        try:
            s.upsert_device("host:x", "local", {"writer": i})  # the same device from every host
            s.upsert_variant("a" * 64, "m.tflite", 10, {})
            return s.table_rows("meta")
        finally:
            s.close()
    metas = _all_at_once(WRITERS, open_and_register)
    assert all(meta == [{"key": "schema_version", "value": "5"}] for meta in metas)
    s = ResultsStore(url)
    try:
        assert len(s.table_rows("devices")) == 1 and len(s.table_rows("variants")) == 1
    finally:
        s.close()


@pytest.mark.parametrize("first_status", ["ok", "failed"])
def test_writers_racing_on_one_run_store_it_once_and_the_losers_read_the_winner(store_url, first_status):
    url = store_url("results")
    _prepared(url)
    if first_status == "failed":  # a failed attempt every writer wants to replace (a resumed session)
        s = ResultsStore(url)
        s.save_run(_record(run_id="r1", key="k1", status="failed", error="device vanished"), {})
        s.close()
    stores = [ResultsStore(url) for _ in range(WRITERS)]
    try:
        saved = _all_at_once(WRITERS, lambda i: stores[i].save_run(
            _record(run_id=f"w{i}", key="k1"), {}, [LatencySample("timed", j, float(100 * i + j), None)
                                                    for j in range(50)]))
        rows = stores[0].table_rows("runs")
        assert len(rows) == 1 and rows[0]["status"] == "ok"
        winner = rows[0]["run_id"]
        assert [s.written for s in saved].count(True) == 1
        assert {s.record.run_id for s in saved} == {winner}  # every loser read the winner's row
        samples = stores[0].table_rows("latency_samples")
        assert len(samples) == 50 and {r["run_id"] for r in samples} == {winner}  # one writer's, whole
        attempts = stores[0].table_rows("run_attempts")
        assert [a["error"] for a in attempts] == (["device vanished"] if first_status == "failed" else [])
    finally:
        for s in stores:
            s.close()


def test_a_writer_that_loses_between_its_read_and_its_insert_reads_the_winners_row(postgres_store_url):
    """The race itself, made to happen: B reads (no run yet) while A's insert is not committed; then A
    commits and B's insert meets the unique run key. SQLite cannot interleave so (a writer takes the
    lock before it reads), so this is PostgreSQL's."""
    url = postgres_store_url("results")
    _prepared(url)
    a, b = ResultsStore(url), ResultsStore(url)
    a_inserted, b_read = threading.Event(), threading.Event()

    @event.listens_for(a.engine, "after_cursor_execute")
    def hold_a_before_commit(conn, cursor, statement, *args):
        if statement.startswith("INSERT INTO runs"):
            a_inserted.set()
            assert b_read.wait(timeout=30), "B never read"

    @event.listens_for(b.engine, "after_cursor_execute")
    def note_b_read(conn, cursor, statement, *args):
        if "FOR UPDATE" in statement:
            b_read.set()
    try:
        with ThreadPoolExecutor(1) as pool:
            saved_a = pool.submit(a.save_run, _record(run_id="ra", key="k1"), {}, [LatencySample("timed", 0, 1.0, 0)])
            assert a_inserted.wait(timeout=30)
            saved_b = b.save_run(_record(run_id="rb", key="k1"), {}, [LatencySample("timed", 0, 2.0, 0)])
            assert saved_a.result(timeout=30).written
        assert not saved_b.written and saved_b.record.run_id == "ra"
        assert [r.run_id for r in b.runs()] == ["ra"] and [s.latency_us for s in b.latency_samples("ra")] == [1.0]
    finally:
        a.close()
        b.close()


def test_lineage_added_by_several_writers_at_once_is_stored_once(store_url):
    url = store_url("results")
    artifact = dict(artifact_id="c" * 64, kind="trained", architecture="cnn_image", label="cnn_image",
                    record_json="{}", created_utc=None)
    child = dict(artifact, artifact_id="d" * 64, kind="converted", label="int8")
    link = dict(child_id="d" * 64, parent_id="c" * 64, relation="converted_from", detail="int8")
    stores = [ResultsStore(url) for _ in range(WRITERS)]
    try:
        _all_at_once(WRITERS, lambda i: stores[i].save_lineage([artifact, child], [link]))
        assert len(stores[0].table_rows("artifacts")) == 2 and len(stores[0].table_rows("artifact_links")) == 1
    finally:
        for s in stores:
            s.close()
