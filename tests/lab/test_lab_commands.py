"""`lab status`, `lab cancel` and `lab retry` on a real queue (no worker runs here: the jobs wait)."""
from __future__ import annotations

import asyncio
import json

import procrastinate
from sqlalchemy import create_engine, text

from edgebench.cli.main import main
from edgebench.lab.devices import AnnouncedDevice, announce, utc_now
from edgebench.lab.plan import MEASURE_TASK
from edgebench.lab.queue import open_lab
from tests.lab.labkit import TINY


def _jobs(url: str, session: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT status::text, count(*) FROM procrastinate_jobs WHERE args->>'session' = :s "
                                 "GROUP BY 1"), {"s": session}).all()
    engine.dispose()
    return {str(k): int(n) for k, n in rows}


def test_status_cancel_and_retry_of_a_session(postgres_store_url, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    url = postgres_store_url("commands")
    lab = open_lab(url)
    announce(lab.engine, [AnnouncedDevice(worker="lab-2/41", serial=s, host="lab-2", device_id=f"id-{s}",
                                          model="Pixel 8", abi="arm64-v8a", state="idle", job_id=None, session=None,
                                          last_heartbeat_utc=utc_now().isoformat()) for s in ("P1", "P2")])
    base = ["--workspace", str(tmp_path), "--store", url, "lab"]
    assert main([*base, "submit", str(TINY[0]), "--repeats", "2", "--protocol", "smoke"]) == 0
    session = capsys.readouterr().out.strip()
    assert _jobs(url, session) == {"todo": 4}

    assert main([*base, "status", "--session", session]) == 0
    out = capsys.readouterr().out
    assert session in out and "per device" in out and "P1" in out and "P2" in out and "lab-2" in out

    # One job fails on its device (as a worker records it), one runs, two wait.
    asyncio.run(_fail_one(url, queue="device:id-P1"))
    assert _jobs(url, session) == {"failed": 1, "todo": 3}

    assert main([*base, "cancel", session]) == 0
    assert "3 waiting job(s) cancelled, 0 running job(s) asked to stop" in capsys.readouterr().out
    assert _jobs(url, session) == {"failed": 1, "cancelled": 3}
    assert main([*base, "retry", session, "--failed"]) == 0
    assert "1 failed job(s) back in the queue" in capsys.readouterr().out
    assert _jobs(url, session) == {"todo": 1, "cancelled": 3}
    assert main([*base, "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    (listed,) = [s for s in status["sessions"] if s["session"] == session]
    assert listed["jobs"]["todo"] == 1 and listed["finished"] is False
    assert {d["serial"] for d in status["devices"]} == {"P1", "P2"}
    lab.engine.dispose()


async def _fail_one(url: str, queue: str) -> None:
    """Take one job of `queue` and record it failed, as a worker does when its device cannot run it."""
    lab = open_lab(url)
    app = lab.app()
    async with app.open_async():
        worker_id = await app.job_manager.register_worker()
        job = await app.job_manager.fetch_job(queues=[queue], worker_id=worker_id)
        assert job is not None and job.task_name == MEASURE_TASK
        await app.job_manager.finish_job(job=job, status=procrastinate.jobs.Status.FAILED, delete_job=False)
        await app.job_manager.unregister_worker(worker_id)
    lab.engine.dispose()
