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
    assert record["checks"]["output_agreement"] == "not_checked"  # benchmark_model prints no outputs


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


def replaying_text(tmp_path: Path, text: str, name: str = "benchmark_model_made_up") -> Path:
    binary = tmp_path / name
    binary.write_text(f"#!/bin/sh\ncat <<'CAPTURE'\n{text}\nCAPTURE\nexit 0\n")
    binary.chmod(0o755)
    return binary


# Made up in the format of real TF 2.x builds (see tests/inspect/test_benchmark_delegates.py).
_XNNPACK_UNDER_GPU = """\
STARTING!
Log parameter values verbosely: [1]
Graph: [/data/local/tmp/m.tflite]
Use gpu: [1]
Loaded model /data/local/tmp/m.tflite
INFO: Created TensorFlow Lite XNNPACK delegate for CPU.
INFO: Replacing 64 out of 66 node(s) with delegate (TfLiteXNNPackDelegate) node, yielding 3 partitions.
The input model file size (MB): 3.5
Initialized session in 120.5ms.
Running benchmark for at least 5 iterations and at least 0.5 seconds but terminate if exceeding 150 seconds.
count=6 first=90000 curr=80000 min=79000 max=90000 avg=82000 std=3000

Running benchmark for at least 50 iterations and at least 1 seconds but terminate if exceeding 150 seconds.
count=50 first=80000 curr=80100 min=79500 max=81000 avg=80200 std=300

Inference timings in us: Init: 120500, First inference: 90000, Warmup (avg): 82000, Inference (avg): 80200
"""


def test_xnnpack_only_delegation_under_use_gpu_is_recorded_as_a_cpu_run(workspace, tmp_path, capsys):
    binary = replaying_text(tmp_path, _XNNPACK_UNDER_GPU)
    code = main(["push-and-run", str(ADD), "--protocol", "smoke", "--accel", "gpu", "--engine", "benchmark_model",
                 "--engine-binary", str(binary), "--json"])
    (record,) = json.loads(capsys.readouterr().out)
    assert record["config"]["accelerator"] == "gpu"
    assert record["accelerator_used"] == "cpu"  # what ran, not what was requested
    assert record["status"] == "invalid" and record["checks"]["accelerator"] == "fail"
    assert record["checks"]["fully_accelerated"] == "fail"
    assert "TfLiteXNNPackDelegate took 64 of 66 nodes" in record["check_reasons"]["accelerator"]
    assert "TfLiteXNNPackDelegate" in record["fallback_reason"]
    assert code == 0  # an invalid run is stored with its reasons, not a failure of the session


def test_nnapi_run_on_the_npu_passes_and_counts_its_own_nodes(workspace, tmp_path, capsys):
    binary = replaying_binary(tmp_path, "synaptics_synap_android_tf2.15_nnapi_npu_INFO_prefix.txt")
    main(["push-and-run", str(ADD), "--protocol", "smoke", "--accel", "npu", "--warmup", "1", "--engine",
          "benchmark_model", "--engine-binary", str(binary), "--json"])
    (record,) = json.loads(capsys.readouterr().out)
    assert record["accelerator_used"] == "npu" and record["fallback_reason"] is None
    assert record["checks"]["accelerator"] == "pass" and record["checks"]["fully_accelerated"] == "pass"


def test_a_log_that_names_no_delegate_leaves_the_accelerator_not_checked(workspace, tmp_path, capsys):
    silent = "\n".join(line for line in _XNNPACK_UNDER_GPU.splitlines() if "delegate" not in line.lower())
    binary = replaying_text(tmp_path, silent)
    main(["push-and-run", str(ADD), "--protocol", "smoke", "--accel", "gpu", "--engine", "benchmark_model",
          "--engine-binary", str(binary), "--json"])
    (record,) = json.loads(capsys.readouterr().out)
    assert record["accelerator_used"] is None
    assert record["checks"]["accelerator"] == "not_checked"
    assert record["checks"]["fully_accelerated"] == "not_checked"
    assert "names no delegate" in record["check_reasons"]["accelerator"]
