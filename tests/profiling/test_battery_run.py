"""A battery run goes through bench's run pipeline: the same invocation builder as a latency run (with
the driver's idle windows) and the same checks of what the runner read before any energy is estimated."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from edgebench.bench.invocation import Deployment, IdleWindows, build_invocation
from edgebench.bench.plan import ModelFile
from edgebench.profiling.battery_run import (BATTERY_CONFIG, RUN_MARGIN_S, WINDOW_PROP, BatteryRunContext,
                                             as_resolved, run_battery)
from edgebench.profiling.protocol import BatteryProtocol
from edgebench.store import ResultsStore
from edgebench.targets.base import DeviceInfo, DriverResult
from edgebench.workspace import Workspace

ROOT = "/data/local/tmp/edgebench"
PROTOCOL = BatteryProtocol(warmup_s=2, duration_s=20, idle_s=8, repeats=1, rate_hz=50.0)
MODEL = ModelFile(path=Path("m.tflite"), name="m.tflite", sha256="aa" * 32, size_bytes=10)


def _runner_jsonl(model_sha: str) -> str:
    lines = [{"type": "start", "runner_version": "1.1.0", "boottime_ns": 1},
             {"type": "runtime", "library_path": f"{ROOT}/lib/libLiteRt.so", "library_sha256": "11" * 32,
              "api_generation": "2.2+"},
             {"type": "setup", "inputs": [], "outputs": [], "threads": 1, "accelerator_requested": "cpu",
              "accelerator_used": "cpu", "model_path": f"{ROOT}/models/{'aa' * 8}.tflite", "model_sha256": model_sha},
             {"type": "init", "stages_us": {}, "total_us": 1000.0},
             *({"type": "run", "index": i, "latency_us": 500.0, "start_ns": (12 + i) * 10**9} for i in range(3)),
             {"type": "summary", "count": 3, "min_us": 500.0, "median_us": 500.0, "max_us": 500.0},
             {"type": "end", "status": "ok", "exit_code": 0}]
    return "\n".join(json.dumps({"schema": 1, **line}) for line in lines) + "\n"


@dataclass
class ScriptedTarget:
    """Stands in for the phone's driver call only: it 'runs' by writing what the driver would pull."""

    runner_jsonl: str
    name: str = "SCRIPTED01"
    sysroot: str = ""
    calls: list = field(default_factory=list)

    def describe(self) -> DeviceInfo:
        return DeviceInfo(target=self.name, device_id="scripted:1", device_kind="phone", abi="arm64-v8a")

    def device_path(self, rel: str) -> str:
        return f"{ROOT}/{rel}"

    def run_driver(self, run_name, args, env, timeout_s, results_dir):  # type: ignore[no-untyped-def]
        self.calls.append((run_name, list(args), dict(env), timeout_s))
        results_dir.mkdir(parents=True, exist_ok=True)
        (results_dir / "runner.jsonl").write_text(self.runner_jsonl)
        (results_dir / "samples.jsonl").write_text("")
        (results_dir / "phases.txt").write_text("idle_pre_start 1.0\nworkload_start 10.0\nworkload_end 16.0\n"
                                                "idle_post_end 24.0\n")
        return DriverResult(exit_code=0, out_dir=results_dir, wall_seconds=40.0, stderr_tail="")

    def finish_run(self, run_name, *, keep, log_marker=None, log_path=None):  # type: ignore[no-untyped-def]
        pass


def _context(tmp_path: Path, target: ScriptedTarget) -> tuple[BatteryRunContext, ResultsStore]:
    store = ResultsStore(tmp_path / "results.sqlite")
    store.add_session("s1", started_at_utc="2026-01-01T00:00:00", command="t", host="h", version="0")
    store.upsert_device("scripted:1", "phone", {})
    store.upsert_variant(MODEL.sha256, MODEL.name, MODEL.size_bytes, {})
    dep = Deployment(target=target, harness_build_id="b1", runtime_sha256="11" * 32,  # type: ignore[arg-type]
                     bin_dir=f"{ROOT}/bin", library=f"{ROOT}/lib/libLiteRt.so")
    prepared = SimpleNamespace(battery_dir="/sys/class/power_supply/battery")
    # Only the driver call is scripted: the identity check must stop the run before the gauge is read.
    ctx = BatteryRunContext(Workspace.resolve(tmp_path / "ws"), store, target,  # type: ignore[arg-type]
                            PROTOCOL, (), False, dep, prepared, calibration=None)  # type: ignore[arg-type]
    return ctx, store


def test_the_battery_invocation_is_the_latency_one_with_idle_windows() -> None:
    target = ScriptedTarget("")
    dep = Deployment(target=target, harness_build_id="b1", runtime_sha256="11" * 32,  # type: ignore[arg-type]
                     bin_dir=f"{ROOT}/bin", library=f"{ROOT}/lib/libLiteRt.so")
    inv = build_invocation(dep, MODEL, BATTERY_CONFIG, as_resolved(PROTOCOL), sample_ms=100,
                           timeout_margin_s=RUN_MARGIN_S, idle=IdleWindows(8, "r1", WINDOW_PROP))
    assert list(inv.args) == ["--model", f"{ROOT}/models/{'aa' * 8}.tflite", "--lib", f"{ROOT}/lib/libLiteRt.so",
                              "--threads", "1", "--accelerator", "cpu", "--warmup-runs", "0", "--warmup-seconds", "2",
                              "--runs", "1", "--min-seconds", "20", "--max-seconds", "20", "--input-seed", "1",
                              "--hash-cache", f"{ROOT}/.hash-cache", "--run-delay-ms", "20"]
    assert inv.env["EDGEBENCH_IDLE_S"] == "8" and inv.env["EDGEBENCH_WINDOW_PROP"] == WINDOW_PROP
    assert inv.timeout_s == 2 * 8 + 2 + 20 * 1.5 + RUN_MARGIN_S


def test_a_model_changed_on_the_device_fails_the_battery_run_before_any_energy_is_estimated(tmp_path: Path) -> None:
    target = ScriptedTarget(_runner_jsonl("bb" * 32))
    ctx, store = _context(tmp_path, target)
    result = run_battery(ctx, "s1", MODEL, 0, None)
    assert result.energy is None and result.record.status == "failed"
    assert f"has sha256 {'bb' * 32}" in result.record.error and "--verify" in result.record.error
    (stored,) = store.runs("s1")
    assert stored.status == "failed" and stored.protocol == "battery" and stored.wall_seconds == 40.0
    assert store.energy_rows([stored.run_id]) == {}
    (_name, args, env, _timeout), = target.calls
    assert env["EDGEBENCH_RUN_ID"] == result.run_id and args[args.index("--min-seconds") + 1] == "20"


def test_a_connection_lost_mid_run_is_stored_failed_and_the_session_goes_on(tmp_path: Path) -> None:
    from edgebench.devices.adb import DeviceConnectionError

    class Dropping(ScriptedTarget):
        def run_driver(self, run_name, args, env, timeout_s, results_dir):  # type: ignore[no-untyped-def]
            raise DeviceConnectionError(self.name, "device offline", command="shell sh driver.sh")

    ctx, store = _context(tmp_path, Dropping(""))
    result = run_battery(ctx, "s1", MODEL, 0, None)
    assert result.record.status == "failed" and "device offline" in result.record.error
    assert [r.status for r in store.runs("s1")] == ["failed"]
