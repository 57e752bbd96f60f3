"""edgebench_runner on real and project-made models: every input dtype is fed exactly as the
Python twin of the seeded generator says, and outputs match ai_edge_litert's Interpreter bit for bit."""
from __future__ import annotations

import numpy as np
import pytest

from .conftest import OUR_MODELS, QUICK, REAL_MODELS
from .test_runner_output import check_ok_output

FNV_START = 0xCBF29CE484222325


def interpreter_checksum(seeded, model, setup: dict, *, seed: int | None = None,
                         arrays: list[np.ndarray] | None = None) -> str:
    """Run the same inputs through Python's Interpreter; FNV-1a over the outputs in runner order."""
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(model), num_threads=1)
    by_name = {d["name"]: d for d in it.get_input_details()}
    for inp in setup["inputs"]:
        d = by_name[inp["tensor_name"]]
        if list(d["shape"]) != inp["shape"]:
            it.resize_tensor_input(d["index"], inp["shape"])
    it.allocate_tensors()
    for inp in setup["inputs"]:
        d = by_name[inp["tensor_name"]]
        data = arrays[inp["index"]] if arrays is not None else \
            seeded.seeded_input(seed, inp["index"], inp["dtype"], tuple(inp["shape"]))
        it.set_tensor(d["index"], data)
    it.invoke()
    out_by_name = {d["name"]: d for d in it.get_output_details()}
    h = FNV_START
    for out in setup["outputs"]:
        h = seeded.fnv1a64(it.get_tensor(out_by_name[out["tensor_name"]]["index"]).tobytes(), h)
    return f"{h:016x}"


@pytest.mark.parametrize("model, dtypes", [
    (REAL_MODELS / "tflm_simple_add_model.tflite", ["int8", "int8"]),
    (REAL_MODELS / "tflm_hello_world_float.tflite", ["float32"]),
    (REAL_MODELS / "tflm_hello_world_int8.tflite", ["int8"]),
    (REAL_MODELS / "tfls_mobilenet_v1_0.25_224_float.tflite", ["float32"]),
    (OUR_MODELS / "eb_uint8_image_mean.tflite", ["uint8"]),
    (OUR_MODELS / "eb_mixed_int32_int64_bool.tflite", ["int32", "int64", "bool"]),
    (OUR_MODELS / "eb_float16_input.tflite", ["float16"]),
    (OUR_MODELS / "eb_lstm_unrolled.tflite", ["int32"]),
], ids=lambda v: v.name if hasattr(v, "name") else None)
def test_model_runs_and_matches_the_python_interpreter(run_runner, seeded, model, dtypes):
    result = run_runner(model, *QUICK, "--input-seed", "11")
    check_ok_output(result)
    setup = result.one("setup")
    assert [i["dtype"] for i in setup["inputs"]] == dtypes
    assert setup["input_source"] == "seeded" and setup["input_seed"] == 11
    for io in setup["inputs"] + setup["outputs"]:
        assert io["bytes"] == int(np.prod(io["shape"])) * np.dtype(io["dtype"]).itemsize
    checksum = result.one("output")["checksum"]
    assert checksum == interpreter_checksum(seeded, model, setup, seed=11)
    if len(setup["outputs"]) == 1:
        assert result.one("output")["outputs"] == [{"index": 0, "checksum": checksum}]


def test_checksum_is_deterministic_for_a_seed_and_follows_it(run_runner):
    model = REAL_MODELS / "tflm_simple_add_model.tflite"
    a = run_runner(model, *QUICK, "--input-seed", "5").one("output")["checksum"]
    b = run_runner(model, *QUICK, "--input-seed", "5").one("output")["checksum"]
    c = run_runner(model, *QUICK, "--input-seed", "6").one("output")["checksum"]
    assert a == b != c


def test_two_inputs_from_files(run_runner, seeded, tmp_path):
    model = REAL_MODELS / "tflm_simple_add_model.tflite"
    rng = np.random.default_rng(0)
    arrays = [rng.integers(-128, 128, size=(1, 128, 128, 1), dtype=np.int8) for _ in range(2)]
    files = []
    for i, arr in enumerate(arrays):
        files += ["--input-file", str(tmp_path / f"in{i}.bin")]
        (tmp_path / f"in{i}.bin").write_bytes(arr.tobytes())
    result = run_runner(model, *QUICK, *files)
    check_ok_output(result)
    setup = result.one("setup")
    assert setup["input_source"] == "files" and setup["input_seed"] is None
    assert result.one("output")["checksum"] == interpreter_checksum(seeded, model, setup, arrays=arrays)


def test_dynamic_batch_defaults_to_one_and_resizes_on_request(run_runner, seeded):
    model = REAL_MODELS / "tflm_hello_world_float.tflite"
    default = run_runner(model, *QUICK).one("setup")
    assert default["inputs"][0]["shape_signature"] == [-1, 1]
    assert default["inputs"][0]["shape"] == [1, 1] and default["outputs"][0]["shape"] == [1, 1]
    result = run_runner(model, *QUICK, "--input-shape", "0:4,1", "--input-seed", "3")
    check_ok_output(result)
    setup = result.one("setup")
    assert setup["inputs"][0]["shape"] == [4, 1] and setup["inputs"][0]["bytes"] == 16
    assert setup["outputs"][0]["shape"] == [4, 1] and setup["outputs"][0]["bytes"] == 16
    assert result.one("output")["checksum"] == interpreter_checksum(seeded, model, setup, seed=3)


def test_two_input_batch_resize(run_runner, seeded):
    model = REAL_MODELS / "tflm_simple_add_model.tflite"
    result = run_runner(model, *QUICK, "--input-shape", "0:2,128,128,1", "--input-shape", "1:2,128,128,1")
    check_ok_output(result)
    setup = result.one("setup")
    assert [i["shape"] for i in setup["inputs"]] == [[2, 128, 128, 1]] * 2
    assert setup["outputs"][0]["shape"] == [2, 128, 128, 1]
    assert result.one("output")["checksum"] == interpreter_checksum(seeded, model, setup, seed=1)


@pytest.mark.parametrize("accelerator", ["gpu", "npu"])
def test_unusable_accelerator_falls_back_to_cpu_and_says_so(run_runner, accelerator):
    result = run_runner(REAL_MODELS / "tfls_mobilenet_v1_0.25_224_float.tflite", *QUICK,
                        "--accelerator", accelerator)
    check_ok_output(result)
    setup = result.one("setup")
    assert setup["accelerator_requested"] == accelerator
    if setup["accelerator_used"] == "cpu":  # no GPU adapter / NPU here: recorded, never silent
        assert accelerator in setup["fallback_reason"] and "CPU" in setup["fallback_reason"]
        assert f"{accelerator} accelerator unusable" in result.stderr
    else:  # a machine whose accelerator works
        assert setup["accelerator_used"] == accelerator and setup["fallback_reason"] is None


def test_profile_ops_lists_delegated_and_cpu_ops(run_runner):
    result = run_runner(REAL_MODELS / "tfls_mobilenet_v1_0.25_224_float.tflite", *QUICK,
                        "--profile-ops", "--profile-runs", "4")
    check_ok_output(result)
    assert result.types.index("profile") == result.types.index("summary") + 1
    prof = result.one("profile")
    assert prof["available"] is True and prof["runs"] == 4 and prof["unavailable"] == []
    model_ops = prof["model_ops"]
    assert len(model_ops) == 31 and model_ops[0]["op_type"] == "CONV_2D"
    assert prof["nodes_cpu"] + prof["nodes_delegated"] == len(model_ops)
    assert prof["nodes_delegated"] > 0
    for op in prof["ops"]:
        assert op["count"] == 4 and op["avg_us"] >= 0
        if op["delegated"]:
            assert op["index"] is None  # a delegate's own operator, not a model op
        else:
            assert model_ops[op["index"]]["op_type"] == op["op_type"]
    cpu = [op for op in prof["ops"] if not op["delegated"]]
    assert len(cpu) == prof["nodes_cpu"]
    # The timed loop ran on the unprofiled model: run lines are unaffected by profiling.
    assert len(result.of("run")) == 3
