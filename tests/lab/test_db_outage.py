"""PostgreSQL stopped for 10 s mid-session (`pg_ctl stop -m fast`, then started): the workers wait, the runs in
flight finish on their phones and wait on disk, and the session completes with every run stored once."""
from __future__ import annotations

import datetime as dt
import time

from tests.lab.labkit import TINY, Lab, Phones, wait_exit
from tests.store.postgres import StoppablePostgres
from tests.store.postgres import stoppable_postgres  # noqa: F401 - fixture

# ~2.5 s of measuring per run, most of a job: whenever the database goes, runs are in flight on the phones.
SLOW_RUNS = ("--protocol", "smoke", "--runs", "25", "--warmup", "1", "--run-delay-ms", "100")
OUTAGE_S = 10


def test_a_database_outage_mid_session_loses_nothing(stoppable_postgres: StoppablePostgres, phones: Phones,  # noqa: F811
                                                     tmp_path) -> None:  # type: ignore[no-untyped-def]
    lab = Lab(stoppable_postgres.url, phones, tmp_path)
    try:
        serials = phones.serials[:4]
        workers = [lab.start_worker(serials[:2], "a", "--db-outage", "60"),
                   lab.start_worker(serials[2:], "b", "--db-outage", "60")]
        lab.wait_for("four announced devices", "SELECT count(*) FROM lab_devices WHERE state = 'idle'",
                     lambda rows: rows and rows[0][0] == 4)
        submitted = lab.edgebench("lab", "submit", str(TINY[0]), "--threads", "1,2", "--repeats", "2", *SLOW_RUNS)
        assert submitted.returncode == 0, submitted.stderr
        session = submitted.stdout.strip()
        lab.wait_for("a few stored runs", "SELECT count(*) FROM runs WHERE session = :s", lambda rows: rows[0][0] >= 4,
                     s=session)
        time.sleep(1.0)  # into the next jobs' runs: the phones are measuring when the database goes
        down = dt.datetime.now(dt.timezone.utc)
        stoppable_postgres.halt()
        time.sleep(OUTAGE_S)
        stoppable_postgres.start()
        up = dt.datetime.now(dt.timezone.utc)
        for w in workers:
            wait_exit(w)
        total, distinct, ok = lab.query("SELECT count(*), count(DISTINCT run_key), count(*) FILTER (WHERE status = 'ok') "
                                        "FROM runs WHERE session = :s", s=session)[0]
        assert (total, distinct, ok) == (16, 16, 16)  # 1 model × 2 configs × 2 repeats × 4 phones
        assert dict(lab.query("SELECT status::text, count(*) FROM procrastinate_jobs WHERE args->>'session' = :s "
                              "GROUP BY 1", s=session)) == {"succeeded": 16}
        assert lab.query("SELECT count(*) FROM runs r WHERE session = :s AND NOT EXISTS (SELECT 1 FROM "
                         "latency_samples l WHERE l.run_id = r.run_id)", s=session)[0][0] == 0
        finished_while_down = [
            r for r in lab.query("SELECT started_at_utc, wall_seconds FROM runs WHERE session = :s", s=session)
            if down < dt.datetime.fromisoformat(str(r[0])) + dt.timedelta(seconds=float(r[1])) < up]  # type: ignore[arg-type]
        assert finished_while_down, "no phone measured while the database was down"
        logs = "".join(w.text() for w in workers)
        assert "lost the lab's database" in logs and "the lab's database is back" in logs
        assert not list((tmp_path / "a" / "outbox").rglob("*.json")) and not list((tmp_path / "b" / "outbox").rglob("*.json"))
    finally:
        stoppable_postgres.start()
        lab.stop()


def test_a_database_away_longer_than_the_budget_stops_the_worker_saying_why(  # type: ignore[no-untyped-def]
        stoppable_postgres: StoppablePostgres, phones: Phones, tmp_path) -> None:  # noqa: F811
    lab = Lab(stoppable_postgres.url, phones, tmp_path)
    try:
        worker = lab.start_worker(phones.serials[4:5], "c", "--db-outage", "2")
        lab.wait_for("the announced phone", "SELECT count(*) FROM lab_devices WHERE state = 'idle' AND serial = :s",
                     lambda rows: rows and rows[0][0] == 1, s=phones.serials[4])
        stoppable_postgres.halt()
        try:
            code = worker.proc.wait(timeout=60)
        finally:
            stoppable_postgres.start()
        assert code != 0
        assert "was unreachable for" in worker.text() and "(--db-outage 2" in worker.text()
    finally:
        lab.stop()
