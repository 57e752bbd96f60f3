"""--engine benchmark_model: the official binary's text output becomes the same run records.

The official binary cannot be fetched here, so a stand-in script replays real captured output
(fixtures/real-device/a_benchmark_model); everything around it (staging, driver, pull, parse,
checks, store) is the real path.
"""
from __future__ import annotations

import json
from pathlib import Path

from edgebench.cli.main import main

from ..conftest import FIXTURES, REAL_MODELS

CAPTURES = FIXTURES / "real-device" / "a_benchmark_model"
ADD = REAL_MODELS / "tflm_simple_add_model.tflite"


def replaying_binary(tmp_path: Path, capture: str, exit_code: int = 0) -> Path:
    binary = tmp_path / f"benchmark_model_{exit_code}"
    text = (CAPTURES / capture).read_text()
    binary.write_text(f"#!/bin/sh\necho \"args: $*\" >&2\ncat <<'CAPTURE'\n{text}\nCAPTURE\nexit {exit_code}\n")
    binary.chmod(0o755)
    return binary


def test_benchmark_model_output_becomes_a_record_without_invented_percentiles(workspace, tmp_path, capsys):
    binary = replaying_binary(tmp_path, "imx8mp_linux_mobilenet_v1_quant_cpu_opprofiling.txt")
    code = main(["push-and-run", str(ADD), "--protocol", "smoke", "--warmup", "4", "--engine", "benchmark_model",
                 "--engine-binary", str(binary), "--json"])
    (record,) = json.loads(capsys.readouterr().out)
    assert code == 0 and record["status"] == "ok", record
    assert record["engine"] == "benchmark_model"
    lat = record["latency_us"]
    assert (lat["count"], lat["min"], lat["max"], lat["mean"], lat["std"]) == (50, 162744, 163299, 162980, 146)
    assert lat["median"] is None and lat["p90"] is None and lat["p99"] is None  # never guessed
    assert record["init_ms"] == 2.409 and record["first_inference_us"] == 169816
    assert record["peak_rss_kb"] == int(10.332 * 1024)
    assert record["checks"]["shortened"] == "fail"  # 4 warm-up runs < smoke's 5


def test_benchmark_model_failure_is_a_failed_run_with_its_reason(workspace, tmp_path, capsys):
    binary = replaying_binary(tmp_path, "xiaomi_mi11_sd888_nnapi_qti_default_yolov5s_int8_FAILED.txt", exit_code=1)
    code = main(["push-and-run", str(ADD), "--protocol", "smoke", "--engine", "benchmark_model",
                 "--engine-binary", str(binary), "--json"])
    (record,) = json.loads(capsys.readouterr().out)
    assert code == 1 and record["status"] == "failed"
    assert "NNAPI" in record["error"] or "failed" in record["error"].lower()
    assert record["latency_us"] is None


def test_engine_binary_is_required_and_checked(workspace, tmp_path, capsys):
    assert main(["push-and-run", str(ADD), "--engine", "benchmark_model"]) == 2
    assert "--engine-binary" in capsys.readouterr().err
    assert main(["push-and-run", str(ADD), "--engine", "benchmark_model",
                 "--engine-binary", str(tmp_path / "nope")]) == 2
