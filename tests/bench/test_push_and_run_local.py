"""push-and-run on the local target, end to end: real harness build, real LiteRT, real SQLite."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edgebench.cli.main import main

from ..conftest import REAL_MODELS

ADD = REAL_MODELS / "tflm_simple_add_model.tflite"
HELLO = REAL_MODELS / "tflm_hello_world_float.tflite"
PERSON = REAL_MODELS / "tflm_person_detect_int8.tflite"
MOBILENET = REAL_MODELS / "tfls_mobilenet_v1_0.25_224_float.tflite"  # ~1 ms: time-bounded loops stay small
REQUIRED_KEYS = {"run_id", "session", "model", "target", "config", "protocol", "repeat", "status", "checks",
                 "latency_us", "init_ms", "peak_rss_kb", "device_kind", "latency_source", "energy_source",
                 "simulated", "error"}


def _json_run(capsys, *argv) -> tuple[int, list[dict]]:
    code = main(["push-and-run", *map(str, argv), "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_records_have_the_documented_shape_at_two_thread_counts(workspace, capsys):
    code, records = _json_run(capsys, ADD, HELLO, "--protocol", "smoke", "--threads", "1,2")
    assert code == 0
    assert len(records) == 4
    assert {(r["model"], r["config"]["threads"]) for r in records} == {
        (ADD.name, 1), (ADD.name, 2), (HELLO.name, 1), (HELLO.name, 2)}
    for r in records:
        assert REQUIRED_KEYS <= r.keys()
        assert r["status"] == "ok" and r["error"] is None
        assert r["target"] == "local" and r["device_kind"] == "local"
        assert r["latency_source"] == "measured" and r["energy_source"] == "none" and r["simulated"] is False
        assert r["config"] == {"threads": r["config"]["threads"], "accelerator": "cpu", "cpu_mask": None}
        lat = r["latency_us"]
        assert lat["count"] >= 50 and 0 < lat["min"] <= lat["median"] <= lat["p90"] <= lat["p99"] <= lat["max"]
        assert r["init_ms"] > 0 and r["peak_rss_kb"] > 0
        assert r["checks"]["timed_runs"] == "pass" and r["checks"]["thermal"] in ("pass", "not_checked")
        assert set(r["checks"].values()) <= {"pass", "fail", "not_checked"}


def test_bad_models_fail_clearly_while_good_ones_run(workspace, tmp_path, capsys):
    text_model = tmp_path / "notes.tflite"
    text_model.write_text("this is not a model\n")
    truncated = tmp_path / "truncated.tflite"
    truncated.write_bytes(PERSON.read_bytes()[:4000])
    code = main(["push-and-run", str(ADD), str(text_model), str(truncated), str(tmp_path / "missing.tflite"),
                 "--protocol", "smoke", "--json"])
    captured = capsys.readouterr()
    records = {r["model"]: r for r in json.loads(captured.out)}
    assert code == 1
    assert records[ADD.name]["status"] == "ok"
    assert records["notes.tflite"]["status"] == "failed"
    assert "not_a_model" in records["notes.tflite"]["error"]
    assert records["truncated.tflite"]["status"] == "failed" and records["truncated.tflite"]["error"]
    assert records["notes.tflite"]["latency_us"] is None  # no numbers for a failed run, not zeros
    assert "missing.tflite" in captured.err and "does not exist" in captured.err


def test_shortened_runs_stay_ok_and_are_marked(workspace, capsys):
    code, (record,) = _json_run(capsys, MOBILENET, "--protocol", "standard", "--runs", "30", "--min-seconds", "0",
                                "--warmup", "2", "--repeats", "1", "--cooldown", "0")
    assert code == 0 and record["status"] == "ok"
    assert record["checks"]["shortened"] == "fail"
    assert "below the standard preset" in record["check_reasons"]["shortened"]


def test_gpu_request_without_gpu_is_recorded_as_fallback_not_hidden(workspace, capsys):
    code, (record,) = _json_run(capsys, ADD, "--protocol", "smoke", "--accel", "gpu")
    assert record["config"]["accelerator"] == "gpu"
    if record["accelerator_used"] == "gpu":
        pytest.skip("this machine has a usable GPU")
    assert record["status"] == "invalid" and record["checks"]["accelerator"] == "fail"
    assert record["accelerator_used"] == "cpu" and "gpu requested" in record["check_reasons"]["accelerator"]


def test_results_export_formats(workspace, tmp_path, capsys):
    main(["push-and-run", str(ADD), "--protocol", "smoke"])
    capsys.readouterr()
    assert main(["results", "export", "--format", "csv"]) == 0
    csv_text = capsys.readouterr().out
    assert "run_id" in csv_text.splitlines()[0] and ADD.name in csv_text
    assert main(["results", "export", "--format", "json", "--table", "latency_samples"]) == 0
    samples = json.loads(capsys.readouterr().out)
    assert len([s for s in samples if s["phase"] == "timed"]) >= 50
    out = tmp_path / "runs.parquet"
    assert main(["results", "export", "--format", "parquet", "-o", str(out)]) == 0
    import pandas as pd

    assert pd.read_parquet(out)["model"].tolist() == [ADD.name]


def test_killed_session_resumes_without_redoing_or_half_rows(workspace, tmp_path):
    """SIGKILL the CLI mid-session, then --resume: every planned run stored exactly once."""
    env = {**os.environ, "EDGEBENCH_WORKSPACE": str(workspace)}
    args = [sys.executable, "-m", "edgebench.cli.main", "push-and-run", str(MOBILENET), str(HELLO),
            "--protocol", "smoke", "--runs", "400", "--repeats", "2", "--json"]
    db = Path(workspace) / "results.sqlite"
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def stored() -> int:
        if not db.exists():
            return 0
        try:
            with sqlite3.connect(db) as con:
                return con.execute("select count(*) from runs").fetchone()[0]
        except sqlite3.OperationalError:
            return 0

    deadline = time.monotonic() + 120
    while stored() < 1 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.1)
    time.sleep(0.3)  # into the next run
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = stored()
    assert 1 <= before < 4, "the kill should land mid-session"
    with sqlite3.connect(db) as con:
        first_ids = {r[0] for r in con.execute("select run_id from runs")}
        # No half runs: every stored ok run has its summary and samples.
        orphans = con.execute("select count(*) from runs r left join summaries s on r.run_id = s.run_id "
                              "where r.status = 'ok' and s.run_id is null").fetchone()[0]
        assert orphans == 0

    resumed = subprocess.run([*args, "--resume"], env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    records = json.loads(resumed.stdout)
    assert len(records) == 4
    assert len({r["run_id"] for r in records}) == 4
    assert first_ids <= {r["run_id"] for r in records}
    assert len({r["session"] for r in records}) == 1
    assert "already stored were skipped" in resumed.stderr
    with sqlite3.connect(db) as con:
        assert con.execute("select count(*) from runs").fetchone()[0] == 4
        # Samples of the killed run in flight were never stored; each stored run owns its samples.
        per_run = dict(con.execute("select run_id, count(*) from latency_samples where phase='timed' group by run_id"))
        assert set(per_run) == {r["run_id"] for r in records}


def test_resume_of_unknown_session_is_a_clear_error(workspace, capsys):
    code = main(["push-and-run", str(ADD), "--resume", "nope"])
    assert code == 2
    assert "no stored session 'nope'" in capsys.readouterr().err


def test_identical_bytes_under_two_names_are_measured_once(workspace, tmp_path, capsys):
    twin = tmp_path / "copy of add.tflite"
    twin.write_bytes(ADD.read_bytes())
    code = main(["push-and-run", str(ADD), str(twin), "--protocol", "smoke", "--runs", "10", "--json"])
    captured = capsys.readouterr()
    records = json.loads(captured.out)
    assert [r["model"] for r in records] == [ADD.name]
    assert "same bytes" in captured.err and code == 1  # reported, so nobody thinks both were measured


def test_a_same_size_model_changed_on_the_target_is_refused_with_both_hashes(workspace, capsys):
    """Staging skips a file whose size (and here mtime) match its manifest; the runner's own hash of the
    model must still match the host's, or the run would be recorded under the wrong identity."""
    import hashlib

    code, _ = _json_run(capsys, HELLO, "--protocol", "smoke", "--runs", "5")
    assert code == 0
    staged = next((workspace / "local-device" / "models").glob("*.tflite"))
    stat = staged.stat()
    data = bytearray(staged.read_bytes())
    data[-1] ^= 0xFF  # same size, different bytes
    staged.write_bytes(bytes(data))
    os.utime(staged, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    device_sha = hashlib.sha256(bytes(data)).hexdigest()
    host_sha = hashlib.sha256(HELLO.read_bytes()).hexdigest()

    code, records = _json_run(capsys, HELLO, "--protocol", "smoke", "--runs", "5")
    assert code != 0 and len(records) == 1
    record = records[0]
    assert record["status"] == "failed", record
    error = record["error"]
    assert error.startswith("local: ") and str(staged) in error and str(HELLO) in error
    assert f"sha256 {device_sha}" in error and f"has {host_sha}" in error and "--verify" in error
    # The way out works: --verify re-hashes and re-pushes, and the run is measured again.
    code, records = _json_run(capsys, HELLO, "--protocol", "smoke", "--runs", "5", "--verify")
    assert code == 0 and records[0]["status"] == "ok"
