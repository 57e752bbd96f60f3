import json

from edgebench.bench.checks import Telemetry, evaluate, is_invalid
from edgebench.harness.output import parse_harness_output
from edgebench.protocols import resolve
from edgebench.records import RunConfig


def _output(n_runs=60, latency=1000.0, accel_used="cpu", fully=None, warmups=5):
    lines = [{"type": "start", "runner_version": "1", "boottime_ns": 0},
             {"type": "setup", "inputs": [], "outputs": [], "threads": 1, "accelerator_requested": "cpu",
              "accelerator_used": accel_used, "fallback_reason": "no adapter" if accel_used == "cpu" else None,
              "fully_accelerated": fully}]
    lines += [{"type": "warmup", "index": i, "latency_us": latency, "start_ns": 0} for i in range(warmups)]
    lines += [{"type": "run", "index": i, "latency_us": latency, "start_ns": int(i * latency * 1000)}
              for i in range(n_runs)]
    lines += [{"type": "summary", "count": n_runs, "min_us": latency, "median_us": latency, "max_us": latency},
              {"type": "end", "status": "ok", "exit_code": 0}]
    return parse_harness_output("\n".join(json.dumps({"schema": 1, **l}) for l in lines))


def _by_name(checks):
    return {c.name: c for c in checks}


def test_clean_smoke_run_is_valid_and_unknowns_are_not_checked():
    checks = _by_name(evaluate(_output(), resolve("smoke"), RunConfig(1, "cpu"), Telemetry()))
    assert checks["timed_runs"].outcome == "pass" and checks["warmup"].outcome == "pass"
    assert checks["thermal"].outcome == "not_checked" and checks["thermal"].reason
    assert checks["cpu_frequency"].outcome == "not_checked"
    assert checks["battery_level"].outcome == "not_checked"
    assert not is_invalid(checks.values())


def test_too_few_runs_or_seconds_invalidate():
    checks = _by_name(evaluate(_output(n_runs=20), resolve("smoke"), RunConfig(1, "cpu"), Telemetry()))
    assert checks["timed_runs"].outcome == "fail" and "20 timed runs < 50" in checks["timed_runs"].reason
    checks = _by_name(evaluate(_output(n_runs=300), resolve("standard"), RunConfig(1, "cpu"), Telemetry()))
    assert checks["timed_seconds"].outcome == "fail"  # 300 × 1 ms = 0.3 s < 10 s
    assert is_invalid(checks.values())


def test_shortened_is_advisory():
    checks = _by_name(evaluate(_output(n_runs=10), resolve("smoke", runs=10), RunConfig(1, "cpu"), Telemetry()))
    assert checks["shortened"].outcome == "fail" and checks["shortened"].advisory
    assert not is_invalid(checks.values())


def test_accelerator_fallback_invalidates_with_the_reason():
    checks = _by_name(evaluate(_output(accel_used="cpu"), resolve("smoke"), RunConfig(1, "gpu"), Telemetry()))
    assert checks["accelerator"].outcome == "fail" and "no adapter" in checks["accelerator"].reason
    assert checks["fully_accelerated"].outcome == "not_checked"


def test_throttling_and_low_battery_invalidate():
    t = Telemetry(cooling_states=(("cooling_device0", 2),), core_freqs_khz=(("cpu4", (2000,) * 18 + (900,) * 2),),
                  battery_level_pct=12, has_battery=True)
    checks = _by_name(evaluate(_output(), resolve("smoke"), RunConfig(1, "cpu"), t))
    assert checks["thermal"].outcome == "fail" and "cooling_device0" in checks["thermal"].reason
    assert checks["cpu_frequency"].outcome == "fail" and "cpu4" in checks["cpu_frequency"].reason
    assert checks["battery_level"].outcome == "fail"
