"""push-and-run --check-outputs: the runner compares the model's outputs on the device with a reference
run on CPU on the same seeded inputs. Variants are made here from the real float MobileNet of the fixtures
by rewriting weight tensors in a copy of its file (buffers found with the flatbuffer reader edgebench.inspect
uses): one weight tensor zeroed (a broken variant), every weight rounded to int8 per output channel (an
honest int8-weight variant). Real harness build, real LiteRT, real SQLite; the virtual device runs the
arm64 build through adb."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from edgebench.cli.main import main
from edgebench.inspect.tflite_fbs import buffer_bytes
from tests.virtual.helpers import cli_lab

from ..conftest import FIXTURES, REAL_MODELS

FLOAT = REAL_MODELS / "tfls_mobilenet_v1_0.25_224_float.tflite"
HELLO = REAL_MODELS / "tflm_hello_world_float.tflite"
FLEX = FIXTURES / "models" / "eb_flex_matrix_determinant.tflite"
# standard with its loop cut short (recorded as `shortened`, allowed): outputs are checked by default.
SHORT_STANDARD = ("--protocol", "standard", "--runs", "2", "--warmup", "0", "--min-seconds", "0",
                  "--repeats", "1", "--cooldown", "0", "--json")
# A µs model warms up for millions of runs in standard's 2 warm-up seconds: smoke, with the check asked for.
SMOKE_CHECKED = ("--protocol", "smoke", "--runs", "2", "--warmup", "0", "--check-outputs", "--json")


def _variant(tmp_path: Path, name: str, change: Callable[[str, np.ndarray], None]) -> Path:
    """A copy of the float MobileNet whose float32 weight tensors went through `change` in place."""
    data = bytearray(FLOAT.read_bytes())
    model = schema.Model.GetRootAs(data, 0)
    graph = model.Subgraphs(0)
    for i in range(graph.TensorsLength()):
        tensor = graph.Tensors(i)
        label = tensor.Name().decode()
        if tensor.Type() != schema.TensorType.FLOAT32 or not label.endswith("weights"):
            continue
        assert buffer_bytes(bytes(data), model, tensor.Buffer()) > 0, label
        # DataAsNumpy is a view into `data`: writing it rewrites the file's bytes.
        weights = model.Buffers(tensor.Buffer()).DataAsNumpy().view(np.float32).reshape(tensor.ShapeAsNumpy())
        change(label, weights)
    path = tmp_path / name
    path.write_bytes(bytes(data))
    return path


def _zero_first_conv(label: str, w: np.ndarray) -> None:
    if label == "MobilenetV1/Conv2d_0/weights":
        w[...] = 0.0


def _int8_per_channel(label: str, w: np.ndarray) -> None:
    axis = 3 if w.shape[0] == 1 else 0  # depthwise [1,H,W,C]: channels last; conv [O,H,W,I]: first
    others = tuple(a for a in range(w.ndim) if a != axis)
    scale = np.abs(w).max(axis=others, keepdims=True) / 127.0
    scale[scale == 0] = 1.0
    w[...] = np.round(w / scale) * scale


def _records(capsys, *argv: object) -> tuple[int, dict[str, dict]]:
    code = main(["push-and-run", *map(str, argv)])
    return code, {r["model"]: r for r in json.loads(capsys.readouterr().out)}


def _agreement(record: dict) -> dict:
    return {"outcome": record["checks"]["output_agreement"],
            "reason": record["check_reasons"].get("output_agreement")}


def test_a_corrupted_variant_fails_and_an_honest_one_passes_against_the_parent(workspace, tmp_path, capsys):
    broken = _variant(tmp_path, "broken.tflite", _zero_first_conv)
    honest = _variant(tmp_path, "int8_weights.tflite", _int8_per_channel)
    code, records = _records(capsys, broken, honest, "--reference", FLOAT, *SHORT_STANDARD)
    bad, good = _agreement(records["broken.tflite"]), _agreement(records["int8_weights.tflite"])
    assert bad["outcome"] == "fail" and records["broken.tflite"]["status"] == "invalid", bad
    assert "cosine 0.1" in bad["reason"] and "< 0.95" in bad["reason"] and "max abs diff" in bad["reason"]
    assert good["outcome"] == "pass" and records["int8_weights.tflite"]["status"] == "ok", good
    assert "its float parent" not in good["reason"] and f"the reference {FLOAT.name}" in good["reason"]
    assert "cosine 0.9" in good["reason"] and "NaN 0, Inf 0" in good["reason"]
    assert code == 0


def test_a_reference_that_cannot_run_or_differs_is_not_checked_with_the_reason(workspace, capsys):
    _, records = _records(capsys, HELLO, "--reference", FLEX, *SMOKE_CHECKED)
    check = _agreement(records[HELLO.name])
    assert check["outcome"] == "not_checked" and records[HELLO.name]["status"] == "ok"
    assert "could not run on CPU" in check["reason"] and "unsupported_ops" in check["reason"]
    _, records = _records(capsys, HELLO, "--reference", FLOAT, *SMOKE_CHECKED)
    check = _agreement(records[HELLO.name])
    assert check["outcome"] == "not_checked" and "different signatures" in check["reason"]
    assert "1 elements in the model, 150528 in the reference" in check["reason"]


def test_on_by_default_for_standard_against_the_model_on_cpu_off_for_smoke(workspace, capsys):
    code, records = _records(capsys, FLOAT, *SHORT_STANDARD)
    check = _agreement(records[FLOAT.name])
    assert code == 0 and check["outcome"] == "pass" and "the same model on CPU" in check["reason"]
    assert "cosine 1" in check["reason"] and "max abs diff 0" in check["reason"]
    code, records = _records(capsys, FLOAT, "--protocol", "smoke", "--runs", "2", "--json")
    check = _agreement(records[FLOAT.name])
    assert check == {"outcome": "not_checked", "reason": "not requested: the smoke protocol does not check "
                                                        "outputs unless --check-outputs is given"}
    code, records = _records(capsys, FLOAT, *SHORT_STANDARD, "--no-check-outputs")
    assert _agreement(records[FLOAT.name])["reason"] == "--no-check-outputs was given"
    # The comparison table shows the verdict.
    assert main(["push-and-run", str(FLOAT), *SHORT_STANDARD[:-1]]) == 0
    out = capsys.readouterr().out
    assert "outputs" in out and "agree" in out


def test_a_corrupted_variant_fails_on_a_virtual_device(tmp_path, harness_cache, capsys):
    broken = _variant(tmp_path, "broken.tflite", _zero_first_conv)
    workspace = tmp_path / "ws"
    with cli_lab(workspace, harness_cache) as (_adb, serials):
        capsys.readouterr()  # the start lines
        code = main(["--workspace", str(workspace), "push-and-run", str(broken), "--target", serials[0],
                     "--protocol", "smoke", "--runs", "1", "--warmup", "0", "--check-outputs",
                     "--reference", str(FLOAT), "--json"])
        (record,) = json.loads(capsys.readouterr().out)
    check = _agreement(record)
    assert check["outcome"] == "fail" and record["status"] == "invalid", record
    assert "cosine 0.1" in check["reason"] and "L2" in check["reason"]
    assert code == 0


def test_an_int8_model_is_compared_with_its_float_parent_on_dequantized_values(workspace, capsys):
    int8 = REAL_MODELS / "tflm_hello_world_int8.tflite"  # int8 input and output, per-tensor scale/zero point
    code, records = _records(capsys, int8, "--reference", HELLO, *SMOKE_CHECKED)
    check = _agreement(records[int8.name])
    # One element: judged on NaN/Inf and collapse only. Its figures are reals: the int8 output 6 with
    # scale 0.00829 and zero point 5 reads 0.00829, not 6.
    assert code == 0 and check["outcome"] == "pass", check
    assert "L2 0.00829096" in check["reason"] and "NaN 0, Inf 0" in check["reason"]
