"""Reader behaviour the real fixtures do not cover, on tiny models built with the schema's own
object API: Flex/custom ops, float16 and dynamic-range weights, op codes above 127, >2 GB-style
external buffers, pooling FLOPs."""
from __future__ import annotations

import flatbuffers
import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as s

from edgebench.errors import ModelError
from edgebench.inspect.tflite_model import parse_tflite
from edgebench.inspect.tflite_quant import TensorUse, summarize_quantization

F32, F16, I8, I32, I16, U8 = (s.TensorType.FLOAT32, s.TensorType.FLOAT16, s.TensorType.INT8,
                              s.TensorType.INT32, s.TensorType.INT16, s.TensorType.UINT8)
_ITEM = {F32: 4, F16: 2, I8: 1, I32: 4, I16: 2, U8: 1}


def build(tensors, ops, inputs, outputs, codes, external: dict[int, int] | None = None) -> bytes:
    """tensors: (name, dtype, shape, const); ops: (opcode index, inputs, outputs, options)."""
    model = s.ModelT()
    model.version = 3
    model.buffers = [s.BufferT()]
    g = s.SubGraphT()
    g.tensors, g.inputs, g.outputs, g.operators = [], inputs, outputs, []
    for name, dtype, shape, const in tensors:
        t = s.TensorT()
        t.name, t.type, t.shape = name, dtype, list(shape)
        b = s.BufferT()
        if const:
            b.data = [1] * int(np.prod(shape)) * _ITEM[dtype]
        model.buffers.append(b)
        t.buffer = len(model.buffers) - 1
        g.tensors.append(t)
    for i, size in (external or {}).items():
        model.buffers[g.tensors[i].buffer].data = None
        model.buffers[g.tensors[i].buffer].offset = 10_000  # past the end of this small file
        model.buffers[g.tensors[i].buffer].size = size
    for code, ins, outs, options in ops:
        op = s.OperatorT()
        op.opcodeIndex, op.inputs, op.outputs = code, ins, outs
        if options is not None:
            op.builtinOptionsType, op.builtinOptions = options
        g.operators.append(op)
    model.subgraphs = [g]
    model.operatorCodes = []
    for builtin, custom in codes:
        c = s.OperatorCodeT()
        c.builtinCode, c.deprecatedBuiltinCode = builtin, min(builtin, 127)
        c.customCode = custom
        model.operatorCodes.append(c)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def fully_connected(weight_dtype: int, dequantize: bool = False) -> bytes:
    tensors = [("x", F32, (1, 4), False), ("w", weight_dtype, (8, 4), True), ("y", F32, (1, 8), False)]
    ops = [(0, [0, 1], [2], None)]
    codes = [(s.BuiltinOperator.FULLY_CONNECTED, None)]
    if dequantize:  # float16 models store weights in float16 and dequantize them once
        tensors.append(("w32", F32, (8, 4), False))
        ops = [(1, [1], [3], None), (0, [0, 3], [2], None)]
        codes.append((s.BuiltinOperator.DEQUANTIZE, None))
    return build(tensors, ops, [0], [2], codes)


def test_flex_op_is_named_and_flagged() -> None:
    data = build([("a", F32, (1, 4), False), ("b", F32, (1, 4), False)], [(0, [0], [1], None)],
                 [0], [1], [(s.BuiltinOperator.CUSTOM, "FlexAddV2")])
    m = parse_tflite(data)
    assert m.ops_by_type == {"FlexAddV2": 1}
    assert m.custom_ops == ("FlexAddV2",)
    assert m.needs_flex
    assert m.flops_not_counted == ("FlexAddV2",)


def test_custom_non_flex_op() -> None:
    data = build([("a", F32, (1, 4), False), ("b", F32, (1, 4), False)], [(0, [0], [1], None)],
                 [0], [1], [(s.BuiltinOperator.CUSTOM, "TFLite_Detection_PostProcess")])
    m = parse_tflite(data)
    assert m.custom_ops == ("TFLite_Detection_PostProcess",) and not m.needs_flex


def test_opcode_above_127_uses_the_new_field() -> None:
    data = build([("a", F32, (1, 4), False), ("b", F32, (1, 4), False)], [(0, [0], [1], None)],
                 [0], [1], [(s.BuiltinOperator.GELU, None)])
    assert parse_tflite(data).ops_by_type == {"GELU": 1}


@pytest.mark.parametrize("dtype, dequantize, label", [
    (F32, False, "float32"),
    (F16, True, "float16"),
    (I8, False, "dynamic_range_int8"),
])
def test_quantization_scheme_from_weight_types(dtype: int, dequantize: bool, label: str) -> None:
    m = parse_tflite(fully_connected(dtype, dequantize))
    assert m.quantization == label
    assert m.parameter_count == 32
    assert m.parameter_bytes == 32 * _ITEM[dtype]
    assert m.flops_by_op_type["FULLY_CONNECTED"] == 2 * 8 * 4


@pytest.mark.parametrize("weights, activations, label", [
    ("int8", "int8", "full_int8"), ("uint8", "uint8", "full_uint8"), ("int8", "int16", "int16x8"),
    ("float16", "int8", "mixed"),
])
def test_quantization_labels(weights: str, activations: str, label: str) -> None:
    uses = [TensorUse("CONV_2D", ((activations, False), (weights, True), ("int32", True)), (activations,))]
    assert summarize_quantization(uses, (), ())[0] == label


def test_pooling_flops_use_the_window() -> None:
    pool = s.Pool2DOptionsT()
    pool.filterHeight, pool.filterWidth, pool.strideH, pool.strideW = 3, 3, 1, 1
    data = build([("x", F32, (1, 8, 8, 2), False), ("y", F32, (1, 6, 6, 2), False)],
                 [(0, [0], [1], (s.BuiltinOptions.Pool2DOptions, pool))], [0], [1],
                 [(s.BuiltinOperator.AVERAGE_POOL_2D, None)])
    assert parse_tflite(data).flops == 6 * 6 * 2 * 9


def test_external_buffer_past_the_end_is_truncation() -> None:
    data = build([("x", F32, (1, 4), False), ("w", F32, (8, 4), True), ("y", F32, (1, 8), False)],
                 [(0, [0, 1], [2], None)], [0], [2], [(s.BuiltinOperator.FULLY_CONNECTED, None)],
                 external={1: 128})
    with pytest.raises(ModelError, match="truncated"):
        parse_tflite(data)


def test_operator_with_unknown_opcode_is_damaged() -> None:
    data = build([("a", F32, (1,), False)], [(3, [0], [0], None)], [0], [0],
                 [(s.BuiltinOperator.ADD, None)])
    with pytest.raises(ModelError, match="opcode 3"):
        parse_tflite(data)
