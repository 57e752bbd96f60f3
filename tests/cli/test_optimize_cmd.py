"""`edgebench optimize` through the real entry point."""
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


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    from edgebench.spec import load_spec
    from edgebench.train import ArtifactStore, train_model

    root = tmp_path_factory.mktemp("optimize-cmd")
    spec = root / "tiny.toml"
    spec.write_text(tiny_toml("lstm_sentiment", variants=["fp32", "prune:0.5+int8", "cluster:4"]))
    ws = root / "ws"
    record = train_model(load_spec(spec, "smoke"), store=ArtifactStore(ws / "artifacts"))
    return str(ws), record.artifact_id


def test_default_transforms_come_from_the_spec(trained: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    ws, artifact = trained
    assert cli.main(["--workspace", ws, "optimize", artifact[:10], "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["transform"] for r in records] == ["prune:0.5", "cluster:4"]
    assert all(r["parent_id"] == artifact and Path(r["path"]).is_file() for r in records)
    assert records[0]["weight_sparsity"] == pytest.approx(0.5, abs=0.01)
    # Human output of a stored result says it was reused and which layers were covered.
    assert cli.main(["--workspace", ws, "optimize", artifact[:10], "--variant", "prune_2_4"]) == 0
    out = capsys.readouterr().out
    assert "prune_2_4" in out and "covered   lstm, classifier" in out and "not       embedding" in out


@pytest.mark.parametrize("variant, message", [
    ("qat", "qat does not apply to lstm_sentiment"),
    ("prune:0.5+int8", "give the training-time transform only"),
    ("prune:2", "sparsity must be in (0, 1)"),
])
def test_refused_variants(trained: tuple[str, str], capsys: pytest.CaptureFixture[str], variant: str, message: str) -> None:
    ws, artifact = trained
    folder = Path(ws) / "artifacts" / "transformed"
    before = sorted(folder.iterdir()) if folder.exists() else []
    assert cli.main(["--workspace", ws, "optimize", artifact, "--variant", "prune:0.6", "--variant", variant]) == 2
    assert message in capsys.readouterr().err
    assert (sorted(folder.iterdir()) if folder.exists() else []) == before  # refused before any work


def test_unknown_artifact(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--workspace", str(tmp_path), "optimize", "abcdef12"]) == 2
    assert "no trained artifact 'abcdef12'" in capsys.readouterr().err
