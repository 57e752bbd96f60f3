"""Three lab workers, two phones each; one is SIGKILLed mid-run and started again later: every run of the
session is stored exactly once, ok, with its samples (counted in the database, not read from a log)."""
from __future__ import annotations

import signal

from tests.lab.labkit import FAST, TINY, Lab, wait_exit

SESSION_RUNS = "SELECT count(*), count(*) FILTER (WHERE status = 'ok') FROM runs WHERE session = :s"
RUNS_WITHOUT_SAMPLES = ("SELECT count(*) FROM runs r WHERE r.session = :s AND NOT EXISTS "
                        "(SELECT 1 FROM latency_samples l WHERE l.run_id = r.run_id)")
JOBS = "SELECT status::text, count(*) FROM procrastinate_jobs WHERE args->>'session' = :s GROUP BY 1"


def test_a_killed_worker_loses_no_run_and_stores_none_twice(lab: Lab) -> None:
    serials = lab.phones.serials
    workers = [lab.start_worker(serials[2 * i:2 * i + 2], f"w{i}") for i in range(3)]
    lab.wait_for("six announced devices", "SELECT count(*) FROM lab_devices WHERE state = 'idle'",
                 lambda rows: rows and rows[0][0] == 6)
    submitted = lab.edgebench("lab", "submit", *map(str, TINY), "--threads", "1,2,3", "--repeats", "3", *FAST)
    assert submitted.returncode == 0, submitted.stderr
    session = submitted.stdout.strip()
    assert "108 job(s) on 6 device(s)" in submitted.stderr  # 2 models × 3 configs × 3 repeats × 6 devices

    victim = workers[0]
    # Killed while it measures, after it stored a few runs.
    lab.wait_for("the victim mid-session", "SELECT count(*) FROM runs WHERE session = :s AND target = ANY(:t)",
                 lambda rows: rows and rows[0][0] >= 4, s=session, t=victim.serials)
    lab.wait_for("the victim measuring", "SELECT count(*) FROM lab_devices WHERE serial = ANY(:t) AND "
                 "state = 'measuring' AND job_id IS NOT NULL", lambda rows: rows[0][0] >= 1, t=victim.serials)
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait(timeout=10)
    stored_at_kill = lab.query("SELECT count(*) FROM runs WHERE session = :s AND target = ANY(:t)",
                               s=session, t=victim.serials)[0][0]
    assert stored_at_kill < 36  # it did not finish its devices' jobs
    for w in workers[1:]:
        wait_exit(w)
    # Its jobs wait for a worker that reaches its phones; those it was running when it died are stalled,
    # and a live worker puts them back into the queue once its heartbeat is 3 s old.
    jobs = dict(lab.query(JOBS, s=session))
    assert jobs.get("failed", 0) == 0 and jobs.get("todo", 0) > 0, jobs

    again = lab.start_worker(victim.serials, "w0-again")
    wait_exit(again)
    # The job in flight when it died was put back into the queue and ran again, on the restarted worker.
    started_twice = lab.query("SELECT e.job_id FROM procrastinate_events e JOIN procrastinate_jobs j ON j.id = e.job_id "
                              "WHERE j.args->>'session' = :s AND e.type = 'started' GROUP BY 1 HAVING count(*) > 1",
                              s=session)
    assert 1 <= len(started_twice) <= 2, [w.text()[-1500:] for w in lab.workers]  # one job per phone in flight

    total, ok = lab.query(SESSION_RUNS, s=session)[0]
    assert (total, ok) == (108, 108)
    # Once each: a run is one model, config and repeat on one device, whatever its run key.
    assert lab.query("SELECT max(n) FROM (SELECT count(*) AS n FROM runs WHERE session = :s "
                     "GROUP BY device_id, model_sha256, threads, repeat) AS each", s=session) == [(1,)]
    assert lab.query(RUNS_WITHOUT_SAMPLES, s=session)[0][0] == 0
    assert dict(lab.query(JOBS, s=session)) == {"succeeded": 108}
    per_device = dict(lab.query("SELECT target, count(*) FROM runs WHERE session = :s GROUP BY 1", s=session))
    assert per_device == {s: 18 for s in serials}
