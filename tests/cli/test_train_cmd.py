"""`edgebench train` through the real entry point: one stage, content-addressed, clear errors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgebench.cli import main as cli
from tests.train.tiny import STAGE_COMMANDS as COMMANDS
from tests.train.tiny import tiny_toml


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    # Until cli/main.py lists these commands (and after: then this changes nothing).
    for name, entry in COMMANDS.items():
        monkeypatch.setitem(cli.COMMANDS, name, entry)


def test_train_then_reuse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "tiny.toml"
    spec.write_text(tiny_toml("cnn_image"))
    ws = str(tmp_path / "ws")
    assert cli.main(["--workspace", ws, "train", str(spec), "--budget", "smoke", "--set", "filters=16", "--json"]) == 0
    [record] = json.loads(capsys.readouterr().out)
    assert record["kind"] == "trained" and record["hyperparameters"]["filters"] == 16
    assert Path(record["path"]).is_file() and Path(record["path"]).is_relative_to(Path(ws).resolve() / "artifacts")
    assert cli.main(["--workspace", ws, "train", str(spec), "--budget", "smoke", "--set", "filters=16"]) == 0
    out = capsys.readouterr().out
    assert f"trained cnn_image  {record['artifact_id']}  reused" in out and "accuracy  val" in out


@pytest.mark.parametrize("setting, message", [
    ("filters=12", "search_space.filters (budget smoke): 12 is outside the search space; allowed: 8, 16"),
    ("filters=abc", "filters takes int values"),
    ("widht=3", "unknown hyperparameter 'widht' for cnn_image; allowed: filters"),
    ("filters", "expected NAME=VALUE"),
])
def test_bad_settings_fail_before_training(tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str,
                                           message: str) -> None:
    spec = tmp_path / "tiny.toml"
    spec.write_text(tiny_toml("cnn_image"))
    assert cli.main(["--workspace", str(tmp_path / "ws"), "train", str(spec), "--budget", "smoke", "--set", setting]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "ws" / "artifacts").exists()


def test_missing_dataset_says_where_to_put_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "ws"
    code = cli.main(["--workspace", str(ws), "train", str(Path(__file__).resolve().parents[2] / "models" / "cnn_image.toml")])
    assert code == 2
    err = capsys.readouterr().err
    assert f"MNIST not found in {ws.resolve() / 'datasets' / 'mnist'}" in err and "never downloads" in err
    assert not (ws / "artifacts").exists()


def test_command_modules_import_no_tensorflow() -> None:
    import subprocess
    import sys

    code = ("import sys, argparse; import edgebench.cli.train_cmd as t, edgebench.cli.optimize_cmd as o, "
            "edgebench.cli.convert_cmd as c; [m.add_arguments(argparse.ArgumentParser()) for m in (t, o, c)]; "
            "assert 'tensorflow' not in sys.modules")
    repo = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": str(repo / "toolchain")})
