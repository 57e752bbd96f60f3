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
    subprocess.run([sys.executable, "-m", "edgebench.cli.main", "virtual-device", "fault", a,
                    "--drop-after-seconds", "2", "--come-back-after", "600"], env=env, check=True, capture_output=True)
    try:
        result = subprocess.run([sys.executable, "-m", "edgebench.cli.main", "push-and-run", str(MOBILENET),
                                 "--target", f"{a},{b}", "--protocol", "smoke", "--runs", "1500", "--repeats", "3",
                                 "--reconnect-timeout", "5", "--json"], env=env, capture_output=True, text=True,
                                timeout=300)
    finally:
        subprocess.run([sys.executable, "-m", "edgebench.cli.main", "virtual-device", "fault", a, "--clear"],
                       env=env, capture_output=True)
    assert result.returncode == 1
    records = json.loads(result.stdout)
    on_b = [r for r in records if r["target"] == b]
    assert len(on_b) == 3 and all(r["status"] == "ok" for r in on_b)
    failed_a = [r for r in records if r["target"] == a and r["status"] == "failed"]
    assert failed_a and "did not come back" in failed_a[0]["error"]
    assert f"device {a}" in result.stderr and "--resume" in result.stderr
