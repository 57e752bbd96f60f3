"""TensorFlow's, LiteRT's and the converter's own log lines stay out of edgebench's output unless --verbose."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from edgebench.cli.quiet import is_noise
from tests.train.tiny import tiny_toml

TOOLCHAIN = Path(__file__).resolve().parents[2] / "toolchain"

# Lines printed by `edgebench study run models/cnn_image.toml --budget smoke --target local` on this host
# (TensorFlow 2.21, LiteRT 2.3, no GPU), between edgebench's own lines.
SEEN_NOISE = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796524947.980478   12954 port.cc:153] oneDNN custom operations are on. You may see slightly "
    "different numerical results due to floating-point round-off errors from different computation orders. To turn "
    "them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.",
    "I0000 00:00:1796524947.981328   12954 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will "
    "not be used.",
    "E0000 00:00:1796524953.815087   12954 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: Failed "
    "call to cuInit: UNKNOWN ERROR (303)",
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
    "fully_quantize: 0, inference_type: 6, input_inference_type: INT8, output_inference_type: INT8",
]
# What must never be hidden: edgebench's own lines and real errors from the same libraries.
NOT_NOISE = [
    "study cnn_image: building int8 of default (275738c94ff0)",
    "tune: trial 1: val accuracy 0.8750 {'filters': 12}",
    "E0000 00:00:1796524953.815087   12954 tf_tfl_flatbuffer_helpers.cc:360] error: 'tf.Foo' op is neither a "
    "custom op nor a flex op",
    "error: failed while converting: 'main'",
    "Traceback (most recent call last):",
    "ERROR: Didn't find op for builtin opcode 'CONV_2D' version '7'",
]
NOISE_MARKERS = ("absl::InitializeLog", "oneDNN custom operations", "cuda drivers", "cuInit",
                 "XNNPACK delegate", "fully_quantize:")


@pytest.mark.parametrize("line", SEEN_NOISE)
def test_routine_library_lines_are_recognised(line):
    assert is_noise(line)


@pytest.mark.parametrize("line", NOT_NOISE)
def test_edgebench_lines_and_real_errors_are_not(line):
    assert not is_noise(line)


def test_the_filter_holds_back_fd_level_chatter_and_passes_the_rest(tmp_path):
    # In a child process, so the real fd 2 is a file we can read: C-level writes (os.write on fd 2, and a
    # grandchild's) are filtered; Python's sys.stderr and unknown lines come through; a failure replays.
    script = textwrap.dedent(f"""
        import os, subprocess, sys
        from edgebench.cli.quiet import LibraryNoiseFilter
        with LibraryNoiseFilter() as f:
            os.write(2, {SEEN_NOISE[1]!r}.encode() + b"\\n")
            subprocess.run(["sh", "-c", "echo {SEEN_NOISE[5]} >&2; echo 'error: real converter error' >&2"])
            print("edgebench's own line", file=sys.stderr)
        print("hidden", f.hidden_count, file=sys.stderr)
        f.replay(sys.stderr)
    """)
    err = tmp_path / "err.txt"
    with open(err, "w") as sink:
        subprocess.run([sys.executable, "-c", script], stderr=sink, check=True, timeout=60,
                       env={**os.environ, "PYTHONPATH": str(TOOLCHAIN)})
    before, _, replayed = err.read_text().partition("hidden 2\n")
    assert "error: real converter error" in before and "edgebench's own line" in before
    assert not any(m in before for m in NOISE_MARKERS), before
    assert "oneDNN custom operations" in replayed and "fully_quantize:" in replayed


def _cli(ws: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(TOOLCHAIN), os.environ.get("PYTHONPATH"))))}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    return subprocess.run([sys.executable, "-m", "edgebench.cli.main", "--workspace", str(ws), *argv],
                          capture_output=True, text=True, env=env, timeout=900)


@pytest.mark.slow
def test_train_and_convert_print_only_edgebench_lines_unless_verbose(tmp_path):
    spec = tmp_path / "tiny.toml"
    spec.write_text(tiny_toml("cnn_image", variants=["fp32"]))
    ws = tmp_path / "ws"
    train = _cli(ws, "train", str(spec), "--budget", "smoke", "--json")
    assert train.returncode == 0, train.stderr
    trained = json.loads(train.stdout)[0]["artifact_id"]
    convert = _cli(ws, "convert", trained, "--quantize", "int8")
    assert convert.returncode == 0, convert.stderr
    for result in (train, convert):
        shown = result.stdout + result.stderr
        assert not [m for m in NOISE_MARKERS if m in shown], shown
    assert "int8" in convert.stdout

    # --verbose (after the command too) shows the libraries' lines as they come.
    verbose = _cli(ws, "convert", trained, "--quantize", "int8", "--redo", "--verbose")
    assert verbose.returncode == 0, verbose.stderr
    assert "fully_quantize:" in verbose.stderr  # the converter prints it for every int8 conversion
