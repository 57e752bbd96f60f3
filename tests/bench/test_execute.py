"""A battery run's runner output too large to analyse is refused with the way out, before it exhausts memory."""
from types import SimpleNamespace

import pytest

from edgebench.bench import execute
from edgebench.errors import ParseError


def test_a_huge_per_inference_output_is_refused_with_the_way_out(tmp_path, monkeypatch):
    line = '{"schema":1,"type":"run","index":0,"latency_us":3.6,"start_ns":1}\n'
    (tmp_path / "runner.jsonl").write_text(line * 50)
    run = SimpleNamespace(out_dir=tmp_path, exit_code=0, stderr_tail="")
    with pytest.raises(ParseError, match=r"50 lines, one per inference.*--inference-rate"):
        execute.read_pulled_run(run, sysroot="", max_runner_bytes=1000)
    # Latency runs (bounded by their run count) keep no such limit: the same file is read.
    with pytest.raises(ParseError, match="run index 0 out of order"):  # parsed, not refused for its size
        execute.read_pulled_run(run, sysroot="")


def _runner_output(model_sha: str, lib_sha: str):
    import json

    from edgebench.harness.output import parse_harness_output

    lines = [{"type": "start", "runner_version": "1.1.0", "boottime_ns": 1},
             {"type": "runtime", "library_path": "/data/local/tmp/edgebench/lib/libLiteRt.so",
              "library_sha256": lib_sha, "api_generation": "2.2+"},
             {"type": "setup", "inputs": [], "outputs": [], "threads": 1, "accelerator_requested": "cpu",
              "accelerator_used": "cpu", "model_path": "/data/local/tmp/edgebench/models/ab.tflite",
              "model_sha256": model_sha},
             {"type": "end", "status": "failed", "exit_code": 6}]
    return parse_harness_output("\n".join(json.dumps({"schema": 1, **line}) for line in lines))


def test_runner_hashes_are_compared_with_the_hosts(tmp_path):
    from edgebench.bench.plan import ModelFile

    target = SimpleNamespace(name="emulator-5554", device_path=lambda rel: f"/data/local/tmp/edgebench/{rel}")
    dep = SimpleNamespace(target=target, runtime_sha256="11" * 32, library="/data/local/tmp/edgebench/lib/libLiteRt.so")
    model = ModelFile(path=tmp_path / "m.tflite", name="m.tflite", sha256="aa" * 32, size_bytes=10)
    assert execute.identity_mismatch(_runner_output("aa" * 32, "11" * 32), model, dep) is None
    runtime = execute.identity_mismatch(_runner_output("aa" * 32, "22" * 32), model, dep)
    assert runtime.startswith("emulator-5554: the runtime at /data/local/tmp/edgebench/lib/libLiteRt.so")
    assert "22" * 32 in runtime and "11" * 32 in runtime and "model" not in runtime.split(".")[0]
    both = execute.identity_mismatch(_runner_output("bb" * 32, "22" * 32), model, dep)
    assert "/data/local/tmp/edgebench/models/ab.tflite has sha256 " + "bb" * 32 in both
    assert f"{tmp_path / 'm.tflite'} on the host has {'aa' * 32}" in both and "22" * 32 in both
