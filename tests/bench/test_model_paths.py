"""push-and-run refuses model paths that are not regular, non-empty files, naming them (issue #11, C17)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from edgebench.api import push_and_run
from edgebench.bench.session import load_models
from edgebench.cli.main import main
from edgebench.errors import UsageError

from ..conftest import REAL_MODELS

ADD = REAL_MODELS / "tflm_simple_add_model.tflite"


def _problems(*paths: Path | str) -> dict[str, str]:
    models, problems = load_models(list(paths))
    assert models == []
    return {p.path: p.message for p in problems}


def test_device_fifo_folder_empty_and_missing_are_told_apart(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.tflite"
    os.mkfifo(fifo)  # nobody writes: hashing it would block forever
    empty = tmp_path / "empty.tflite"
    empty.write_bytes(b"")
    link = tmp_path / "zero.tflite"
    link.symlink_to("/dev/zero")
    got = _problems("/dev/zero", fifo, tmp_path, empty, link, tmp_path / "missing.tflite")
    assert got["/dev/zero"] == "model file '/dev/zero' is a character device, not a regular file. " \
                               "Expected a .tflite file."
    assert "is a named pipe (FIFO)" in got[str(fifo)]
    assert "is a folder" in got[str(tmp_path)]
    assert f"model file {str(empty)!r} is empty (0 bytes)" in got[str(empty)]
    assert "is a character device" in got[str(link)]
    assert "does not exist" in got[str(tmp_path / "missing.tflite")]


def test_cli_refuses_dev_zero_and_an_empty_model_before_any_run(workspace, tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty.tflite"
    empty.write_bytes(b"")
    assert main(["push-and-run", "/dev/zero", str(empty), "--protocol", "smoke"]) == 2
    err = capsys.readouterr().err
    assert "'/dev/zero' is a character device" in err and "does not exist" not in err
    assert f"{str(empty)!r} is empty (0 bytes)" in err


def test_api_refuses_an_empty_model_and_runs_the_good_one(workspace, tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty.tflite"
    empty.write_bytes(b"")
    with pytest.raises(UsageError, match="is empty"):
        push_and_run([empty], protocol="smoke")
    code = main(["push-and-run", str(ADD), str(empty), "--protocol", "smoke", "--json"])
    captured = capsys.readouterr()
    records = json.loads(captured.out)
    assert code == 1 and [r["model"] for r in records] == [ADD.name]  # the empty one was never staged
    assert "is empty (0 bytes)" in captured.err


def test_engine_binary_that_is_a_device_is_named_as_such(workspace, capsys) -> None:
    assert main(["push-and-run", str(ADD), "--engine", "benchmark_model", "--engine-binary", "/dev/zero"]) == 2
    assert "'/dev/zero' is a character device, not a regular file" in capsys.readouterr().err
