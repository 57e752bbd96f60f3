"""edgebench_runner failures: an error line with a code, an end line, the documented exit code."""
from __future__ import annotations

import os
import subprocess

import pytest

from .conftest import OUR_MODELS, QUICK, REAL_MODELS

MOBILENET = REAL_MODELS / "tfls_mobilenet_v1_0.25_224_float.tflite"


def check_failure(result, *, code: str, exit_code: int, stage: str | None = None) -> dict:
    assert result.returncode == exit_code, (result.types, result.stderr[-1500:])
    assert result.types[0] == "start" and result.types[-2:] == ["error", "end"]
    error = result.one("error")
    assert error["code"] == code and error["message"]
    if stage is not None:
        assert error["stage"] == stage
    assert result.one("end") == {"schema": 1, "type": "end", "status": "failed", "exit_code": exit_code}
    assert "summary" not in result.types and "run" not in result.types
    return error


def test_missing_model_file(run_runner, tmp_path):
    error = check_failure(run_runner(tmp_path / "nope.tflite", *QUICK), code="model_missing", exit_code=4)
    assert "does not exist" in error["message"]
    error = check_failure(run_runner(tmp_path, *QUICK), code="model_missing", exit_code=4)
    assert "not a regular file" in error["message"]


def test_text_file_named_tflite(run_runner, tmp_path):
    fake = tmp_path / "model.tflite"
    fake.write_text("this is not a model, just text that someone renamed\n")
    error = check_failure(run_runner(fake, *QUICK), code="not_a_model", exit_code=4, stage="load_model")
    assert "TFL3" in error["message"]


def test_truncated_model_is_not_a_model(run_runner, tmp_path):
    corrupt = tmp_path / "truncated.tflite"
    corrupt.write_bytes(MOBILENET.read_bytes()[:4096])  # valid header, cut flatbuffer
    check_failure(run_runner(corrupt, *QUICK), code="not_a_model", exit_code=4, stage="load_model")


def test_corrupt_bytes_after_a_valid_header(run_runner, tmp_path):
    data = bytearray(MOBILENET.read_bytes())
    data[8:2048] = bytes(range(256)) * 7 + bytes(2040 - 256 * 7)  # clobber the root tables
    corrupt = tmp_path / "corrupt.tflite"
    corrupt.write_bytes(bytes(data))
    result = run_runner(corrupt, *QUICK)
    assert result.returncode == 4 and result.one("error")["code"] in ("not_a_model", "compile")
    assert result.types[-1] == "end"


def test_flex_model_is_refused_with_the_op_named(run_runner):
    error = check_failure(run_runner(OUR_MODELS / "eb_flex_matrix_determinant.tflite", *QUICK),
                          code="unsupported_ops", exit_code=4, stage="load_model")
    assert "FlexMatrixDeterminant" in error["message"] and "SELECT_TF_OPS" in error["message"]


def test_string_input_cannot_be_fed(run_runner):
    error = check_failure(run_runner(OUR_MODELS / "eb_string_input_gather.tflite", *QUICK),
                          code="input", exit_code=5)
    assert "string" in error["message"]


@pytest.mark.parametrize("model", [REAL_MODELS / "tflm_mnist_lstm_int8.tflite",
                                   OUR_MODELS / "eb_lstm_fused_variable_tensors.tflite"],
                         ids=lambda p: p.name)
def test_lstm_with_variable_tensors_is_an_unsupported_model(run_runner, model):
    # LiteRT 2.3.0's CompiledModel loader refuses variable tensors (stateful LSTM); the error
    # quotes the library instead of guessing.
    error = check_failure(run_runner(model, *QUICK), code="unsupported_model", exit_code=4)
    assert "Variable tensors" in error["message"]


def test_person_detect_compile_failure_quotes_the_library(run_runner):
    error = check_failure(run_runner(REAL_MODELS / "tflm_person_detect_int8.tflite", *QUICK),
                          code="compile", exit_code=4, stage="compile")
    assert "quantized_dimension" in error["message"]


def test_wrong_input_file_size_and_count(run_runner, tmp_path):
    model = REAL_MODELS / "tflm_simple_add_model.tflite"
    small = tmp_path / "small.bin"
    small.write_bytes(b"\0" * 100)
    right = tmp_path / "right.bin"
    right.write_bytes(b"\0" * 16384)
    error = check_failure(run_runner(model, *QUICK, "--input-file", str(right), "--input-file", str(small)),
                          code="input", exit_code=5)
    assert "16384" in error["message"] and "100" in error["message"]
    error = check_failure(run_runner(model, *QUICK, "--input-file", str(right)), code="input", exit_code=5)
    assert "2 inputs" in error["message"]


def test_bad_input_shape(run_runner):
    model = REAL_MODELS / "tflm_hello_world_float.tflite"
    check_failure(run_runner(model, *QUICK, "--input-shape", "0:4,1,1"), code="input", exit_code=5)
    check_failure(run_runner(model, *QUICK, "--input-shape", "3:4,1"), code="input", exit_code=5)


def test_run_failure_quotes_the_library_and_hints_at_seeded_ranges(run_runner):
    # GATHER from a 10-row table with seeded int32 indices in [0, 99]: the first run fails.
    result = run_runner(OUR_MODELS / "eb_gather_vocab10.tflite", *QUICK)
    error = check_failure(result, code="run", exit_code=6, stage="warmup")
    assert "gather index out of bounds" in error["message"]
    assert "[0, 99]" in error["message"] and "--input-file" in error["message"]
    assert result.types[:4] == ["start", "runtime", "setup", "init"]


def test_run_failure_without_warmup_is_a_timed_run_failure(run_runner, tmp_path):
    indices = tmp_path / "idx.bin"
    indices.write_bytes((50).to_bytes(4, "little") * 4)  # [1, 4] int32, all out of range
    result = run_runner(OUR_MODELS / "eb_gather_vocab10.tflite", "--warmup-runs", "0", "--runs", "2",
                        "--min-seconds", "0", "--input-file", str(indices))
    error = check_failure(result, code="run", exit_code=6, stage="run")
    assert "gather index out of bounds" in error["message"] and "[0, 99]" not in error["message"]


@pytest.mark.parametrize("args, needle", [
    ((), "--model and --lib are required"),
    (("--threads", "0"), "--threads"),
    (("--accelerator", "tpu"), "cpu, gpu or npu"),
    (("--frobnicate",), "unknown option"),
    (("--runs", "-3"), "--runs"),
    (("--min-seconds", "abc"), "--min-seconds"),
])
def test_usage_errors_exit_2(run_runner, args, needle):
    model = None if not args else MOBILENET
    result = run_runner(model, *args)
    error = check_failure(result, code="usage", exit_code=2, stage="usage")
    assert needle in error["message"]


def test_library_that_is_missing_or_not_litert(run_runner, tmp_path):
    check_failure(run_runner(MOBILENET, *QUICK, lib=tmp_path / "libLiteRt.so"), code="library", exit_code=3)
    libz = next((p for p in ("/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1",
                             "/lib/aarch64-linux-gnu/libz.so.1") if os.path.exists(p)), None)
    if libz is None:
        pytest.skip("no libz.so.1 on this machine to stand in for a wrong library")
    result = run_runner(MOBILENET, *QUICK, lib=libz)
    error = check_failure(result, code="library", exit_code=3, stage="load_library")
    assert "does not look like a LiteRT runtime" in error["message"]
    assert "runtime" not in result.types  # no generation to name


def test_not_a_shared_library(run_runner, tmp_path):
    fake = tmp_path / "libLiteRt.so"
    fake.write_text("not an ELF file")
    error = check_failure(run_runner(MOBILENET, *QUICK, lib=fake), code="library", exit_code=3)
    assert "cannot load" in error["message"]


def test_unwritable_out_is_a_usage_error(host_build, litert_lib, tmp_path):
    proc = subprocess.run([str(host_build.runner_path), "--model", str(MOBILENET), "--lib", str(litert_lib),
                           "--out", str(tmp_path / "no" / "such" / "dir" / "x.jsonl")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and '"code":"usage"' in proc.stdout and "cannot open --out" in proc.stdout


@pytest.mark.parametrize("model, extra, code", [
    (OUR_MODELS / "eb_flex_matrix_determinant.tflite", (), "unsupported_ops"),
    (OUR_MODELS / "eb_string_input_gather.tflite", (), "input"),
    (OUR_MODELS / "eb_gather_vocab10.tflite", (), "run"),
    (REAL_MODELS / "tflm_person_detect_int8.tflite", (), "compile"),
    (MOBILENET, ("--threads", "0"), "usage"),
], ids=lambda v: getattr(v, "name", None))
def test_host_parser_reads_every_failure(run_runner, model, extra, code):
    import json

    from edgebench.harness.output import parse_harness_output

    result = run_runner(model, *QUICK, *extra)
    parsed = parse_harness_output("".join(json.dumps(line) + "\n" for line in result.lines))
    assert not parsed.ok and parsed.error.code == code and parsed.exit_code == result.returncode


def _stub_library(tmp_path, extra_symbols: list[str]):
    """A shared library exporting the runner's required LiteRT symbols as stubs that fail."""
    import re
    import shutil as sh

    from .conftest import REPO

    cc = sh.which("gcc") or sh.which("cc")
    if cc is None:
        pytest.skip("no C compiler for the stub library")
    api = (REPO / "toolchain" / "edgebench" / "android_harness" / "src" / "litert_api.c").read_text()
    required = re.findall(r'REQ\(\w+, "(\w+)"\)', api)
    assert "LiteRtCreateModelFromFile" in required
    src = tmp_path / "stub.c"
    # Every stub returns kLiteRtStatusErrorInvalidArgument (1): the first call fails cleanly.
    src.write_text("".join(f"int {name}(void) {{ return 1; }}\n" for name in [*required, *extra_symbols]))
    lib = tmp_path / "libLiteRt.so"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    return lib


def test_pre_2_2_generation_is_recognised_by_its_exports(run_runner, tmp_path):
    lib = _stub_library(tmp_path, [])
    result = run_runner(MOBILENET, *QUICK, lib=lib)
    rt = result.one("runtime")
    assert rt["api_generation"] == "pre-2.2" and "absent" in rt["api_generation_evidence"]
    check_failure(result, code="library", exit_code=3, stage="create_environment")


def test_2_2_generation_marker(run_runner, tmp_path):
    lib = _stub_library(tmp_path, ["LiteRtCreateModelFromAllocation"])
    assert run_runner(MOBILENET, *QUICK, lib=lib).one("runtime")["api_generation"] == "2.2+"


def test_unidentifiable_generation_is_refused(run_runner, tmp_path):
    lib = _stub_library(tmp_path, ["LiteRtCompiledModelIsNonCpuFullyAccelerated"])
    result = run_runner(MOBILENET, *QUICK, lib=lib)
    error = check_failure(result, code="library", exit_code=3, stage="load_library")
    assert "cannot tell which LiteRT API generation" in error["message"]
    assert "runtime" not in result.types
