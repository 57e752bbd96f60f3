"""How does the phone lab scale, and what do its database and queue cost per job?

1, 2 and 4 `edgebench lab worker` processes with two virtual devices each on one PostgreSQL (a
throwaway server from scripts/lab-db.sh), a session of 6 jobs per device whose runs mostly wait on the
device (runs 100 ms apart), so this 2-core host does not cap the lab:
- jobs per minute, and the ratio to linear (n × the one-worker rate; target >= 0.8 at 4 workers);
- database time per job, as each worker reports it (its store reads and writes and the device-state
  updates), and the queue's hand-over per device (one job finished -> the next started, from
  procrastinate's events); target for their sum <= 50 ms;
- failover: two workers share two devices; the one measuring is SIGKILLed; the seconds from the kill to
  its job starting again on the other (heartbeat 1 s, stall timeout 5 s).
Run:  .venv/bin/python benchmarks/lab_scaling.py
"""
from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _lab import virtual_lab  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "fixtures" / "models" / "eb_uint8_image_mean.tflite"
WORKLOAD = ("--protocol", "smoke", "--runs", "20", "--warmup", "1", "--run-delay-ms", "100", "--threads", "1,2",
            "--repeats", "3")
SPAN = text("SELECT extract(epoch FROM max(at) FILTER (WHERE type = 'succeeded') - min(at) FILTER (WHERE type = 'started')), "
            "count(*) FILTER (WHERE type = 'succeeded') FROM procrastinate_events")
EVENTS = text("SELECT j.args->>'serial', e.type::text, e.at, e.job_id FROM procrastinate_events e "
              "JOIN procrastinate_jobs j ON j.id = e.job_id WHERE e.type IN ('started', 'succeeded', 'failed') ORDER BY e.at")


def edgebench(url: str, ws: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "edgebench.cli.main", "--workspace", str(ws), "--store", url, *args]


def new_database(server: str) -> str:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE template0"))
    admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def start_workers(url: str, tmp: Path, groups: list[list[str]], *extra: str) -> list[tuple[subprocess.Popen[bytes], Path]]:
    workers = []
    for i, serials in enumerate(groups):
        log = tmp / f"w{i}-{uuid.uuid4().hex[:6]}.log"
        proc = subprocess.Popen(edgebench(url, tmp / f"ws{i}", "lab", "worker", "--devices", ",".join(serials),
                                          "--heartbeat", "1", "--stall-timeout", "5", *extra),
                                stdout=log.open("wb"), stderr=subprocess.STDOUT)
        workers.append((proc, log))
    engine = create_engine(url)
    want = sum(len(g) for g in groups)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with engine.connect() as conn:
                if conn.execute(text("SELECT count(*) FROM lab_devices WHERE state = 'idle'")).scalar_one() >= want:
                    break
        except Exception:  # noqa: BLE001 - tables not there yet
            pass
        time.sleep(0.2)
    engine.dispose()
    return workers


def submit(url: str, tmp: Path) -> str:
    done = subprocess.run(edgebench(url, tmp / "submit", "lab", "submit", str(MODEL), *WORKLOAD),
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def scaling(server: str, serials: list[str], tmp: Path, workers_n: int) -> dict[str, float]:
    url = new_database(server)
    groups = [serials[2 * i:2 * i + 2] for i in range(workers_n)]
    workers = start_workers(url, tmp, groups, "--until-idle")
    submit(url, tmp)
    for proc, _log in workers:
        proc.wait(timeout=900)
    engine = create_engine(url)
    with engine.connect() as conn:
        span_s, jobs = conn.execute(SPAN).one()
        events = conn.execute(EVENTS).all()
    engine.dispose()
    handover_ms = []
    last_end: dict[str, object] = {}
    for serial, kind, at, _job in events:
        if kind == "started" and serial in last_end:
            handover_ms.append((at - last_end.pop(serial)).total_seconds() * 1000)
        elif kind != "started":
            last_end[serial] = at
    database_ms = [float(m) for _p, log in workers for m in re.findall(r"\(database (\d+) ms\)", log.read_text())]
    return {"jobs": float(jobs), "span_s": float(span_s), "jobs_per_min": float(jobs) / float(span_s) * 60,
            "database_ms": statistics.median(database_ms), "handover_ms": statistics.median(handover_ms)}


def failover(server: str, serials: list[str], tmp: Path) -> float:
    url = new_database(server)
    workers = start_workers(url, tmp, [serials[:2], serials[:2]])
    submit(url, tmp)
    engine = create_engine(url)
    while True:  # the first job running: kill the worker that took it
        with engine.connect() as conn:
            row = conn.execute(text("SELECT job_id, worker FROM lab_devices WHERE state = 'measuring' "
                                    "AND job_id IS NOT NULL LIMIT 1")).first()
        if row is not None:
            break
        time.sleep(0.05)
    job_id, name = row
    pid = int(name.rsplit("/", 1)[1])
    killed_at = time.time()
    os.kill(pid, signal.SIGKILL)
    while True:
        with engine.connect() as conn:
            again = conn.execute(text("SELECT extract(epoch FROM max(at)) FROM procrastinate_events WHERE job_id = :j "
                                      "AND type = 'started' HAVING count(*) >= 2"), {"j": job_id}).scalar()
        if again is not None:
            break
        time.sleep(0.05)
    engine.dispose()
    for proc, _log in workers:
        proc.kill()
        proc.wait()
    return float(again) - killed_at


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="edgebench-pg-"))
    os.chmod(folder, 0o777)
    server = subprocess.run(["bash", str(REPO / "scripts" / "lab-db.sh"), "throwaway", str(folder)],
                            capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    try:
        with virtual_lab(8) as (_ws, serials, _port), tempfile.TemporaryDirectory() as tmp:
            results = {n: scaling(server, serials, Path(tmp), n) for n in (1, 2, 4)}
            base = results[1]["jobs_per_min"]
            print("workers  devices  jobs  jobs/min  x linear  database ms/job (median)  queue hand-over ms (median)")
            for n, r in results.items():
                print(f"{n:7d}  {2 * n:7d}  {r['jobs']:4.0f}  {r['jobs_per_min']:8.1f}  {r['jobs_per_min'] / (n * base):8.2f}"
                      f"  {r['database_ms']:24.0f}  {r['handover_ms']:27.0f}")
            print(f"failover: a SIGKILLed worker's job ran again on the other worker after "
                  f"{failover(server, serials, Path(tmp)):.1f} s (heartbeat 1 s, stall timeout 5 s)")
    finally:
        subprocess.run(["bash", str(REPO / "scripts" / "lab-db.sh"), "stop", str(folder)], capture_output=True)


if __name__ == "__main__":
    main()
