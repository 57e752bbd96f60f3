"""Bad input to `edgebench lab` gets a clear error and leaves nothing queued."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from edgebench.cli.main import main
from edgebench.lab.devices import AnnouncedDevice, announce, utc_now
from edgebench.lab.queue import open_lab
from tests.lab.labkit import TINY


def _nothing_queued(url: str) -> None:
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM lab_sessions")).scalar_one() == 0
    engine.dispose()


@pytest.fixture
def lab_url(postgres_store_url) -> str:  # type: ignore[no-untyped-def]
    url: str = postgres_store_url("lab")
    lab = open_lab(url)
    announce(lab.engine, [AnnouncedDevice(worker="lab-2/41", serial="R5CT1234", host="lab-2", device_id="samsung-x",
                                          model="SM-S911B", abi="arm64-v8a", state="idle", job_id=None, session=None,
                                          last_heartbeat_utc=utc_now().isoformat())])
    lab.engine.dispose()
    return url


def test_a_session_no_live_device_can_run_names_what_matched_nothing(lab_url: str, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["--workspace", str(tmp_path), "--store", lab_url, "lab", "submit", str(TINY[0]),
                 "--devices", "model=Pixel 8", "--devices", "abi=x86_64"])
    err = capsys.readouterr().err
    assert code != 0
    assert "no live device matches --devices 'model=Pixel 8 or abi=x86_64'" in err
    assert "R5CT1234 (model=SM-S911B, abi=arm64-v8a, host=lab-2)" in err  # what there is
    _nothing_queued(lab_url)


def test_a_model_that_does_not_exist_queues_nothing(lab_url: str, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["--workspace", str(tmp_path), "--store", lab_url, "lab", "submit", str(TINY[0]),
                 str(tmp_path / "missing.tflite")])
    err = capsys.readouterr().err
    assert code != 0 and "nothing was queued" in err and "missing.tflite" in err
    _nothing_queued(lab_url)


def test_bad_device_conditions_say_the_syntax(lab_url: str, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["--workspace", str(tmp_path), "--store", lab_url, "lab", "submit", str(TINY[0]),
                 "--devices", "colour=red"]) != 0
    assert "KEY one of serial, model, abi, host, device_id" in capsys.readouterr().err
    _nothing_queued(lab_url)


def test_unreachable_and_unshareable_stores_are_refused_clearly(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["--workspace", str(tmp_path), "--store", "postgresql+psycopg://lab:s3cret@127.0.0.1:1/lab",
                 "lab", "status"]) != 0
    err = capsys.readouterr().err
    assert "cannot reach results store postgresql+psycopg://lab:***@127.0.0.1:1/lab" in err and "s3cret" not in err
    assert main(["--workspace", str(tmp_path), "--store", f"sqlite:///{tmp_path}/r.sqlite", "lab", "status"]) != 0
    assert "the lab needs a PostgreSQL store that every host reaches" in capsys.readouterr().err


def test_a_store_of_another_schema_version_is_refused_before_the_lab_adds_tables(postgres_store_url, tmp_path,  # type: ignore[no-untyped-def]
                                                                                  capsys) -> None:
    url = postgres_store_url("old")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)"))
        conn.execute(text("INSERT INTO meta VALUES ('schema_version', '999')"))
    assert main(["--workspace", str(tmp_path), "--store", url, "lab", "status"]) != 0
    assert "schema version 999" in capsys.readouterr().err
    with engine.connect() as conn:
        tables = set(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
    engine.dispose()
    assert tables == {"meta"}


def test_a_restarted_worker_replaces_the_rows_of_dead_or_stopped_ones_of_its_host(postgres_store_url) -> None:  # type: ignore[no-untyped-def]
    import os
    import socket

    from edgebench.lab.devices import announced

    lab = open_lab(postgres_store_url("rows"))
    host = socket.gethostname()

    def row(worker: str, serial: str, state: str = "idle", row_host: str = host) -> AnnouncedDevice:
        return AnnouncedDevice(worker=worker, serial=serial, host=row_host, device_id=f"id-{serial}", model="Pixel 8",
                               abi="x86_64", state=state, job_id=None, session=None, last_heartbeat_utc=utc_now().isoformat())

    dead = f"{host}/{2**22 + 17}"  # above pid_max: never a live process
    announce(lab.engine, [row(dead, "A"), row(f"{host}/{os.getpid()}", "B"), row("other-host/5", "A")])
    announce(lab.engine, [row(f"{host}/1", "A")])  # pid 1 is alive: a second worker of this host is kept
    announce(lab.engine, [row(f"{host}/new", "A")])
    left = {(d.worker, d.serial) for d in announced(lab.engine)[0]}
    assert left == {(f"{host}/{os.getpid()}", "B"), ("other-host/5", "A"), (f"{host}/1", "A"), (f"{host}/new", "A")}
    lab.engine.dispose()
