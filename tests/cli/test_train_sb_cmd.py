"""`edgebench train --selective-backprop`: trains with SB, records it, and refuses bad settings before training."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgebench.cli import main as cli
from edgebench.spec import load_spec
from edgebench.spec.selective_backprop import BETA_DIMENSION
from edgebench.train import trained_id
from tests.train.tiny import STAGE_COMMANDS as COMMANDS
from tests.train.tiny import tiny_toml


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, entry in COMMANDS.items():
        monkeypatch.setitem(cli.COMMANDS, name, entry)


def test_train_with_selective_backprop_records_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "tiny.toml"
    spec.write_text(tiny_toml("cnn_image"))
    ws = str(tmp_path / "ws")
    args = ["--workspace", ws, "train", str(spec), "--budget", "smoke", "--set", "epochs=2"]
    assert cli.main([*args, "--selective-backprop", "beta=2,staleness=2", "--json"]) == 0
    [record] = json.loads(capsys.readouterr().out)
    sb = record["selective_backprop"]
    assert sb["settings"] == {"beta": 2.0, "history": 1024, "staleness": 2, "lr_by": "backpropagated"}
    assert [e["primed"] for e in sb["epochs"]] == [True, False] and sb["epochs"][1]["examples_forwarded"] == 0
    plain = load_spec(spec, "smoke")
    assert record["artifact_id"] != trained_id(plain, record["hyperparameters"], 3, record["dataset"]["data_hash"])
    # The same command again reuses it; the summary shows what SB did.
    assert cli.main([*args, "--selective-backprop", "beta=2,staleness=2"]) == 0
    out = capsys.readouterr().out
    assert f"{record['artifact_id']}  reused" in out and "SB        beta 2, history 1024, Stale-SB staleness 2" in out
    assert "epoch 2: analyzed 144 (forward 0), backpropagated" in out


@pytest.mark.parametrize("extra, message", [
    (["--selective-backprop", "beta=0"], "--selective-backprop 'beta=0': beta: 0 is out of range"),
    (["--selective-backprop", "lr_by=analyzed"], "beta: missing"),
    (["--set", f"{BETA_DIMENSION}=2"], "this spec does not search Selective-Backprop's beta; give it with --selective-backprop beta=2"),
])
def test_bad_selective_backprop_fails_before_training(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      extra: list[str], message: str) -> None:
    spec = tmp_path / "tiny.toml"
    spec.write_text(tiny_toml("cnn_image"))
    assert cli.main(["--workspace", str(tmp_path / "ws"), "train", str(spec), "--budget", "smoke", *extra]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "ws" / "artifacts").exists()


def test_a_cli_beta_must_lie_in_a_searched_betas_space(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "tiny.toml"
    spec.write_text(tiny_toml("cnn_image", extra_space=f"{BETA_DIMENSION} = {{ choices = [1, 2], default = 2 }}")
                    .replace("[budget.smoke]", "[train.selective_backprop]\n\n[budget.smoke]"))
    assert cli.main(["--workspace", str(tmp_path / "ws"), "train", str(spec), "--budget", "smoke",
                     "--selective-backprop", "beta=3"]) == 2
    assert "search_space.selective_backprop.beta (budget smoke): 3.0 is outside the search space; allowed: 1.0, 2.0" \
        in capsys.readouterr().err
