"""Model and run features: read from real .tflite files by inspect, checked against LiteRT's own view of the
weights, and the run options (threads, accelerator, CPU mask, device) as stable columns."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from edgebench.errors import UsageError
from edgebench.inspect.tflite_model import read_tflite
from edgebench.perfmodel.features import (QUANT_SCHEMES, absent_value, device_features, model_features,
                                          run_features, weight_sparsity)

from ..conftest import REAL_MODELS

HELLO_FLOAT = REAL_MODELS / "tflm_hello_world_float.tflite"  # 3 FULLY_CONNECTED: weights 16x1, 16x16, 1x16
HELLO_INT8 = REAL_MODELS / "tflm_hello_world_int8.tflite"
ADD = REAL_MODELS / "tflm_simple_add_model.tflite"  # one ADD of two inputs: no weights


def _weight_matrices(path: Path) -> list[tuple[np.ndarray, int]]:
    """LiteRT's view: the 2-D tensors holding data before any inference (in the hello-world models, exactly the
    3 FC weight matrices) and the zero point each is stored against."""
    interpreter = Interpreter(model_path=str(path))
    out = []
    for detail in interpreter.get_tensor_details():
        if len(detail["shape"]) == 2:
            try:
                values = interpreter.get_tensor(detail["index"])
            except ValueError:  # an activation: no data before invoke
                continue
            zero_points = detail["quantization_parameters"]["zero_points"]
            out.append((values, int(zero_points[0]) if len(zero_points) else 0))
    return out


def test_model_features_are_inspects_facts_under_stable_names():
    facts = read_tflite(HELLO_INT8)
    features = model_features(HELLO_INT8)
    assert features["flops"] == facts.flops == 576
    assert features["params"] == facts.parameter_count and features["param_bytes"] == facts.parameter_bytes
    assert features["size_bytes"] == HELLO_INT8.stat().st_size
    assert features["input_elements"] == 1.0  # one input of shape 1x1
    assert features["op_count.FULLY_CONNECTED"] == 3.0 and features["ops_total"] == 3.0
    assert {k: v for k, v in features.items() if k.startswith("quant.")} == {
        f"quant.{s}": float(s == "full_int8") for s in QUANT_SCHEMES}
    assert features["flops_uncounted_op_types"] == 0.0


def test_sparsity_matches_the_zeros_litert_sees_in_the_weights():
    for path in (HELLO_FLOAT, HELLO_INT8):
        matrices = _weight_matrices(path)
        zeros = sum(int(np.count_nonzero(values == zero_point)) for values, zero_point in matrices)
        total = sum(values.size for values, _ in matrices)
        assert total == 16 + 256 + 16, path.name
        assert model_features(path)["sparsity"] == pytest.approx(zeros / total), path.name


def test_sparsity_counts_weights_pruned_to_zero(tmp_path):
    data = bytearray(HELLO_FLOAT.read_bytes())
    ((square, _),) = [(v, z) for v, z in _weight_matrices(HELLO_FLOAT) if v.shape == (16, 16)]
    assert np.count_nonzero(square) == 256
    at = bytes(data).find(square.astype("<f4").tobytes())
    assert at > 0 and bytes(data).count(square.astype("<f4").tobytes()) == 1
    data[at:at + 128 * 4] = bytes(128 * 4)  # half the 16x16 matrix pruned
    pruned = tmp_path / "pruned.tflite"
    pruned.write_bytes(bytes(data))
    assert model_features(pruned)["sparsity"] == pytest.approx(128 / 288)


def test_a_model_without_weights_has_no_sparsity_rather_than_zero():
    assert weight_sparsity(ADD.read_bytes()) is None
    assert "sparsity" not in model_features(ADD)


def test_cpu_mask_as_its_cpu_count_and_bits():
    pinned = run_features(threads=2, accelerator="cpu", cpu_mask="0x5", cpu_count=8)
    assert pinned["threads"] == 2.0 and pinned["cpu_mask.pinned"] == 1.0 and pinned["cpu_mask.cpus"] == 2.0
    assert (pinned["cpu_mask.bit0"], pinned["cpu_mask.bit1"], pinned["cpu_mask.bit2"]) == (1.0, 0.0, 1.0)
    assert "cpu_mask.bit3" not in pinned and absent_value("cpu_mask.bit3", pinned) == 0.0
    assert run_features(threads=1, accelerator="cpu", cpu_mask="F0", cpu_count=None)["cpu_mask.cpus"] == 4.0
    unpinned = run_features(threads=1, accelerator="cpu", cpu_mask=None, cpu_count=4)
    assert unpinned["cpu_mask.pinned"] == 0.0 and unpinned["cpu_mask.cpus"] == 4.0
    assert [unpinned[f"cpu_mask.bit{i}"] for i in range(4)] == [1.0] * 4
    unknown = run_features(threads=1, accelerator="cpu", cpu_mask=None, cpu_count=None)
    assert "cpu_mask.cpus" not in unknown and absent_value("cpu_mask.bit0", unknown) is None
    with pytest.raises(UsageError, match="'0x0'.*non-zero hex"):
        run_features(threads=1, accelerator="cpu", cpu_mask="0x0", cpu_count=None)
    with pytest.raises(UsageError, match="'little'.*hex taskset mask"):
        run_features(threads=1, accelerator="cpu", cpu_mask="little", cpu_count=None)


def test_accelerator_and_device_one_hots():
    gpu = run_features(threads=1, accelerator="gpu", cpu_mask=None, cpu_count=None)
    assert (gpu["accel.cpu"], gpu["accel.gpu"], gpu["accel.npu"]) == (0.0, 1.0, 0.0)
    device = {"abi": "arm64-v8a", "info_json": json.dumps({"cpu_count": 8, "model": "SM-G960U"})}
    assert device_features(device, "SM-G960U") == {"device.SM-G960U": 1.0, "device.abi.arm64-v8a": 1.0,
                                                   "device.cpu_count": 8.0}
    assert device_features({"abi": None, "info_json": "{}"}, "x") == {"device.x": 1.0}
    assert absent_value("device.abi.x86_64", {}) == 0.0 and absent_value("device.cpu_count", {}) is None
    assert absent_value("op_count.CONV_2D", {}) == 0.0 and absent_value("sparsity", {}) is None
