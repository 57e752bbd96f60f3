"""Name a model's quantization scheme from its tensor types (the converter records no label).

Weights are the constant operands in weight positions of weighted operators (conv, depthwise,
fully connected, matmul, LSTM matrices, embeddings) plus constants fed to DEQUANTIZE (how float16
and some dynamic-range models store weights). Activations are the outputs of weighted operators,
or of every operator when there are none. From those two type sets:

| weights        | activations     | label               |
|----------------|-----------------|---------------------|
| float32 / none | float32         | float32             |
| float16        | float32         | float16             |
| int8 (or int4) | float32         | dynamic_range_int8  |
| int8 / none    | int8            | full_int8           |
| uint8 / none   | uint8           | full_uint8 (legacy) |
| int8 / none    | int16           | int16x8             |
| anything else  |                 | mixed               |
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

WEIGHT_POSITIONS: dict[str, tuple[int, ...]] = {
    "CONV_2D": (1,), "DEPTHWISE_CONV_2D": (1,), "CONV_3D": (1,), "CONV_3D_TRANSPOSE": (1,),
    "TRANSPOSE_CONV": (1,), "FULLY_CONNECTED": (1,), "BATCH_MATMUL": (0, 1),
    "EMBEDDING_LOOKUP": (1,), "LSTM": (1, 2, 3, 4, 5, 6, 7, 8, 16),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": (1, 2, 3, 4, 5, 6, 7, 8, 16),
}
# Index-like types are not activations in the quantization sense.
_NOT_ACTIVATIONS = {"int32", "int64", "bool", "string", "resource", "variant"}


@dataclass(frozen=True)
class TensorUse:
    """One operator as the classifier sees it."""

    op: str
    inputs: tuple[tuple[str, bool] | None, ...]  # (dtype, is_constant) or None if omitted
    outputs: tuple[str | None, ...]


def summarize_quantization(uses: Iterable[TensorUse], input_dtypes: Sequence[str],
                           output_dtypes: Sequence[str]) -> tuple[str, str]:
    """Return (label, human detail) for the model's quantization scheme; `input_dtypes`/`output_dtypes`:
    of the model's (first subgraph's) inputs and outputs."""
    uses = list(uses)
    weights: Counter[str] = Counter()
    activations: Counter[str] = Counter()
    for use in uses:
        positions = WEIGHT_POSITIONS.get(use.op)
        if use.op == "DEQUANTIZE" and use.inputs and use.inputs[0] and use.inputs[0][1]:
            weights[use.inputs[0][0]] += 1
        if positions is None:
            continue
        for p in positions:
            operand = use.inputs[p] if p < len(use.inputs) else None
            if operand is not None and operand[1]:
                weights[operand[0]] += 1
        activations.update(d for d in use.outputs if d and d not in _NOT_ACTIVATIONS)
    if not activations:  # no weighted operator: judge by what every operator produces
        for use in uses:
            if use.op not in ("QUANTIZE", "DEQUANTIZE"):
                activations.update(d for d in use.outputs if d and d not in _NOT_ACTIVATIONS)

    w, a = set(weights), set(activations)
    label = _label(w, a)
    detail = "; ".join([
        f"weights: {_fmt(weights) or 'none'}",
        f"activations: {_fmt(activations) or 'none'}",
        f"inputs: {', '.join(input_dtypes) or 'none'}",
        f"outputs: {', '.join(output_dtypes) or 'none'}",
    ])
    return label, detail


def _label(w: set[str], a: set[str]) -> str:
    if not a:
        return "mixed" if w else "unknown"
    if a <= {"float32"}:
        if w <= {"float32"}:
            return "float32"
        if w <= {"float16", "float32"}:
            return "float16"
        if w <= {"int8", "int4", "float32"}:
            return "dynamic_range_int8"
    if a == {"int8"} and w <= {"int8", "int4"}:
        return "full_int8"
    if a == {"uint8"} and w <= {"uint8"}:
        return "full_uint8"
    if a <= {"int16", "int8"} and "int16" in a and w <= {"int8", "int4"}:
        return "int16x8"
    return "mixed"


def _fmt(c: Counter[str]) -> str:
    return ", ".join(f"{k} x{n}" for k, n in c.most_common())
