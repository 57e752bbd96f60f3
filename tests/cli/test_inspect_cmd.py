"""`edgebench inspect` through the real entry point."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from edgebench.cli.main import main
from edgebench.user_files import MAX_MODEL_BYTES, MAX_TEXT_BYTES

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "real-device"
IMX = str(REAL / "a_benchmark_model" / "imx8mp_linux_mobilenet_v1_quant_cpu_opprofiling.txt")
XIAOMI = str(REAL / "a_benchmark_model" / "xiaomi_mi11_sd888_nnapi_qti_default_yolov5s_int8_FAILED.txt")
MODEL = str(REAL / "g_tflite_models" / "tflm_hello_world_int8.tflite")


def test_json_one_file(capsys) -> None:
    assert main(["inspect", IMX, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"format", "data"}
    assert out["format"] == "benchmark_model"
    assert out["data"]["init_us"] == 2409 and out["data"]["peak_memory_mb"] == 10.332
    assert out["data"]["op_profiles"][1]["by_node_type"][0]["node_type"] == "CONV_2D"


def test_json_several_files_keeps_going_after_a_failure(capsys, tmp_path: Path) -> None:
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"")
    assert main(["inspect", MODEL, str(bad), XIAOMI, "--json"]) == 1
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert [o["format"] for o in out] == ["tflite", None, "benchmark_model"]
    assert out[0]["data"]["quantization"] == "full_int8"
    assert "empty file" in out[1]["error"] and out[1]["file"] == str(bad)
    assert out[2]["data"]["failed"] is True
    assert "empty file" in captured.err


def test_human_summary(capsys) -> None:
    assert main(["inspect", IMX, MODEL]) == 0
    out = capsys.readouterr().out
    assert "162.980 ms" in out and "over 50 runs" in out
    assert "CONV_2D" in out and "143.812" in out
    assert "full_int8" in out and "FULLY_CONNECTED" in out


def test_human_failed_run_and_missing_file(capsys) -> None:
    assert main(["inspect", XIAOMI, "/no/such/file.txt"]) == 2
    captured = capsys.readouterr()
    assert "FAILED" in captured.out and "Failed to apply NNAPI delegate." in captured.out
    assert "file not found: /no/such/file.txt" in captured.err


def test_as_forces_the_format(capsys) -> None:
    assert main(["inspect", "--as", "tflite", IMX]) == 1
    assert "TFL3" in capsys.readouterr().err


def test_unknown_as_is_a_usage_error(capsys) -> None:
    assert main(["inspect", "--as", "nope", IMX]) == 2
    err = capsys.readouterr().err
    assert "unknown format 'nope'" in err and "benchmark_model" in err


def _inspect_in_child(*args: str, timeout_s: float = 120) -> subprocess.CompletedProcess:
    # A child process with a time and memory bound: an unbounded read of /dev/zero must fail the test,
    # not hang or exhaust this host.
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (1 << 31, 1 << 31)); "
            "from edgebench.cli.main import main; sys.exit(main(sys.argv[1:]))")
    return subprocess.run([sys.executable, "-c", code, "inspect", *args], capture_output=True, text=True,
                          timeout=timeout_s, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})


@pytest.mark.parametrize("as_format", [None, "tflite", "benchmark_model"])
def test_dev_zero_is_refused_up_front_naming_the_path(as_format) -> None:
    done = _inspect_in_child("/dev/zero", *(["--as", as_format] if as_format else []))
    assert done.returncode == 2, done.stderr
    assert "/dev/zero is a character device, not a regular file" in done.stderr


def test_fifo_and_folder_are_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)  # nobody writes: a blocking open would hang (the child's timeout fails the test)
    done = _inspect_in_child(str(fifo), str(tmp_path), timeout_s=60)
    assert done.returncode == 2, done.stderr
    assert f"{fifo} is a named pipe (FIFO), not a regular file" in done.stderr
    assert f"{tmp_path} is a folder" in done.stderr


def test_empty_text_file_is_refused_naming_the_path(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "run.txt"
    empty.write_bytes(b"")
    assert main(["inspect", str(empty)]) == 1
    assert f"{empty}: empty file (0 bytes)" in capsys.readouterr().err


def test_oversized_text_is_refused_before_reading(tmp_path: Path, capsys) -> None:
    big = tmp_path / "huge_log.txt"
    with open(big, "wb") as fh:  # sparse: no disk or memory used unless someone reads it all
        fh.truncate(MAX_TEXT_BYTES + 1)
    assert main(["inspect", str(big)]) == 2
    err = capsys.readouterr().err
    assert str(big) in err and "larger than the 64 MiB" in err


def test_oversized_model_is_refused_before_reading(tmp_path: Path, capsys) -> None:
    big = tmp_path / "huge.tflite"
    with open(big, "wb") as fh:
        fh.truncate(MAX_MODEL_BYTES + 1)
    assert main(["inspect", str(big)]) == 2
    assert "larger than the 2,048 MiB" in capsys.readouterr().err
