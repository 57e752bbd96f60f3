"""`edgebench convert` through the real entry point: train -> optimize -> convert, one stage each."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgebench.cli import main as cli
from tests.train.tiny import STAGE_COMMANDS as COMMANDS
from tests.train.tiny import tiny_toml


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, entry in COMMANDS.items():
        monkeypatch.setitem(cli.COMMANDS, name, entry)


def test_three_stages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "tiny.toml"
    spec.write_text(tiny_toml("cnn_image", variants=["fp32", "float16", "qat"]))
    ws = str(tmp_path / "ws")
    assert cli.main(["--workspace", ws, "train", str(spec), "--budget", "smoke", "--json"]) == 0
    trained = json.loads(capsys.readouterr().out)[0]["artifact_id"]
    assert cli.main(["--workspace", ws, "optimize", trained, "--json"]) == 0
    [qat] = json.loads(capsys.readouterr().out)
    assert qat["transform"] == "qat"

    # Default quantizations: what the spec pairs with each artifact's transform.
    assert cli.main(["--workspace", ws, "convert", trained[:8], qat["artifact_id"][:8], "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["variant"] for r in records] == ["fp32", "float16", "qat"]
    assert records[2]["input_dtype"] == "int8" and records[2]["parent_id"] == qat["artifact_id"]
    for r in records:
        assert Path(r["path"]).parent.name == r["artifact_id"]
    assert [Path(r["path"]).name for r in records] == [f"cnn_image-{v}-{r['artifact_id'][:8]}.tflite"
                                                       for v, r in zip(("fp32", "float16", "qat"), records)]

    assert cli.main(["--workspace", ws, "convert", trained[:8], "--quantize", "int8,dynamic_range"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:5] == ["variant", "id", "size", "gzip", "acc"]
    assert "int8 " in out and "dynamic_range " in out and "LiteRT on this host over 48 test examples" in out


def test_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "tiny.toml"
    spec.write_text(tiny_toml("cnn_image", variants=["fp32"]))
    ws = str(tmp_path / "ws")
    assert cli.main(["--workspace", ws, "train", str(spec), "--budget", "smoke", "--json"]) == 0
    trained = json.loads(capsys.readouterr().out)[0]["artifact_id"]
    assert cli.main(["--workspace", ws, "convert", trained, "--quantize", "int4"]) == 2
    assert "unknown int4; allowed: fp32, dynamic_range, float16, int8" in capsys.readouterr().err
    assert cli.main(["--workspace", ws, "convert", trained, "--calibration-samples", "0"]) == 2
    assert "--calibration-samples must be at least 1" in capsys.readouterr().err
    assert not (Path(ws) / "artifacts" / "converted").exists()
