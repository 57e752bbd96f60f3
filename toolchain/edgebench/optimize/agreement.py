"""How closely a variant .tflite computes what its parent does, on this host with LiteRT.

    inputs = seeded_inputs(parent_bytes, samples=8, seed=0)
    figures = output_agreement(parent_bytes, variant_bytes, inputs)

Both models run in LiteRT's Interpreter on the same inputs. A variant whose input is quantized
(int8/int16 with a scale) gets each float input quantized with its own scale and zero point, and
its quantized outputs are dequantized before comparing, so the figures are in the parent's units.
Per output, over all samples flattened (float64):

    cosine        = <ref, var> / (|ref| |var|)          (1.0 = same direction; 0 when a side is all zeros)
    max_abs_diff  = max |ref - var|
    snr_db        = 10 log10(sum ref^2 / sum (ref - var)^2)  (inf when identical)

Seeded random inputs stay within each input's dtype range: floats uniform in [-1, 1], int8/uint8/
int16 over their whole range, other integers in [0, 100) (token ids, small indices), bools 0/1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgebench.errors import ModelError

SMALL_INT_HIGH = 100  # other integer inputs are usually indices or token ids


@dataclass(frozen=True)
class InputSpec:
    name: str  # the signature's input name (else the tensor's name)
    index: int  # tensor index in the Interpreter
    shape: tuple[int, ...]
    dtype: str  # numpy name


@dataclass(frozen=True)
class OutputAgreement:
    output: str
    cosine: float
    max_abs_diff: float
    snr_db: float  # math.inf when the outputs are identical


def interpreter(data: bytes) -> Any:
    from ai_edge_litert.interpreter import Interpreter

    try:
        it = Interpreter(model_content=data)
        it.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"LiteRT could not load the model: {exc}") from None
    return it


def input_specs(data: bytes) -> tuple[InputSpec, ...]:
    """The model's inputs, named as its first signature names them (else by tensor name)."""
    it = interpreter(data)
    signatures = it.get_signature_list()
    names: dict[int, str] = {}
    if signatures:
        key = next(iter(signatures))
        for name, detail in it.get_signature_runner(key).get_input_details().items():
            names[int(detail["index"])] = name
    return tuple(InputSpec(names.get(int(d["index"]), str(d["name"])), int(d["index"]),
                           tuple(int(s) for s in d["shape"]), np.dtype(d["dtype"]).name)
                 for d in it.get_input_details())


def seeded_inputs(data: bytes, *, samples: int, seed: int) -> list[dict[str, np.ndarray]]:
    """`samples` random input sets, by input name, reproducible from `seed` (see module doc)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(samples):
        sample = {}
        for spec in input_specs(data):
            dtype = np.dtype(spec.dtype)
            if dtype.kind == "f":
                sample[spec.name] = rng.uniform(-1.0, 1.0, spec.shape).astype(dtype)
            elif dtype == np.bool_:
                sample[spec.name] = rng.integers(0, 2, spec.shape).astype(dtype)
            elif dtype in (np.int8, np.uint8, np.int16):
                info = np.iinfo(dtype)
                sample[spec.name] = rng.integers(info.min, int(info.max) + 1, spec.shape).astype(dtype)
            elif dtype.kind in "iu":
                sample[spec.name] = rng.integers(0, SMALL_INT_HIGH, spec.shape).astype(dtype)
            else:
                raise ModelError(f"input {spec.name!r} has dtype {spec.dtype}: edgebench cannot make "
                                 f"random inputs for it; give calibration data")
        out.append(sample)
    return out


def _to_input(x: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    dtype = np.dtype(detail["dtype"])
    scale, zero = detail["quantization"]
    if dtype.kind in "iu" and x.dtype.kind == "f" and scale:
        info = np.iinfo(dtype)
        q: np.ndarray = np.clip(np.round(x / scale + zero), info.min, info.max).astype(dtype)
        return q
    return x.astype(dtype)


def _from_output(y: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    scale, zero = detail["quantization"]
    out: np.ndarray = y.astype(np.float64)
    if np.dtype(detail["dtype"]).kind in "iu" and scale:
        out = (out - zero) * scale
    return out


def run(data: bytes, inputs: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Every output (by name, float64, dequantized) for each sample, stacked on a new first axis."""
    it = interpreter(data)
    by_name = {s.name: s.index for s in input_specs(data)}
    details = {int(d["index"]): d for d in it.get_input_details()}
    results: dict[str, list[np.ndarray]] = {}
    for sample in inputs:
        for name, value in sample.items():
            d = details[by_name[name]]
            it.set_tensor(d["index"], _to_input(value, d))
        it.invoke()
        for d in it.get_output_details():
            results.setdefault(str(d["name"]), []).append(_from_output(it.get_tensor(d["index"]), d))
    return {k: np.stack(v) for k, v in results.items()}


def compare(reference: np.ndarray, variant: np.ndarray, output: str) -> OutputAgreement:
    ref, var = reference.astype(np.float64).ravel(), variant.astype(np.float64).ravel()
    if ref.shape != var.shape:
        raise ModelError(f"output {output!r}: parent gives {reference.shape}, variant {variant.shape}")
    norms = float(np.linalg.norm(ref) * np.linalg.norm(var))
    cosine = float(np.dot(ref, var) / norms) if norms > 0 else (1.0 if not ref.any() and not var.any() else 0.0)
    noise = float(np.sum((ref - var) ** 2))
    signal = float(np.sum(ref ** 2))
    snr = math.inf if noise == 0 else (10 * math.log10(signal / noise) if signal > 0 else -math.inf)
    diff = float(np.max(np.abs(ref - var))) if ref.size else 0.0
    return OutputAgreement(output, round(cosine, 6), diff, snr)


def output_agreement(parent: bytes, variant: bytes, inputs: list[dict[str, np.ndarray]]) -> tuple[OutputAgreement, ...]:
    """Figures per output of the parent, matched to the variant's outputs by position."""
    ref, var = run(parent, inputs), run(variant, inputs)
    if len(ref) != len(var):
        raise ModelError(f"the parent has {len(ref)} outputs, the variant {len(var)}")
    return tuple(compare(r, v, name) for (name, r), v in zip(ref.items(), var.values()))
