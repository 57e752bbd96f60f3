"""Host validation of a .tflite with LiteRT's Interpreter: accuracy and agreement with Keras.

Inputs are quantized and outputs dequantized with the tensors' own scale and zero point, so an
int8 model is judged on the same float softmax as its Keras source. Models with a dynamic batch
run in chunks; fixed-batch models (LSTMs) one example at a time.

LiteRT applies its XNNPACK delegate by default, as phones' CPU paths do. XNNPACK refuses some
int8 models (e.g. a layer whose calibrated output is all zeros gets a scale near 1e-8); such a
model is then run with the builtin kernels and the refusal is recorded (`xnnpack_error`): it is
a warning that the model may also fail on the device's default CPU path.
"""
from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgebench.errors import ModelError

CHUNK = 64


@dataclass(frozen=True)
class HostValidation:
    samples: int
    xnnpack_error: str | None  # None: XNNPACK ran it; else why XNNPACK refused (builtin kernels ran it)
    accuracy: float
    keras_accuracy: float
    agreement: float  # fraction of examples with the same top-1 class as Keras
    max_abs_output_diff: float


def gzip_size(data: bytes) -> int:
    """Size of the file gzip-compressed at level 9 (the study's 'encoded size'); mtime fixed at 0."""
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def run_tflite(model: bytes | str | Path, x: np.ndarray) -> tuple[np.ndarray, str | None]:
    """Float outputs of the model's first output for every row of `x`, and XNNPACK's refusal (or None)."""
    try:
        return _run(model, x, xnnpack=True), None
    except RuntimeError as exc:
        if "XNNPACK" not in str(exc) and "XNNPack" not in str(exc):
            raise ModelError(f"LiteRT could not run the converted model: {exc}") from None
        return _run(model, x, xnnpack=False), str(exc).strip()


def _run(model: bytes | str | Path, x: np.ndarray, *, xnnpack: bool) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    kwargs = {} if xnnpack else {"experimental_op_resolver_type": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}
    source = {"model_content": model} if isinstance(model, bytes) else {"model_path": str(model)}
    try:
        it = Interpreter(**source, **kwargs)
    except ValueError as exc:
        raise ModelError(f"LiteRT could not load the converted model: {exc}") from None
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    dynamic = int(inp["shape_signature"][0]) == -1
    chunk = CHUNK if dynamic else int(inp["shape"][0])
    results = []
    allocated = None
    for start in range(0, len(x), chunk):
        batch = x[start:start + chunk]
        n = len(batch)
        if dynamic and allocated != n:
            it.resize_tensor_input(inp["index"], [n, *inp["shape"][1:]])
            it.allocate_tensors()
            allocated = n
        elif allocated is None:
            it.allocate_tensors()
            allocated = chunk
        if not dynamic and n < chunk:  # pad the last fixed batch, drop the padding's outputs
            batch = np.concatenate([batch, np.repeat(batch[-1:], chunk - n, axis=0)])
        it.set_tensor(inp["index"], _quantize(batch, inp))
        it.invoke()
        results.append(_dequantize(it.get_tensor(out["index"]), out)[:n])
    return np.concatenate(results)


def _quantize(x: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    dtype = np.dtype(detail["dtype"])
    if dtype in (np.int8, np.uint8, np.int16) and x.dtype.kind == "f":  # int16: int16x8 models
        scale, zero = detail["quantization"]
        info = np.iinfo(dtype)
        quantized: np.ndarray = np.clip(np.round(x / scale + zero), info.min, info.max).astype(dtype)
        return quantized
    return x.astype(dtype)


def _dequantize(y: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    if np.dtype(detail["dtype"]) in (np.int8, np.uint8, np.int16):
        scale, zero = detail["quantization"]
        dequantized: np.ndarray = (y.astype(np.float32) - zero) * scale
        return dequantized
    return y.astype(np.float32)


def validate(model: bytes | str | Path, keras_outputs: np.ndarray, x: np.ndarray, y: np.ndarray) -> HostValidation:
    """Compare LiteRT's outputs on `x` with the labels `y` and the Keras model's `keras_outputs`."""
    ours, xnnpack_error = run_tflite(model, x)
    if ours.shape != keras_outputs.shape:
        raise ModelError(f"converted model outputs {ours.shape}, Keras model {keras_outputs.shape}")
    top, keras_top = np.argmax(ours, axis=-1), np.argmax(keras_outputs, axis=-1)
    return HostValidation(samples=len(x), xnnpack_error=xnnpack_error, accuracy=float(np.mean(top == y)),
                          keras_accuracy=float(np.mean(keras_top == y)),
                          agreement=float(np.mean(top == keras_top)),
                          max_abs_output_diff=float(np.max(np.abs(ours - keras_outputs))))
