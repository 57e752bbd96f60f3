"""Two edgebench processes never measure one device at once; a dead holder's lock is not a wall."""
from __future__ import annotations

import subprocess
import sys
import textwrap

from edgebench.targets.locks import HostLock
from edgebench.cli.main import main
from edgebench.targets.local import host_machine_id

from ..conftest import REAL_MODELS

ADD = REAL_MODELS / "tflm_simple_add_model.tflite"


def test_a_lock_held_by_another_process_is_refused_naming_the_holder(workspace, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("EDGEBENCH_LOCK_DIR", str(tmp_path / "locks"))
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import os, sys, time
        os.environ["EDGEBENCH_LOCK_DIR"] = {str(tmp_path / "locks")!r}
        from edgebench.targets.locks import HostLock
        lock = HostLock({host_machine_id()!r}, "local")
        lock.acquire("other-session")
        print("locked", flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        code = main(["push-and-run", str(ADD), "--protocol", "smoke"])
        err = capsys.readouterr().err
        assert code == 3
        assert "<local>" in err and "being measured by" in err and "other-session" in err
        assert f"pid {holder.pid}" in err
    finally:
        holder.kill()
        holder.wait()
    # The holder died: the kernel dropped its flock, so the device is free again at once.
    assert main(["push-and-run", str(ADD), "--protocol", "smoke"]) == 0


def test_host_lock_is_exclusive_and_reusable(tmp_path):
    a = HostLock("dev-1", "serial", lock_dir=tmp_path)
    b = HostLock("dev-1", "serial", lock_dir=tmp_path)
    a.acquire("s1")
    try:
        import pytest

        from edgebench.targets.locks import DeviceBusyError

        with pytest.raises(DeviceBusyError, match="s1"):
            b.acquire("s2")
    finally:
        a.release()
    b.acquire("s2")
    b.release()


def test_host_lock_heartbeats_while_held_and_stops_on_release(tmp_path, monkeypatch):
    import os
    import time

    from edgebench.targets import locks

    monkeypatch.delenv("EDGEBENCH_LOCK_STALE_S", raising=False)
    monkeypatch.setattr(locks, "STALE_AFTER_S", 0.6)  # a beat every 0.1 s
    lock = HostLock("dev-1", "serial", lock_dir=tmp_path)
    lock.acquire("s1")
    try:
        os.utime(lock.path, (1_000_000_000, 1_000_000_000))
        time.sleep(0.5)
        assert os.stat(lock.path).st_mtime > time.time() - 5  # touched by the heartbeat, not by us
        heartbeat = lock._heartbeat
        assert heartbeat is not None and heartbeat.alive
    finally:
        lock.release()
    assert not heartbeat.alive


def test_the_stale_limit_can_be_set_and_is_checked(monkeypatch):
    import pytest

    from edgebench.targets import locks
    from edgebench.errors import UsageError

    monkeypatch.setenv(locks.STALE_ENV, "30")
    assert locks.stale_after_s() == 30
    for bad in ("nan", "inf", "0", "-5", "soon"):
        monkeypatch.setenv(locks.STALE_ENV, bad)
        expected = f"{locks.STALE_ENV} must be a positive number of seconds. Received: '{bad}'"
        with pytest.raises(UsageError, match=expected):
            locks.stale_after_s()
