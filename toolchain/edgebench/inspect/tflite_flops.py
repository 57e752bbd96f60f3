"""FLOP counting rules for TFLite operators, from tensor shapes alone.

Counting rule (stated once, used everywhere):

* Multiply-accumulate operators count **2 FLOPs per MAC** (one multiply, one add):
  - CONV_2D:            MACs = output elements x (kernel_h x kernel_w x kernel_in_channels)
  - DEPTHWISE_CONV_2D:  MACs = output elements x (kernel_h x kernel_w)
  - CONV_3D:            MACs = output elements x (kernel_d x kernel_h x kernel_w x kernel_in_channels)
  - TRANSPOSE_CONV:     MACs = input elements x (kernel_h x kernel_w x output_channels)
  - FULLY_CONNECTED:    MACs = output elements x input features (weights' last dimension)
  - BATCH_MATMUL:       MACs = output elements x contracted dimension
  - LSTM / UNIDIRECTIONAL_SEQUENCE_LSTM: MACs = steps x (elements of every present input-to-gate,
    recurrent-to-gate and projection weight matrix); steps = batch x time (all input dims but the last).
    The gates' element-wise arithmetic is not counted.
* Element-wise binary operators (ADD, SUB, MUL, DIV, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM) count
  **1 FLOP per output element**.
* AVERAGE_POOL_2D / MAX_POOL_2D / L2_POOL_2D count **1 FLOP per window element per output element**.
* MEAN / SUM count **1 FLOP per input element**.
* Bias additions and fused activations are not counted (they are small and vary by kernel).
* Pure data-movement operators (RESHAPE, TRANSPOSE, CONCATENATION, PAD, QUANTIZE, ...) count 0.
* Any other operator, or one whose shapes are unknown, is *not counted*: the caller lists it, so a
  total is explicitly a lower bound instead of a silent zero.

Shapes are the model's stored shapes: a dynamic (-1) dimension is counted at its stored size
(usually 1 for the batch).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

FLOP_RULE = ("2 FLOPs per multiply-accumulate (conv, depthwise, fully connected, matmul, LSTM "
             "weights); 1 per output element for element-wise ADD/SUB/MUL/DIV/...; 1 per window "
             "element for pooling; bias and activations not counted; stored shapes, -1 dims as stored")

ELEMENTWISE_BINARY = frozenset({"ADD", "SUB", "MUL", "DIV", "SQUARED_DIFFERENCE", "MAXIMUM",
                                "MINIMUM", "FLOOR_DIV", "POW"})
POOLS = frozenset({"AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D"})
REDUCTIONS = frozenset({"MEAN", "SUM"})
LSTMS = frozenset({"LSTM", "UNIDIRECTIONAL_SEQUENCE_LSTM"})
# LSTM operand indices holding weight matrices (schema order): input-to-gate 1..4,
# recurrent-to-gate 5..8, projection 16.
LSTM_WEIGHT_INPUTS = (1, 2, 3, 4, 5, 6, 7, 8, 16)

# Operators that move or reinterpret data without arithmetic worth counting.
ZERO_FLOP = frozenset({
    "RESHAPE", "SQUEEZE", "EXPAND_DIMS", "TRANSPOSE", "CONCATENATION", "PAD", "PADV2", "MIRROR_PAD",
    "GATHER", "GATHER_ND", "SLICE", "STRIDED_SLICE", "SPLIT", "SPLIT_V", "PACK", "UNPACK", "SHAPE",
    "QUANTIZE", "DEQUANTIZE", "CAST", "TILE", "BROADCAST_TO", "SPACE_TO_DEPTH", "DEPTH_TO_SPACE",
    "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND", "FILL", "ZEROS_LIKE", "ONES_LIKE", "REVERSE_V2",
    "EMBEDDING_LOOKUP", "RANK", "WHERE", "SELECT", "SELECT_V2", "CONCAT_EMBEDDINGS",
})


@dataclass(frozen=True)
class TensorShape:
    """What the FLOP rules need to know about one operand."""

    shape: tuple[int, ...]
    has_shape: bool  # False when the model stores no shape (unknown rank)

    @property
    def elements(self) -> int:
        return math.prod(1 if d < 0 else d for d in self.shape)


def op_flops(op: str, inputs: list[TensorShape | None], outputs: list[TensorShape | None],
             pool_window: tuple[int, int] | None = None, adj_x: bool = False) -> int | None:
    """FLOPs of one operator invocation, 0 for data movement, None when no rule applies."""
    if op in ZERO_FLOP:
        return 0
    out = outputs[0] if outputs else None
    if out is None or not out.has_shape:
        return None

    def operand(i: int) -> TensorShape | None:
        t = inputs[i] if i < len(inputs) else None
        return t if t is not None and t.has_shape else None

    if op in ("CONV_2D", "CONV_3D"):
        w = operand(1)
        if w is None or len(w.shape) < 2:
            return None
        # filter is [out_ch, kh, kw, in_ch] (2D) or [kd, kh, kw, in_ch, out_ch] (3D)
        per_output = math.prod(w.shape[1:]) if op == "CONV_2D" else math.prod(w.shape[:-1])
        return 2 * out.elements * per_output
    if op == "DEPTHWISE_CONV_2D":
        w = operand(1)
        if w is None or len(w.shape) != 4:
            return None
        return 2 * out.elements * w.shape[1] * w.shape[2]
    if op == "TRANSPOSE_CONV":
        w, x = operand(1), operand(2)  # operands: output_shape, weights [oc, kh, kw, ic], input
        if w is None or x is None or len(w.shape) != 4:
            return None
        return 2 * x.elements * w.shape[0] * w.shape[1] * w.shape[2]
    if op == "FULLY_CONNECTED":
        w = operand(1)
        if w is None or len(w.shape) != 2:
            return None
        return 2 * out.elements * w.shape[1]
    if op == "BATCH_MATMUL":
        x = operand(0)
        if x is None or len(x.shape) < 2:
            return None
        k = x.shape[-2] if adj_x else x.shape[-1]
        return 2 * out.elements * k
    if op in LSTMS:
        x = operand(0)
        if x is None or len(x.shape) < 2:
            return None
        weights = [operand(i) for i in LSTM_WEIGHT_INPUTS]
        if all(w is None for w in weights[:8]):
            return None
        steps = math.prod(x.shape[:-1])
        return 2 * steps * sum(w.elements for w in weights if w is not None)
    if op in ELEMENTWISE_BINARY:
        return out.elements
    if op in POOLS:
        if pool_window is None:
            return None
        return out.elements * pool_window[0] * pool_window[1]
    if op in REDUCTIONS:
        x = operand(0)
        return None if x is None else x.elements
    return None
