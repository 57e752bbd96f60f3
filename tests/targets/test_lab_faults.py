"""Phone-lab robustness on two virtual devices: one dies mid-session and comes back; every run is
stored exactly once and the other device is unaffected."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import REAL_MODELS

MOBILENET = REAL_MODELS / "tfls_mobilenet_v1_0.25_224_float.tflite"
HELLO = REAL_MODELS / "tflm_hello_world_float.tflite"


def _stored(db: Path, target: str | None = None) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db) as con:
            if target is None:
                return con.execute("select count(*) from runs").fetchone()[0]
            return con.execute("select count(*) from runs where target = ?", (target,)).fetchone()[0]
    except sqlite3.OperationalError:
        return 0


@pytest.mark.slow
def test_a_device_killed_and_restarted_mid_session_redoes_only_its_interrupted_run(lab):
    a, b = lab.serials
    port_a = a.rsplit(":", 1)[1]
    env = dict(os.environ, EDGEBENCH_WORKSPACE=str(lab.workspace))
    db = lab.workspace / "results.sqlite"
    before = _stored(db)
    args = [sys.executable, "-m", "edgebench.cli.main", "push-and-run", str(MOBILENET), str(HELLO),
            "--target", f"{a},{b}", "--protocol", "smoke", "--runs", "600", "--threads", "1,2",
            "--reconnect-timeout", "60", "--json"]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while _stored(db, a) < 1:  # a's first run is stored: a is mid-session now
        assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.poll() else ""
        time.sleep(0.05)
    serialno = next(line.split()[0] for line in subprocess.run(
        [sys.executable, "-m", "edgebench.cli.main", "virtual-device", "list"], env=env, capture_output=True,
        text=True).stdout.splitlines() if a in line)
    subprocess.run([sys.executable, "-m", "edgebench.cli.main", "virtual-device", "stop", serialno], env=env,
                   check=True, capture_output=True)
    time.sleep(3)  # gone for a while, as a rebooting phone is
    subprocess.run([sys.executable, "-m", "edgebench.cli.main", "virtual-device", "start", "--port", port_a],
                   env=env, check=True, capture_output=True)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    records = json.loads(out)
    keys = [(r["target"], r["model"], r["config"]["threads"], r["repeat"]) for r in records]
    assert len(keys) == len(set(keys)) == 8  # 2 devices × 2 models × 2 configs, each exactly once
    assert all(r["status"] == "ok" for r in records)
    assert _stored(db) - before == 8
    with sqlite3.connect(db) as con:
        per_target = dict(con.execute("select target, count(*) from runs where session = ? group by target",
                                      (records[0]["session"],)))
    assert per_target == {a: 4, b: 4}


@pytest.mark.slow
def test_a_device_that_stays_gone_is_reported_and_the_other_finishes(lab, tmp_path):
    a, b = lab.serials
    env = dict(os.environ, EDGEBENCH_WORKSPACE=str(lab.workspace))
    proc = subprocess.Popen([sys.executable, "-m", "edgebench.cli.main", "push-and-run", str(MOBILENET),
                             "--target", f"{a},{b}", "--protocol", "smoke", "--runs", "1500", "--repeats", "3",
                             "--reconnect-timeout", "5", "--json"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        # Dropped mid-run (a fixed delay from the start could land before the session has even named the device,
        # on a loaded host): once a's harness runs, its link goes and stays gone.
        deadline = time.monotonic() + 120
        while "edgebench_runner" not in _device_shell(lab, a, "ps -A -o NAME 2>/dev/null || ps"):
            assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.poll() else ""
            time.sleep(0.1)
        subprocess.run([sys.executable, "-m", "edgebench.cli.main", "virtual-device", "fault", a,
                        "--drop-after-seconds", "0", "--come-back-after", "600"], env=env, check=True,
                       capture_output=True)
        out, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
        subprocess.run([sys.executable, "-m", "edgebench.cli.main", "virtual-device", "fault", a, "--clear"],
                       env=env, capture_output=True)
    assert proc.returncode == 1
    records = json.loads(out)
    on_b = [r for r in records if r["target"] == b]
    assert len(on_b) == 3 and all(r["status"] == "ok" for r in on_b)
    failed_a = [r for r in records if r["target"] == a and r["status"] == "failed"]
    assert failed_a and "did not come back" in failed_a[0]["error"], [r["error"] for r in failed_a]
    assert f"device {a}" in err and "--resume" in err


def _device_shell(lab, serial: str, command: str) -> str:
    return lab.adb.run("-s", serial, "shell", command).stdout.decode()


def _wait_online(lab, serial: str, timeout_s: float = 60) -> None:
    """After an earlier test dropped it: dial the device again until the server sees it as a device."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        lab.adb.run("connect", serial)
        if lab.adb.run("-s", serial, "get-state").stdout.decode().strip() == "device":
            return
        time.sleep(1)
    raise AssertionError(f"{serial} did not come back online")


@pytest.mark.slow
def test_sigterm_kills_the_harness_on_the_device_and_leaves_the_session_resumable(lab):
    import signal

    a = lab.serials[0]
    _wait_online(lab, a)
    env = dict(os.environ, EDGEBENCH_WORKSPACE=str(lab.workspace))
    args = [sys.executable, "-m", "edgebench.cli.main", "push-and-run", str(MOBILENET), "--target", a,
            "--protocol", "smoke", "--runs", "20000", "--repeats", "2"]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while "edgebench_runner" not in _device_shell(lab, a, "ps -A -o NAME 2>/dev/null || ps"):
        assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.poll() else ""
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "--resume" in err
    assert "edgebench_runner" not in _device_shell(lab, a, "ps -A -o NAME 2>/dev/null || ps")
    session = err.split("--resume ")[1].split()[0]
    assert _device_shell(lab, a, f"ls /data/local/tmp/edgebench/runs/{session} 2>/dev/null").strip() == ""
    resumed = subprocess.run([*args[:-4], "--runs", "300", "--repeats", "2", "--resume", session], env=env,
                             capture_output=True, text=True, timeout=120)
    # A different --runs is a different protocol: the resumed runs are new keys in the same session.
    assert resumed.returncode == 0, resumed.stderr


@pytest.mark.slow
def test_a_lock_held_by_another_host_is_refused_and_a_stale_one_taken_over(lab, capsys):
    a = lab.serials[1]
    owner = '{"host": "lab-host-7", "pid": 4242, "user": "ana", "session": "theirs", "since_utc": "now"}'
    _device_shell(lab, a, f"mkdir -p /data/local/tmp/edgebench/.lock && echo '{owner}' > "
                          "/data/local/tmp/edgebench/.lock/owner.json")
    try:
        code = lab.cli("push-and-run", str(HELLO), "--target", a, "--protocol", "smoke", "--runs", "10")
        err = capsys.readouterr().err
        assert code == 3 and "ana@lab-host-7 pid 4242" in err and "theirs" in err
        # Its holder stopped heartbeating long ago: stale, taken over.
        _device_shell(lab, a, "touch -d 2000-01-01T00:00:00 /data/local/tmp/edgebench/.lock")
        assert lab.cli("push-and-run", str(HELLO), "--target", a, "--protocol", "smoke", "--runs", "10") == 0
        assert _device_shell(lab, a, "ls /data/local/tmp/edgebench/.lock 2>/dev/null").strip() == ""
    finally:
        _device_shell(lab, a, "rm -rf /data/local/tmp/edgebench/.lock")
