"""The driver invocation of a run, built in one place for latency and battery runs (bench/invocation.py)."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from edgebench.bench.invocation import Deployment, IdleWindows, build_invocation
from edgebench.bench.plan import ModelFile
from edgebench.protocols import resolve as resolve_protocol
from edgebench.records import RunConfig

TARGET = SimpleNamespace(name="emulator-5554", sysroot="", device_path=lambda rel: f"/data/local/tmp/edgebench/{rel}")
DEP = Deployment(target=TARGET, harness_build_id="b", runtime_sha256="11" * 32,  # type: ignore[arg-type]
                 bin_dir="/data/local/tmp/edgebench/bin", library="/data/local/tmp/edgebench/lib/libLiteRt.so")
MODEL = ModelFile(path=Path("m.tflite"), name="m.tflite", sha256="ab" * 32, size_bytes=10)


def test_a_latency_run_gets_the_protocols_loop_the_config_and_the_shapes() -> None:
    protocol = resolve_protocol("smoke")
    eff = protocol.effective
    shapes = SimpleNamespace(runner_args=lambda: ["--input-shape", "image=1,64,48,3"])
    inv = build_invocation(DEP, MODEL, RunConfig(4, "cpu", "f0"), protocol, sample_ms=100, timeout_margin_s=180.0,
                           shape_plan=shapes)  # type: ignore[arg-type]
    assert list(inv.args[:4]) == ["--model", f"/data/local/tmp/edgebench/models/{'ab' * 8}.tflite",
                                  "--lib", DEP.library]
    words = " ".join(inv.args)
    assert f"--threads 4 --accelerator cpu --warmup-runs {eff.warmup_runs}" in words
    assert f"--runs {eff.runs} --min-seconds {eff.min_seconds:g} --max-seconds {eff.max_seconds:g}" in words
    assert "--input-seed 1" in words and words.endswith("--input-shape image=1,64,48,3")
    assert inv.env == {"EDGEBENCH_SYSROOT": "", "EDGEBENCH_BIN_DIR": DEP.bin_dir, "EDGEBENCH_ENGINE": "runner",
                       "EDGEBENCH_SAMPLE_MS": "100", "EDGEBENCH_CPU_MASK": "f0"}
    assert inv.timeout_s == eff.warmup_seconds + eff.max_seconds * 1.5 + 180.0


def test_idle_windows_add_the_drivers_markers_and_their_time_to_the_timeout() -> None:
    protocol = resolve_protocol("smoke")
    plain = build_invocation(DEP, MODEL, RunConfig(1, "cpu"), protocol, sample_ms=100, timeout_margin_s=180.0)
    idle = build_invocation(DEP, MODEL, RunConfig(1, "cpu"), protocol, sample_ms=100, timeout_margin_s=180.0,
                            idle=IdleWindows(8, "0123456789abcdef", "debug.edgebench.window"))
    assert idle.args == plain.args  # the same workload, only idle around it
    assert {k: v for k, v in idle.env.items() if k not in plain.env} == {
        "EDGEBENCH_IDLE_S": "8", "EDGEBENCH_RUN_ID": "0123456789abcdef",
        "EDGEBENCH_WINDOW_PROP": "debug.edgebench.window"}
    assert idle.timeout_s == plain.timeout_s + 16


def test_benchmark_model_gets_its_own_arguments_through_the_same_builder() -> None:
    inv = build_invocation(DEP, MODEL, RunConfig(2, "cpu"), resolve_protocol("smoke"), sample_ms=100,
                           timeout_margin_s=180.0, engine="benchmark_model")
    assert inv.env["EDGEBENCH_ENGINE"] == "benchmark_model"
    assert any(a.startswith("--graph=") for a in inv.args) and "--lib" not in inv.args

