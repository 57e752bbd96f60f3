"""Two lab workers that reach the same phones never measure one of them at the same time: the queue's
per-device lock hands out one job per phone, and push-and-run's device lock agrees (no job fails busy)."""
from __future__ import annotations

import datetime as dt
import signal

from tests.lab.labkit import FAST, TINY, Lab, wait_exit

RUNS = "SELECT target, started_at_utc, wall_seconds FROM runs WHERE session = :s AND status = 'ok'"
JOBS = "SELECT status::text, count(*) FROM procrastinate_jobs WHERE args->>'session' = :s GROUP BY 1"


def test_two_workers_on_the_same_phones_take_turns(lab: Lab) -> None:
    shared = lab.phones.serials[:2]
    workers = [lab.start_worker(shared, name) for name in ("a", "b")]
    lab.wait_for("both workers announcing both phones", "SELECT count(*) FROM lab_devices WHERE state = 'idle'",
                 lambda rows: rows and rows[0][0] == 4)
    submitted = lab.edgebench("lab", "submit", str(TINY[0]), "--threads", "1,2", "--repeats", "3", *FAST)
    assert submitted.returncode == 0, submitted.stderr
    session = submitted.stdout.strip()
    # The worker that is measuring keeps winning the next job of its phone; stopped gracefully (SIGTERM:
    # it finishes the jobs in flight), it hands the rest over to the other.
    lab.wait_for("a few stored runs", "SELECT count(*) FROM runs WHERE session = :s", lambda rows: rows[0][0] >= 3,
                 s=session)
    busy = next(w for w in workers if "stored ok" in w.text())
    busy.proc.send_signal(signal.SIGTERM)
    for w in workers:
        wait_exit(w)
    assert dict(lab.query(JOBS, s=session)) == {"succeeded": 12}
    # Each job ran once: none was handed to the second worker while the first measured its phone (the
    # device lock would have refused it, and the job would have been tried again later).
    assert lab.query("SELECT count(*) FROM procrastinate_events e JOIN procrastinate_jobs j ON j.id = e.job_id "
                     "WHERE j.args->>'session' = :s AND e.type = 'started'", s=session) == [(12,)]
    assert not any("busy" in w.text() for w in workers)
    assert all("stored ok" in w.text() for w in workers)  # both took jobs: the phones really were shared
    assert "stopping: the jobs in flight finish first" in busy.text()
    spans: dict[str, list[tuple[dt.datetime, dt.datetime]]] = {}
    for target, started, wall_s in lab.query(RUNS, s=session):
        start = dt.datetime.fromisoformat(str(started))
        spans.setdefault(str(target), []).append((start, start + dt.timedelta(seconds=float(wall_s))))  # type: ignore[arg-type]
    assert sorted(spans) == sorted(shared) and all(len(v) == 6 for v in spans.values())
    for target, runs in spans.items():
        runs.sort()
        overlaps = [(a, b) for a, b in zip(runs, runs[1:]) if b[0] < a[1]]
        assert overlaps == [], f"{target} measured twice at once: {overlaps}"
