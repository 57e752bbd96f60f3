"""edgebench_runner --input-shape: by signature name, tensor name or index; the shape the compiled
model settled on is what the setup line reports, with where it came from (shape_source)."""
from __future__ import annotations

import json

import pytest

from .conftest import OUR_MODELS, QUICK, REAL_MODELS
from .test_driver import run_driver, toybox_path  # noqa: F401 - fixtures: dash, mksh+toybox and bash
from .test_runner_errors import check_failure
from .test_runner_models import interpreter_checksum
from .test_runner_output import check_ok_output

DYNAMIC = OUR_MODELS / "eb_dynamic_image_conv.tflite"  # image: [-1,-1,-1,3] -> [-1,-1,-1,4]
ADD = REAL_MODELS / "tflm_simple_add_model.tflite"  # input_1, input_2 (tensors serving_default_input_N:0)


def test_dynamic_model_runs_at_the_shape_given_by_name(run_runner, seeded):
    result = run_runner(DYNAMIC, *QUICK, "--input-shape", "image=2,16,24,3", "--input-seed", "4")
    check_ok_output(result)
    (inp,) = result.one("setup")["inputs"]
    assert inp["name"] == "image" and inp["shape_signature"] == [-1, -1, -1, 3]
    assert inp["shape"] == [2, 16, 24, 3] and inp["shape_source"] == "option" and inp["bytes"] == 2 * 16 * 24 * 3 * 4
    assert result.one("setup")["outputs"][0]["shape"] == [2, 16, 24, 4]
    setup = result.one("setup")
    assert result.one("output")["checksum"] == interpreter_checksum(seeded, DYNAMIC, setup, seed=4)


def test_without_a_shape_the_placeholder_runs_and_says_so(run_runner):
    result = run_runner(DYNAMIC, *QUICK)
    check_ok_output(result)
    (inp,) = result.one("setup")["inputs"]
    assert inp["shape"] == [1, 1, 1, 3] and inp["shape_source"] == "placeholder"


def test_a_static_input_is_reported_as_the_model_declares_it(run_runner):
    result = run_runner(OUR_MODELS / "eb_uint8_image_mean.tflite", *QUICK)
    check_ok_output(result)
    assert [i["shape_source"] for i in result.one("setup")["inputs"]] == ["model"]


@pytest.mark.parametrize("args", [
    ("--input-shape", "input_2=3,128,128,1"),                       # signature name
    ("--input-shape", "serving_default_input_2:0=3,128,128,1"),     # tensor name, with a colon
    ("--input-shape=input_2=3,128,128,1",),                         # --name=value form
    ("--input-shape", "1:3,128,128,1"),                             # by index (the older form)
], ids=["signature-name", "tensor-name", "equals-form", "index"])
def test_an_input_is_named_by_signature_name_tensor_name_or_index(run_runner, args):
    result = run_runner(ADD, *QUICK, *args)
    check_ok_output(result)
    first, second = result.one("setup")["inputs"]
    assert second["shape"] == [3, 128, 128, 1] and second["shape_source"] == "option"
    assert first["shape"] == [1, 128, 128, 1] and first["shape_source"] != "option"


@pytest.mark.parametrize("args, needle", [
    (("--input-shape", "nope=1,2"), "no input of that name; its inputs are: 0 'input_1' (tensor "
                                    "'serving_default_input_1:0'), 1 'input_2'"),
    (("--input-shape", "5:1,128,128,1"), "names input 5 but the model has 2 inputs"),
    (("--input-shape", "input_1=1,128,128,1", "--input-shape", "0:1,128,128,1"), "given two shapes"),
    (("--input-shape", "input_1=1,128,128"), "has 3 dimensions but the input has rank 4"),
    (("--input-shape", "input_1=1,2,2,1"), "resizing input 0 ('input_1') failed"),
])
def test_bad_shapes_are_input_errors_that_say_what_is_wrong(run_runner, args, needle):
    result = run_runner(ADD, *QUICK, *args)
    check_failure(result, code="input", exit_code=5)
    assert needle in result.one("error")["message"]


@pytest.mark.parametrize("value", ["image=0,1,1,3", "image=1,-1,1,3", "=1,2", "image=1,,2", "image:1"])
def test_malformed_shape_values_are_usage_errors(run_runner, value):
    result = run_runner(DYNAMIC, *QUICK, "--input-shape", value)
    assert result.returncode == 2 and "NAME=D0,D1" in result.one("error")["message"]


def test_the_driver_passes_the_shape_option_through(run_driver):
    code, out, err = run_driver(["--model", str(DYNAMIC), "--lib", str(run_driver.lib), *QUICK,
                                 "--input-shape", "image=1,8,8,3"])
    assert code == 0, err
    lines = [json.loads(line) for line in (out / "runner.jsonl").read_text().splitlines()]
    setup = next(line for line in lines if line["type"] == "setup")
    assert setup["inputs"][0]["shape"] == [1, 8, 8, 3]


def test_the_driver_passes_odd_input_names_through_unchanged(run_driver):
    odd = "in put: $x 'q'=1"  # spaces, a colon, a dollar and quotes reach the runner as one argument
    code, out, err = run_driver(["--model", str(DYNAMIC), "--lib", str(run_driver.lib), *QUICK, "--input-shape", odd])
    lines = [json.loads(line) for line in (out / "runner.jsonl").read_text().splitlines()]
    assert code == 5 and odd in lines[0]["argv"] and lines[0]["argv"][lines[0]["argv"].index(odd) - 1] == "--input-shape"
    assert "no input of that name" in lines[-2]["message"] and "'in put: $x 'q''" in lines[-2]["message"]
