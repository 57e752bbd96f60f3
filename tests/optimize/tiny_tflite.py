"""A tiny float CNN written straight into a .tflite flatbuffer (no TensorFlow): seconds to build.

    CONV_2D 3x3, 64 -> 32 channels, RELU  ->  RESHAPE [1, 512]  ->  FULLY_CONNECTED 512 -> 10

Input [1, 4, 4, 64] float32 named "image", output [1, 10] float32 named "logits", one signature
"serving_default". Channel counts are multiples of 32/64/128 so every blockwise recipe applies to
the fully connected layer (its 512 inputs). Weights are seeded normals.
"""
from __future__ import annotations

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema


def _tensor(name: str, shape: list[int], buffer: int, dtype: int = schema.TensorType.FLOAT32) -> schema.TensorT:
    t = schema.TensorT()
    t.name, t.shape, t.buffer, t.type = name, shape, buffer, dtype
    return t


def _buffer(data: np.ndarray | None) -> schema.BufferT:
    b = schema.BufferT()
    b.data = None if data is None else np.frombuffer(data.tobytes(), dtype=np.uint8)
    return b


def _opcode(code: int) -> schema.OperatorCodeT:
    c = schema.OperatorCodeT()
    c.builtinCode = code
    c.deprecatedBuiltinCode = min(code, 127)
    c.version = 1
    return c


def tiny_cnn(seed: int = 0, *, old_opcodes: bool = False) -> bytes:
    """The model's bytes. `old_opcodes=True` writes operator codes the pre-2020 way (only the
    deprecated int8 field set, builtin_code left 0), as TOCO-era files do."""
    rng = np.random.default_rng(seed)
    conv_w = (rng.standard_normal((32, 3, 3, 64)) * 0.05).astype(np.float32)
    conv_b = (rng.standard_normal(32) * 0.01).astype(np.float32)
    fc_w = (rng.standard_normal((10, 512)) * 0.05).astype(np.float32)
    fc_b = (rng.standard_normal(10) * 0.01).astype(np.float32)
    shape = np.array([1, 512], dtype=np.int32)
    buffers = [_buffer(None), _buffer(None), _buffer(conv_w), _buffer(conv_b), _buffer(None), _buffer(shape),
               _buffer(None), _buffer(fc_w), _buffer(fc_b), _buffer(None)]
    tensors = [_tensor("image", [1, 4, 4, 64], 1), _tensor("conv/weights", [32, 3, 3, 64], 2),
               _tensor("conv/bias", [32], 3), _tensor("conv/relu", [1, 4, 4, 32], 4),
               _tensor("flatten/shape", [2], 5, schema.TensorType.INT32), _tensor("flatten", [1, 512], 6),
               _tensor("dense/weights", [10, 512], 7), _tensor("dense/bias", [10], 8),
               _tensor("logits", [1, 10], 9)]
    conv = schema.OperatorT()
    conv.opcodeIndex, conv.inputs, conv.outputs = 0, [0, 1, 2], [3]
    conv.builtinOptionsType = schema.BuiltinOptions.Conv2DOptions
    conv.builtinOptions = schema.Conv2DOptionsT()
    conv.builtinOptions.padding = schema.Padding.SAME
    conv.builtinOptions.strideW = conv.builtinOptions.strideH = 1
    conv.builtinOptions.fusedActivationFunction = schema.ActivationFunctionType.RELU
    reshape = schema.OperatorT()
    reshape.opcodeIndex, reshape.inputs, reshape.outputs = 1, [3, 4], [5]
    fc = schema.OperatorT()
    fc.opcodeIndex, fc.inputs, fc.outputs = 2, [5, 6, 7], [8]
    fc.builtinOptionsType = schema.BuiltinOptions.FullyConnectedOptions
    fc.builtinOptions = schema.FullyConnectedOptionsT()
    graph = schema.SubGraphT()
    graph.tensors, graph.inputs, graph.outputs = tensors, [0], [8]
    graph.operators, graph.name = [conv, reshape, fc], "main"
    codes = [_opcode(schema.BuiltinOperator.CONV_2D), _opcode(schema.BuiltinOperator.RESHAPE),
             _opcode(schema.BuiltinOperator.FULLY_CONNECTED)]
    if old_opcodes:
        for c in codes:
            c.builtinCode = 0
    signature = schema.SignatureDefT()
    signature.signatureKey, signature.subgraphIndex = "serving_default", 0
    signature.inputs = [schema.TensorMapT()]
    signature.inputs[0].name, signature.inputs[0].tensorIndex = "image", 0
    signature.outputs = [schema.TensorMapT()]
    signature.outputs[0].name, signature.outputs[0].tensorIndex = "logits", 8
    model = schema.ModelT()
    model.version, model.description = 3, "edgebench test tiny_cnn"
    model.operatorCodes, model.subgraphs, model.buffers = codes, [graph], buffers
    model.signatureDefs = [signature]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
