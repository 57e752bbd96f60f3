"""inspect_file: identifier-based model detection, sniff-based text detection, clear errors."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from edgebench.errors import ModelError, ParseError, UsageError
from edgebench.inspect import formats, inspect_file, known_formats
from edgebench.inspect.registry import TextFormat

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "real-device"
IMX = REAL / "a_benchmark_model" / "imx8mp_linux_mobilenet_v1_quant_cpu_opprofiling.txt"
MODEL = REAL / "g_tflite_models" / "tflm_hello_world_float.tflite"


def test_model_by_identifier_not_extension(tmp_path: Path) -> None:
    renamed = tmp_path / "model.bin"
    shutil.copy(MODEL, renamed)
    result = inspect_file(renamed)
    assert result.format == "tflite" and result.data.parameter_count == 321


def test_text_named_tflite_is_a_clear_model_error(tmp_path: Path) -> None:
    fake = tmp_path / "model.tflite"
    fake.write_text("<html>404 Not Found</html>\n")
    with pytest.raises(ModelError, match="not a TFLite model.*looks like text"):
        inspect_file(fake)


def test_benchmark_output_is_recognised() -> None:
    result = inspect_file(IMX)
    assert result.format == "benchmark_model" and result.data.inference_avg_us == 162980


def test_forced_format_errors_name_the_file_and_the_format(tmp_path: Path) -> None:
    other = tmp_path / "battery.txt"
    other.write_text("Current Battery Service state:\n  level: 50\n")
    with pytest.raises(ParseError) as err:
        inspect_file(other, as_format="benchmark_model")
    assert str(other) in str(err.value) and "(as benchmark_model)" in str(err.value)


def test_forced_tflite_on_text_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="TFL3"):
        inspect_file(IMX, as_format="tflite")


def test_unknown_as_lists_the_formats() -> None:
    with pytest.raises(UsageError, match="known formats: tflite, .*benchmark_model"):
        inspect_file(IMX, as_format="nope")


def test_unrecognised_text_suggests_as(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("nothing any parser knows about, surely: qwxzj 12 ~~\n")
    with pytest.raises(ParseError, match="--as FORMAT") as err:
        inspect_file(junk)
    assert "benchmark_model" in str(err.value)


def test_equal_scores_are_ambiguous(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    same = [TextFormat(name, "test", lambda text, name: 50, lambda text: None) for name in ("a", "b")]
    monkeypatch.setattr(formats, "TEXT_FORMATS", same)
    f = tmp_path / "x.txt"
    f.write_text("anything\n")
    with pytest.raises(ParseError, match="ambiguous: the formats a, b"):
        inspect_file(f)


def test_highest_score_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fmts = [TextFormat("low", "", lambda t, n: 10, lambda t: "low"),
            TextFormat("high", "", lambda t, n: 90, lambda t: "high")]
    monkeypatch.setattr(formats, "TEXT_FORMATS", fmts)
    f = tmp_path / "x.txt"
    f.write_text("anything\n")
    assert inspect_file(f).data == "high"


def test_binary_and_missing_files(tmp_path: Path) -> None:
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"\x7fELF\x00\x00\x00\x00rest")
    with pytest.raises(ParseError, match="binary file"):
        inspect_file(blob)
    with pytest.raises(UsageError, match="not found"):
        inspect_file(tmp_path / "missing.txt")


def test_known_formats_start_with_tflite() -> None:
    assert known_formats()[0] == "tflite" and "benchmark_model" in known_formats()
