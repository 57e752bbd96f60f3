"""The .tflite reader, checked against LiteRT's own Interpreter for every real model fixture."""
from __future__ import annotations

import collections
import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgebench.errors import ModelError
from edgebench.inspect.tflite_model import parse_tflite, read_tflite, read_tflite_inputs

MODELS = Path(__file__).resolve().parents[2] / "fixtures" / "real-device" / "g_tflite_models"
ALL = sorted(p.name for p in MODELS.glob("*.tflite"))
# LiteRT 2.3 refuses this one (bias tensors with quantized_dimension 3 at rank 1).
REJECTED_BY_LITERT = {"tflm_person_detect_int8.tflite"}
# Operand positions of LSTM state tensors: variables, not parameters (schema order).
LSTM_STATE_INPUTS = (18, 19)


def interpreter(name: str):
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter(model_path=str(MODELS / name))


def test_fixture_set_is_complete() -> None:
    assert len(ALL) == 6  # a new fixture must get its own checks below


@pytest.mark.parametrize("name", [n for n in ALL if n not in REJECTED_BY_LITERT])
def test_inputs_outputs_ops_and_parameters_match_litert(name: str) -> None:
    model = read_tflite(MODELS / name)
    it = interpreter(name)
    for ours, theirs in ((model.inputs, it.get_input_details()),
                         (model.outputs, it.get_output_details())):
        assert len(ours) == len(theirs)
        for t, d in zip(ours, theirs):
            assert t.name == d["name"]
            assert t.index == d["index"]
            assert t.dtype == np.dtype(d["dtype"]).name
            assert list(t.shape) == d["shape"].tolist()
            assert list(t.shape_signature) == d["shape_signature"].tolist()
            scale, zero_point = d["quantization"]
            if t.quantization is None:
                assert (scale, zero_point) == (0.0, 0)
            else:
                assert t.quantization.scale == pytest.approx(scale, rel=1e-7)
                assert t.quantization.zero_point == zero_point
                assert list(t.quantization.scales) == pytest.approx(
                    d["quantization_parameters"]["scales"].tolist())

    ops = it._get_ops_details()
    assert model.ops_by_type == dict(collections.Counter(o["op_name"] for o in ops))
    assert model.operator_count == len(ops)

    # Constants, as the interpreter sees them: tensors no operator produces, that are not model
    # inputs and not LSTM state variables.
    produced = {int(i) for o in ops for i in o["outputs"]}
    state = {int(o["inputs"][p]) for o in ops if "LSTM" in o["op_name"]
             for p in LSTM_STATE_INPUTS if p < len(o["inputs"])}
    inputs = {d["index"] for d in it.get_input_details()}
    constants = [t for t in it.get_tensor_details()
                 if t["index"] not in produced | inputs | state]
    assert model.parameter_count == sum(int(np.prod(t["shape"])) for t in constants)
    assert model.problems == ()


def test_hello_world_float() -> None:
    m = read_tflite(MODELS / "tflm_hello_world_float.tflite")
    assert m.size_bytes == 3164
    assert m.sha256.startswith("ee939863195ca37c")  # SOURCES.md
    assert m.schema_version == 3
    assert m.inputs[0].shape_signature == (-1, 1)
    # 1->16->16->1 dense layers: 16+16 + 256+16 + 16+1 parameters, 16+256+16 MACs
    assert m.parameter_count == 321
    assert m.parameter_bytes == 321 * 4
    assert m.flops == 2 * (16 + 256 + 16)
    assert m.flops_not_counted == ()
    assert m.quantization == "float32"
    assert m.signatures[0].key == "serving_default"
    assert m.signatures[0].inputs == ("dense_input",)
    assert m.min_runtime_version == "1.5.0"
    assert not m.needs_flex and m.custom_ops == ()


def test_hello_world_int8_is_full_int8() -> None:
    m = read_tflite(MODELS / "tflm_hello_world_int8.tflite")
    assert m.quantization == "full_int8"
    assert m.inputs[0].quantization.zero_point == -128
    assert m.inputs[0].quantization.scale == pytest.approx(0.02448, rel=1e-3)
    assert m.parameter_count == 321
    assert m.parameter_bytes < 321 * 4  # int8 weights, int32 biases


def test_mnist_lstm_flops_follow_the_stated_rule() -> None:
    m = read_tflite(MODELS / "tflm_mnist_lstm_int8.tflite")
    assert m.ops_by_type["UNIDIRECTIONAL_SEQUENCE_LSTM"] == 1
    assert m.inputs[0].shape == (1, 28, 28)
    # 20 cells, 28 inputs, 28 time steps: 4 input and 4 recurrent matrices per step.
    assert m.flops_by_op_type["UNIDIRECTIONAL_SEQUENCE_LSTM"] == 2 * 28 * (4 * 20 * 28 + 4 * 20 * 20)
    assert m.flops_by_op_type["FULLY_CONNECTED"] == 2 * 10 * 560
    assert m.flops_not_counted == ("SOFTMAX",)
    assert m.flops == 2 * 28 * 3840 + 11200
    assert m.quantization == "full_int8"


def test_mobilenet_matches_published_macs_and_parameters() -> None:
    m = read_tflite(MODELS / "tfls_mobilenet_v1_0.25_224_float.tflite")
    # MobileNet v1 paper / model zoo: 0.25-224 has 41 M multiply-adds and 0.47 M parameters.
    assert m.flops_by_op_type["CONV_2D"] + m.flops_by_op_type["DEPTHWISE_CONV_2D"] == \
        pytest.approx(2 * 41e6, rel=0.01)
    assert m.parameter_count == pytest.approx(0.47e6, rel=0.01)
    assert m.ops_by_type == {"CONV_2D": 15, "DEPTHWISE_CONV_2D": 13, "AVERAGE_POOL_2D": 1,
                             "SOFTMAX": 1, "SQUEEZE": 1}
    assert m.quantization == "float32"
    assert m.signatures == ()


def test_mobilenet_conv_flops_from_interpreter_shapes() -> None:
    """Same rule, shapes taken from the interpreter: checks we read every operand right."""
    m = read_tflite(MODELS / "tfls_mobilenet_v1_0.25_224_float.tflite")
    it = interpreter("tfls_mobilenet_v1_0.25_224_float.tflite")
    shapes = {t["index"]: t["shape"].tolist() for t in it.get_tensor_details()}
    expected = collections.Counter()
    for op in it._get_ops_details():
        out, w = shapes[int(op["outputs"][0])], shapes[int(op["inputs"][1])] if len(op["inputs"]) > 1 else None
        if op["op_name"] == "CONV_2D":
            expected["CONV_2D"] += 2 * math.prod(out) * math.prod(w[1:])
        elif op["op_name"] == "DEPTHWISE_CONV_2D":
            expected["DEPTHWISE_CONV_2D"] += 2 * math.prod(out) * w[1] * w[2]
    assert m.flops_by_op_type["CONV_2D"] == expected["CONV_2D"]
    assert m.flops_by_op_type["DEPTHWISE_CONV_2D"] == expected["DEPTHWISE_CONV_2D"]


def test_simple_add_two_inputs_elementwise_flops() -> None:
    m = read_tflite(MODELS / "tflm_simple_add_model.tflite")
    assert len(m.inputs) == 2
    assert [t.shape_signature for t in m.inputs] == [(-1, 128, 128, 1)] * 2
    assert m.flops == 128 * 128  # one add per output element
    assert m.parameter_count == 0
    assert m.quantization == "full_int8"


def test_person_detect_is_read_and_its_loader_problem_reported() -> None:
    m = read_tflite(MODELS / "tflm_person_detect_int8.tflite")
    assert m.inputs[0].shape == (1, 96, 96, 1) and m.inputs[0].dtype == "int8"
    assert m.inputs[0].quantization.scale == pytest.approx(0.00784, rel=1e-3)
    assert m.inputs[0].quantization.zero_point == -1
    assert m.outputs[0].shape == (1, 2)
    assert m.quantization == "full_int8"
    # LiteRT refuses the file; the tensors it names are exactly the ones we report.
    with pytest.raises(ValueError) as refused:
        interpreter("tflm_person_detect_int8.tflite")
    theirs = {int(i) for i in re.findall(r"Tensor (\d+) has invalid quantization", str(refused.value))}
    ours = {int(re.search(r"tensor (\d+) ", p).group(1)) for p in m.problems}
    assert theirs and ours == theirs


@pytest.mark.parametrize("data, expected", [
    (b"", "empty file"),
    (b"this is a text file that someone named model.tflite\n", "looks like text"),
    (b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\n", "git lfs pull"),
    (b"\x00\x01\x02\x03\x04\x05\x06\x07\x08", "'TFL3'"),
])
def test_not_a_model_is_a_model_error(data: bytes, expected: str) -> None:
    with pytest.raises(ModelError, match=re.escape(expected)):
        parse_tflite(data, source="x.tflite")


@pytest.mark.parametrize("name", ALL)
def test_every_truncation_is_a_model_error(name: str) -> None:
    data = (MODELS / name).read_bytes()
    cuts = sorted({8, 16, 64, len(data) // 3, len(data) // 2, len(data) - 100, len(data) - 4,
                   len(data) - 1} - {len(data)})
    for cut in cuts:
        with pytest.raises(ModelError, match="damaged|truncated|not a TFLite"):
            parse_tflite(data[:cut], source=name)


def test_missing_file_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        read_tflite(tmp_path / "nope.tflite")


_LSTM = (MODELS / "tflm_mnist_lstm_int8.tflite").read_bytes()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(8, len(_LSTM) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_corrupted_bytes_only_ever_raise_model_error(edits) -> None:
    data = bytearray(_LSTM)
    for pos, value in edits:
        data[pos] = value
    try:
        parse_tflite(bytes(data))
    except ModelError:
        pass


ALL_FIXTURE_MODELS = sorted((Path(__file__).resolve().parents[2] / "fixtures").rglob("*.tflite"))


@pytest.mark.parametrize("path", ALL_FIXTURE_MODELS, ids=lambda p: p.name)
def test_the_inputs_only_read_gives_the_whole_reads_inputs_and_signatures(path: Path) -> None:
    """Session start reads only the inputs (read_tflite_inputs); they must be the whole read's, subgraph by
    subgraph, with the same signatures."""
    whole, inputs = read_tflite(path), read_tflite_inputs(path)
    assert inputs.subgraph_inputs == tuple(g.inputs for g in whole.subgraphs)
    assert inputs.signatures == whole.signatures


@pytest.mark.parametrize("name", ALL)
def test_a_truncated_model_read_for_its_inputs_is_a_model_error_or_its_inputs(name: str, tmp_path: Path) -> None:
    data = (MODELS / name).read_bytes()
    whole = read_tflite(MODELS / name)
    cut_file = tmp_path / name
    for cut in sorted({8, 16, 64, len(data) // 3, len(data) // 2, len(data) - 100, len(data) - 1}):
        cut_file.write_bytes(data[:cut])
        try:
            inputs = read_tflite_inputs(cut_file)
        except ModelError as exc:
            assert re.search("damaged|truncated|not a TFLite|no subgraph", str(exc)), str(exc)
        else:  # what it needs was before the cut: the runner reports the rest
            assert inputs.subgraph_inputs == tuple(g.inputs for g in whole.subgraphs)
