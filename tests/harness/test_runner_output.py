"""edgebench_runner's JSON lines: order, schema, counts and statistics (android_harness/PROTOCOL.md)."""
from __future__ import annotations

import hashlib
import math
import os
import subprocess

import pytest

from edgebench.harness.output import parse_harness_output

from .conftest import QUICK, REAL_MODELS

ADD = REAL_MODELS / "tflm_simple_add_model.tflite"
MOBILENET = REAL_MODELS / "tfls_mobilenet_v1_0.25_224_float.tflite"

ORDER = ["start", "runtime", "setup", "init", "warmup", "run", "output", "summary", "profile",
         "resources", "end"]
FIELDS = {
    "start": {"runner_version", "argv", "boottime_ns", "pid", "latency_clock", "cpu_affinity"},
    "runtime": {"library_path", "library_sha256", "library_sha256_cached", "library_dir", "api_generation",
                "api_generation_evidence", "library_version"},
    "setup": {"model_path", "model_sha256", "model_sha256_cached", "model_bytes", "inputs", "outputs", "threads",
              "accelerator_requested", "accelerator_used", "fallback_reason", "fully_accelerated",
              "input_source", "input_seed"},
    "init": {"stages_us", "total_us"},
    "warmup": {"index", "latency_us", "start_ns"},
    "run": {"index", "latency_us", "start_ns"},
    "output": {"checksum", "outputs"},
    "summary": {"count", "min_us", "p10_us", "median_us", "p90_us", "p99_us", "max_us", "mean_us",
                "std_us", "timed_seconds", "stop_reason"},
    "profile": {"available", "runs", "ops", "nodes_delegated", "nodes_cpu", "model_ops", "unavailable"},
    "resources": {"peak_rss_kb", "threads_observed", "cpus_seen"},
    "error": {"stage", "code", "message"},
    "end": {"status", "exit_code"},
}
IO_FIELDS = {"index", "name", "tensor_name", "dtype", "shape", "shape_signature", "bytes"}


def check_ok_output(result) -> None:
    """Order and schema of a successful run, as PROTOCOL.md states them."""
    assert result.returncode == 0, result.stderr[-2000:]
    ranks = [ORDER.index(t) for t in result.types]
    assert ranks == sorted(ranks), f"lines out of order: {result.types}"
    assert result.types[0] == "start" and result.types[-1] == "end"
    for kind in ("start", "runtime", "setup", "init", "summary", "resources", "end"):
        result.one(kind)
    for line in result.lines:
        assert line["schema"] == 1
        missing = FIELDS[line["type"]] - line.keys()
        assert not missing, f"{line['type']} line lacks {missing}"
    for io in result.one("setup")["inputs"] + result.one("setup")["outputs"]:
        assert IO_FIELDS <= io.keys()
    for io in result.one("setup")["inputs"]:  # runner 1.1.0: where each input's shape came from
        assert io["shape_source"] in ("model", "option", "placeholder")
    assert result.one("end") == {"schema": 1, "type": "end", "status": "ok", "exit_code": 0}


def percentile(sorted_values: list[float], q: float) -> float:
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    if lo >= len(sorted_values) - 1:
        return sorted_values[-1]
    return sorted_values[lo] + (pos - lo) * (sorted_values[lo + 1] - sorted_values[lo])


def test_counts_are_honoured_and_summary_matches_run_lines(run_runner):
    result = run_runner(ADD, "--warmup-runs", "3", "--runs", "25", "--min-seconds", "0")
    check_ok_output(result)
    warm, runs = result.of("warmup"), result.of("run")
    assert [w["index"] for w in warm] == [0, 1, 2]
    assert [r["index"] for r in runs] == list(range(25))
    lat = sorted(r["latency_us"] for r in runs)
    s = result.one("summary")
    assert s["count"] == 25 and s["stop_reason"] == "completed"
    assert s["min_us"] == lat[0] and s["max_us"] == lat[-1]
    for key, q in (("p10_us", 0.1), ("median_us", 0.5), ("p90_us", 0.9), ("p99_us", 0.99)):
        assert s[key] == pytest.approx(percentile(lat, q), abs=1e-3)
    mean = sum(lat) / len(lat)
    assert s["mean_us"] == pytest.approx(mean, abs=1e-3)
    std = math.sqrt(sum((x - mean) ** 2 for x in lat) / (len(lat) - 1))
    assert s["std_us"] == pytest.approx(std, rel=1e-6, abs=1e-6)
    # Stamps are one clock: runs start after the warm-ups, in order, without overlapping.
    starts = [r["start_ns"] for r in runs]
    assert starts == sorted(starts) and warm[-1]["start_ns"] < starts[0]
    for a, b in zip(runs, runs[1:]):
        assert b["start_ns"] >= a["start_ns"] + a["latency_us"] * 1000 - 1
    end_ns = runs[-1]["start_ns"] + round(runs[-1]["latency_us"] * 1000)
    assert s["timed_seconds"] == pytest.approx((end_ns - starts[0]) / 1e9, abs=2e-9)
    assert result.one("start")["boottime_ns"] < warm[0]["start_ns"]


def test_min_seconds_extends_the_loop_and_max_seconds_cuts_it(run_runner):
    longer = run_runner(ADD, "--runs", "1", "--min-seconds", "0.3")
    s = longer.one("summary")
    assert s["count"] > 1 and s["timed_seconds"] >= 0.3 and s["stop_reason"] == "completed"
    cut = run_runner(ADD, "--runs", "100000000", "--min-seconds", "0", "--max-seconds", "0.2")
    s = cut.one("summary")
    assert s["stop_reason"] == "max_seconds" and 0 < s["count"] < 100000000
    assert 0.2 <= s["timed_seconds"] < 1.0
    assert len(cut.of("run")) == s["count"]


def test_run_delay_spaces_the_runs(run_runner):
    result = run_runner(ADD, "--runs", "3", "--min-seconds", "0", "--run-delay-ms", "30")
    starts = [r["start_ns"] for r in result.of("run")]
    assert all(b - a >= 30e6 for a, b in zip(starts, starts[1:]))


def test_zero_runs_gives_null_statistics_and_no_output_line(run_runner):
    result = run_runner(ADD, "--warmup-runs", "0", "--runs", "0", "--min-seconds", "0")
    assert result.returncode == 0
    s = result.one("summary")
    assert s["count"] == 0
    assert all(s[k] is None for k in ("min_us", "median_us", "max_us", "std_us", "timed_seconds"))
    assert result.of("output") == [] and result.of("run") == []


def test_runtime_line_identifies_the_library(run_runner, litert_lib):
    result = run_runner(ADD, *QUICK)
    rt = result.one("runtime")
    assert rt["library_sha256"] == hashlib.sha256(litert_lib.read_bytes()).hexdigest()
    assert rt["api_generation"] == "2.2+"  # ai-edge-litert 2.3.0
    assert "LiteRtCreateModelFromAllocation" in rt["api_generation_evidence"]
    assert rt["library_version"] is None  # no version query in the C API: never guessed
    setup = result.one("setup")
    assert setup["model_sha256"] == hashlib.sha256(ADD.read_bytes()).hexdigest()
    assert setup["model_bytes"] == ADD.stat().st_size


def test_init_stages_and_resources_are_measured(run_runner):
    result = run_runner(MOBILENET, *QUICK)
    check_ok_output(result)
    init = result.one("init")
    stages = init["stages_us"]
    assert set(stages) == {"load_library", "create_environment", "load_model", "compile", "create_buffers"}
    assert all(v > 0 for v in stages.values())
    assert init["total_us"] == pytest.approx(sum(stages.values()), abs=0.01)
    res = result.one("resources")
    assert res["peak_rss_kb"] > 1000 and res["threads_observed"] >= 1


def test_thread_count_reaches_the_runtime(run_runner):
    one = run_runner(MOBILENET, *QUICK, "--threads", "1")
    two = run_runner(MOBILENET, *QUICK, "--threads", "2")
    assert one.one("setup")["threads"] == 1 and two.one("setup")["threads"] == 2
    assert one.one("resources")["threads_observed"] == 1
    assert two.one("resources")["threads_observed"] >= 2


def test_start_line_reports_cpu_affinity(host_build, litert_lib):
    proc = subprocess.run(["taskset", "1", str(host_build.runner_path), "--model", str(ADD), "--lib",
                           str(litert_lib), *QUICK], capture_output=True, text=True, timeout=120)
    import json

    start = json.loads(proc.stdout.splitlines()[0])
    assert start["type"] == "start" and start["cpu_affinity"] == [0]


def test_resources_report_the_cpus_the_timed_loop_ran_on(host_build, litert_lib):
    """cpus_seen: where the threads that worked in the timed loop ran (the cpu_frequency check judges those)."""
    last = max(os.sched_getaffinity(0))
    proc = subprocess.run(["taskset", "-c", str(last), str(host_build.runner_path), "--model", str(MOBILENET),
                           "--lib", str(litert_lib), "--threads", "2", "--runs", "5", "--min-seconds", "0.2"],
                          capture_output=True, text=True, timeout=120)
    parsed = parse_harness_output(proc.stdout)
    assert parsed.ok and parsed.cpu_affinity == (last,) and parsed.cpus_seen == (last,)


def test_out_file_and_host_parser_accept_the_output(host_build, litert_lib, tmp_path):
    out = tmp_path / "runner.jsonl"
    proc = subprocess.run([str(host_build.runner_path), "--model", str(ADD), "--lib", str(litert_lib),
                           "--runs=4", "--min-seconds=0", f"--out={out}"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout == ""
    parsed = parse_harness_output(out.read_text())
    assert parsed.ok and len(parsed.timed) == 4 and parsed.api_generation == "2.2+"
    assert parsed.accelerator_used == "cpu" and parsed.fallback_reason is None


def test_help_and_version_exit_zero(host_build):
    for flag in ("--help", "--version"):
        proc = subprocess.run([str(host_build.runner_path), flag], capture_output=True, text=True)
        assert proc.returncode == 0 and "edgebench_runner" in proc.stdout
