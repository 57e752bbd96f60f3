"""Choosing the results store: --store URL and $EDGEBENCH_STORE, the URL forms, and clear errors for
a store that cannot be used (bad URL, missing driver, unreachable server, wrong database)."""
from __future__ import annotations

import json
import multiprocessing
import socket
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from edgebench.cli.main import main
from edgebench.errors import StoreError
from edgebench.store import ResultsStore
from tests.conftest import REAL_MODELS
from tests.store.test_db import _query, _record


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("given, drivername", [("postgresql://u:p@db.lab:5432/results", "postgresql+psycopg"),
                                               ("postgres://u@db.lab/results", "postgresql+psycopg"),
                                               ("postgresql+psycopg://u@db.lab/results", "postgresql+psycopg")])
def test_postgresql_urls_use_psycopg_3(given, drivername):
    from edgebench.store.engine import parse_store_url

    assert parse_store_url(given).url.drivername == drivername


def test_a_bare_path_or_a_relative_sqlite_url_is_a_file_from_here(tmp_path, monkeypatch):
    from edgebench.store.engine import parse_store_url

    monkeypatch.chdir(tmp_path)
    assert parse_store_url("sub/r.sqlite").sqlite_path == tmp_path / "sub" / "r.sqlite"
    assert parse_store_url("sqlite:///sub/r.sqlite").sqlite_path == tmp_path / "sub" / "r.sqlite"
    assert parse_store_url(f"sqlite:///{tmp_path}/abs.sqlite").sqlite_path == tmp_path / "abs.sqlite"


@pytest.mark.parametrize("given, expected", [
    ("mysql://u:secret@h/db", "uses 'mysql'; edgebench stores results in SQLite or PostgreSQL"),
    ("sqlite://", "names no file: an in-memory store would lose every result"),
    ("sqlite:///:memory:", "names no file"),
    ("postgresql+psycopg://u:secret@h:5432", "names no database"),
    ("postgresql+psycopg://u:secret@h:notaport/db", "cannot read"),
    ("   ", "the results store URL is empty"),
])
def test_a_url_that_cannot_be_a_store_is_refused_saying_what_is_expected(given, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # whatever a wrong reading might create lands here
    with pytest.raises(StoreError) as refused:
        ResultsStore(given)
    assert expected in str(refused.value)
    assert "secret" not in str(refused.value)
    if given.strip():
        assert "sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE" in str(refused.value)


def test_a_missing_postgresql_driver_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if not installed
    with pytest.raises(StoreError, match=r"needs the PostgreSQL driver psycopg 3.*pip install 'edgebench\[lab\]'"):
        ResultsStore("postgresql+psycopg://lab:secret@127.0.0.1:5432/results")


def test_an_unreachable_server_says_what_was_tried_why_it_failed_and_what_to_do():
    pytest.importorskip("psycopg")
    port = _closed_port()
    with pytest.raises(StoreError) as refused:
        ResultsStore(f"postgresql+psycopg://lab:secret@127.0.0.1:{port}/results")
    text = str(refused.value)
    assert f"cannot reach results store postgresql+psycopg://lab:***@127.0.0.1:{port}/results" in text
    assert "refused" in text.lower()  # the driver's own reason
    assert "scripts/lab-db.sh" in text and "secret" not in text


def test_a_database_that_does_not_exist_is_named(postgres_server):
    url = make_url(postgres_server).set(database="no_such_results").render_as_string(hide_password=False)
    with pytest.raises(StoreError, match='cannot reach results store .*/no_such_results: .*"no_such_results" does not'):
        ResultsStore(url)


def test_the_cli_reports_an_unreachable_store_as_an_error_not_a_traceback(capsys, workspace):
    pytest.importorskip("psycopg")
    port = _closed_port()
    code = main(["--store", f"postgresql+psycopg://lab:secret@127.0.0.1:{port}/results", "results", "list"])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: cannot reach results store") and "Traceback" not in err
    assert "secret" not in err


def _stored_one_run(url: str) -> None:
    s = ResultsStore(url)
    s.add_session("s1", started_at_utc="2026-01-01T00:00:00", command="test", host="h", version="0")
    s.upsert_device("host:x", "local", {})
    s.upsert_variant("a" * 64, "m.tflite", 10, {})
    s.save_run(_record(), {})
    s.close()


@pytest.mark.parametrize("how", ["--store before", "--store after", "EDGEBENCH_STORE"])
def test_results_are_read_from_the_store_given_instead_of_the_workspace(store_url, workspace, capsys, monkeypatch,
                                                                       how):
    url = store_url("lab")
    _stored_one_run(url)
    argv = ["results", "list", "--json"]
    if how == "--store before":
        argv = ["--store", url, *argv]
    elif how == "--store after":
        argv = [*argv, "--store", url]
    else:
        monkeypatch.setenv("EDGEBENCH_STORE", url)
    assert main(argv) == 0
    assert [r["run_id"] for r in json.loads(capsys.readouterr().out)] == ["r1"]
    assert not (workspace / "results.sqlite").exists()


def test_push_and_run_writes_to_the_store_given(store_url, workspace, capsys):
    """A command that writes: the run, its samples and its checks land in the store named by --store."""
    url = store_url("lab")
    model = REAL_MODELS / "tflm_simple_add_model.tflite"
    assert main(["--store", url, "push-and-run", str(model), "--target", "local", "--protocol", "smoke"]) == 0
    capsys.readouterr()
    assert _query(url, "SELECT status FROM runs") == [("ok",)]
    ((samples,),) = _query(url, "SELECT count(*) FROM latency_samples")
    assert samples >= 50
    assert not (workspace / "results.sqlite").exists()


def _save_every_run(url: str, writer: int, keys: int, barrier) -> list[tuple[str, bool]]:
    s = ResultsStore(url)
    try:
        barrier.wait(timeout=60)
        return [(saved.record.run_id, saved.written)
                for saved in (s.save_run(_record(run_id=f"p{writer}-{k}", key=f"k{k}"), {}) for k in range(keys))]
    finally:
        s.close()


def test_two_processes_storing_the_same_runs_at_once_store_each_run_once(store_url):
    url = store_url("lab")
    _stored_one_run(url)  # k1 is stored already (as r1)
    keys = 30
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier = manager.Barrier(2)
        with context.Pool(2) as pool:
            results = pool.starmap(_save_every_run, [(url, w, keys, barrier) for w in range(2)])
    stored = dict(_query(url, "SELECT run_key, run_id FROM runs"))
    assert len(stored) == keys and len(_query(url, "SELECT run_id FROM runs")) == keys
    for k in range(keys):
        got = [results[w][k] for w in range(2)]
        assert {run_id for run_id, _ in got} == {stored[f"k{k}"]}  # both report the run that is stored
        assert sum(written for _, written in got) == (0 if k == 1 else 1)


def test_workspace_default_is_unchanged_without_store(workspace, capsys, monkeypatch):
    monkeypatch.delenv("EDGEBENCH_STORE", raising=False)
    assert main(["results", "list", "--json"]) == 0
    assert (workspace / "results.sqlite").is_file()
    assert Path(workspace / "results.sqlite").stat().st_size > 0


def test_a_store_that_goes_away_mid_session_is_a_clear_error(postgres_store_url, postgres_server):
    from sqlalchemy import create_engine, text

    url = postgres_store_url("gone")
    s = ResultsStore(url)
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:  # the database goes while the store is open
            conn.execute(text(f"DROP DATABASE {make_url(url).database} WITH (FORCE)"))
        with pytest.raises(StoreError, match=r"adding session s1 in results store postgresql\+psycopg://.* failed: .*"
                                             r"does not exist\. Check that the database is reachable"):
            s.add_session("s1", started_at_utc="2026-01-01T00:00:00", command="test", host="h", version="0")
    finally:
        s.close()
        admin.dispose()


def test_every_table_exports_the_same_from_either_backend(sqlite_store_url, postgres_store_url, workspace, capsys):
    """The same runs give the same export, byte for byte, whichever backend holds them."""
    from edgebench.cli.results_cmd import EXPORT_TABLES
    from edgebench.store import DeviceSample, LatencySample

    exports = []
    for url in (sqlite_store_url("lab"), postgres_store_url("lab")):
        _stored_one_run(url)
        s = ResultsStore(url)
        s.save_run(_record(run_id="r2", key="k2", status="failed", error="gone"), {"p": 1},
                   [LatencySample("warmup", 0, 1.5, None), LatencySample("timed", 0, 2.25, 10**15)],
                   [DeviceSample(2**40, "/sys/x", None)])
        s.close()
        tables = {}
        for table in EXPORT_TABLES:
            assert main(["--store", url, "results", "export", "--table", table, "--format", "csv"]) == 0
            tables[table] = capsys.readouterr().out
        exports.append(tables)
    assert exports[0] == exports[1]
