"""The features a performance model learns from: a .tflite's facts read by `inspect` (FLOPs, parameters, op
counts by type, quantization, weight sparsity, input size) and a run's options (threads, accelerator, CPU mask,
device). Names are stable, so a model fitted on one table predicts on another:

    flops, flops_uncounted_op_types, params, param_bytes, size_bytes, input_elements, ops_total,
    op_count.<OP>, quant.<scheme>, sparsity
    threads, accel.<name>, cpu_mask.pinned, cpu_mask.cpus, cpu_mask.bit<i>, device.<label>, device.abi.<abi>,
    device.cpu_count

A feature that cannot be known is absent from the dict, never 0: `sparsity` for a model without weight
tensors, `cpu_mask.cpus` of an unpinned run on a device of unknown core count.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Mapping

from edgebench.errors import UsageError

# inspect's quantization labels (inspect/tflite_quant.py); every one is a column, so names never depend on the rows.
QUANT_SCHEMES = (
    "float32", "float16", "dynamic_range_int8", "full_int8", "full_uint8", "int16x8", "mixed", "unknown")
ACCELERATORS = ("cpu", "gpu", "npu")
# Features read from a model file that take any value in a range (a new trial's model has FLOPs no
# fitted model had): a feature space checks their range only, never a set of levels.
MODEL_MAGNITUDES = ("flops", "flops_uncounted_op_types", "params", "param_bytes", "size_bytes", "input_elements",
                    "ops_total", "sparsity")
MODEL_MAGNITUDE_PREFIXES = ("op_count.",)


def is_model_magnitude(name: str) -> bool:
    """True for a feature measured off a model file (FLOPs, parameters, op counts, ...), as opposed to a run
    option or a category (threads, accelerator, CPU mask, device, quantization scheme)."""
    return name in MODEL_MAGNITUDES or name.startswith(MODEL_MAGNITUDE_PREFIXES)
_WEIGHT_DTYPES = {"float32": "<f4", "float16": "<f2", "int8": "i1", "uint8": "u1", "int16": "<i2"}
_HEX_MASK = re.compile(r"^(0x)?[0-9a-f]+$")


def model_features(path: str | Path) -> dict[str, float]:
    """The model features of one .tflite (read without TensorFlow by edgebench.inspect). A file inspect cannot
    read is a ModelError naming the file."""
    from edgebench.inspect.tflite_model import parse_tflite, read_model_bytes

    data = read_model_bytes(path)  # read once: parsed here and walked for sparsity below
    model = parse_tflite(data, source=str(path))
    features: dict[str, float] = {
        "flops": float(model.flops),
        "params": float(model.parameter_count),
        "param_bytes": float(model.parameter_bytes),
        "size_bytes": float(model.size_bytes),
        "input_elements": float(sum(math.prod(t.shape) for t in model.inputs)),
        "ops_total": float(model.operator_count),
        # `flops` is a lower bound when inspect has no rule for some op types: say how many there were.
        "flops_uncounted_op_types": float(len(model.flops_not_counted)),
    }
    for op, n in sorted(model.ops_by_type.items()):
        features[f"op_count.{op}"] = float(n)
    for scheme in QUANT_SCHEMES:
        features[f"quant.{scheme}"] = 1.0 if model.quantization == scheme else 0.0
    sparsity = weight_sparsity(data)
    if sparsity is not None:
        features["sparsity"] = sparsity
    return features


def weight_sparsity(data: bytes) -> float | None:
    """The share of weights that are exactly zero (a quantized weight: equal to its zero point), over every
    constant buffer in a weight position as inspect defines it (tflite_quant.WEIGHT_POSITIONS, and constants fed
    to DEQUANTIZE), each buffer counted once. None when the model has no such weights of a numeric type."""
    import numpy as np
    from ai_edge_litert import schema_py_generated as schema

    from edgebench.inspect import tflite_fbs as fbs
    from edgebench.inspect.tflite_quant import WEIGHT_POSITIONS

    data = fbs.StrictBytes(data)
    model = schema.Model.GetRootAs(data, 0)
    opcodes = [fbs.op_name(model.OperatorCodes(i))
               for i in range(fbs.count(model.OperatorCodesLength(), data, "operator code"))]
    dtypes = {v: k.lower() for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    seen: set[int] = set()
    zeros = total = 0
    for g_index in range(fbs.count(model.SubgraphsLength(), data, "subgraph")):
        graph = model.Subgraphs(g_index)
        for o in range(fbs.count(graph.OperatorsLength(), data, "operator")):
            op = graph.Operators(o)
            name = opcodes[op.OpcodeIndex()]
            positions = (0,) if name == "DEQUANTIZE" else WEIGHT_POSITIONS.get(name, ())
            inputs = op.InputsAsNumpy() if op.InputsLength() else []
            for position in positions:
                if position >= len(inputs) or inputs[position] < 0:
                    continue
                tensor = graph.Tensors(int(inputs[position]))
                dtype = _WEIGHT_DTYPES.get(dtypes.get(tensor.Type(), ""))
                if tensor.Buffer() in seen or dtype is None or not fbs.buffer_bytes(data, model, tensor.Buffer()):
                    continue
                seen.add(tensor.Buffer())
                values = np.frombuffer(_buffer(data, model, tensor.Buffer()), dtype=dtype)
                zeros += int(np.count_nonzero(values == _zero_points(tensor, values.shape[0])))
                total += values.shape[0]
    return zeros / total if total else None


def _buffer(data: bytes, model: Any, index: int) -> bytes:
    buffer = model.Buffers(index)
    if buffer.DataLength():
        return bytes(buffer.DataAsNumpy().tobytes())
    offset, size = int(buffer.Offset()), int(buffer.Size())  # >2 GB models keep data after the flatbuffer
    return bytes(data[offset:offset + size])


def _zero_points(tensor: Any, elements: int) -> Any:
    """What an exact zero is stored as: 0, or the zero point of each element's channel for quantized weights."""
    import numpy as np

    q = tensor.Quantization()
    if q is None or not q.ZeroPointLength():
        return 0
    points = q.ZeroPointAsNumpy()
    if len(points) == 1 or not tensor.ShapeLength():
        return int(points[0])
    shape = [int(d) for d in tensor.ShapeAsNumpy()]
    if math.prod(shape) != elements or shape[q.QuantizedDimension()] != len(points):
        return int(points[0])
    view = [1] * len(shape)
    view[q.QuantizedDimension()] = len(points)
    return np.broadcast_to(points.reshape(view), shape).reshape(-1)


def run_features(*, threads: int, accelerator: str, cpu_mask: str | None,
                 cpu_count: int | None) -> dict[str, float]:
    """A run's options as features: threads, a one-hot of the accelerator that ran, and the CPU mask as its CPU
    count and mask bits (an unpinned run may use every CPU: all of the device's, when its count is known)."""
    features: dict[str, float] = {"threads": float(threads)}
    for name in sorted({*ACCELERATORS, accelerator}):
        features[f"accel.{name}"] = 1.0 if name == accelerator else 0.0
    features["cpu_mask.pinned"] = 0.0 if cpu_mask is None else 1.0
    if cpu_mask is None:
        if cpu_count is not None:
            features["cpu_mask.cpus"] = float(cpu_count)
            features.update({f"cpu_mask.bit{i}": 1.0 for i in range(cpu_count)})
        return features
    text = cpu_mask.strip().lower()
    if not _HEX_MASK.match(text) or int(text.removeprefix("0x"), 16) == 0:
        raise UsageError(f"stored cpu_mask {cpu_mask!r}: expected a non-zero hex taskset mask such as f0")
    value = int(text.removeprefix("0x"), 16)
    features["cpu_mask.cpus"] = float(bin(value).count("1"))
    features.update({f"cpu_mask.bit{i}": float(value >> i & 1) for i in range(value.bit_length())})
    return features


def device_features(device: Mapping[str, Any], label: str) -> dict[str, float]:
    """A device's identity (`device.<label>`, one-hot across a table) and the facts the devices table holds of
    it: its ABI (one-hot `device.abi.<abi>`) and core count (`device.cpu_count`, when the target reported it)."""
    features = {f"device.{label}": 1.0}
    if device.get("abi"):
        features[f"device.abi.{device['abi']}"] = 1.0
    cpu_count = device_cpu_count(device)
    if cpu_count is not None:
        features["device.cpu_count"] = float(cpu_count)
    return features


def device_cpu_count(device: Mapping[str, Any]) -> int | None:
    """The CPU count the target reported when it was stored (info_json's cpu_count), or None."""
    import json

    try:
        info = json.loads(device.get("info_json") or "{}")
    except ValueError:
        return None
    count = info.get("cpu_count") if isinstance(info, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else None


def absent_value(name: str, features: Mapping[str, float]) -> float | None:
    """What a feature missing from one row's dict means when other rows have it: 0 for a count or a one-hot
    (the model has no such op; the run used another accelerator or device), 0 for a mask bit past a known
    mask's highest, and None (unknown) otherwise."""
    if name.startswith(("op_count.", "quant.", "accel.")):
        return 0.0
    if name.startswith("device.") and name != "device.cpu_count":
        return 0.0
    if name.startswith("cpu_mask.bit") and "cpu_mask.cpus" in features:
        return 0.0
    return None
