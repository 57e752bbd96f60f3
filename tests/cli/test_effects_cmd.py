"""`edgebench effects --table FILE`: the rich tables, --json, and the errors (a generated study table)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from edgebench.cli.main import main


def study_table(n: int = 16) -> pd.DataFrame:
    """Latency grows with hp.units (and int8 halves it); hp.optimizer changes nothing; hp.epochs is constant."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        units = (16, 32, 64, 128)[i % 4]
        for variant, factor in (("fp32", 1.0), ("int8", 0.5)):
            rows.append({"id": f"trial {i}/{variant}", "source": f"trial {i}", "trained_id": f"t{i}",
                         "variant": variant, "transform": "", "quantization": variant, "sparsity": np.nan,
                         "hp.units": units, "hp.optimizer": ("adam", "sgd")[(i // 4) % 2], "hp.epochs": 3,
                         "device_id": "R58M", "config": "cpu/1t", "valid": True,
                         "accuracy": 0.9 + 0.001 * i, "latency_ms": factor * units * (1 + rng.normal(0, 0.03)),
                         "size_bytes": 100.0 * units * factor})
    return pd.DataFrame(rows)


@pytest.fixture()
def csv(tmp_path: Path) -> Path:
    path = tmp_path / "variants.csv"
    study_table().to_csv(path, index=False)
    return path


def test_tables_in_the_terminal(csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["effects", "--table", str(csv), "--draws", "100", "--top-k", "5"]) == 0
    out = capsys.readouterr().out
    assert "level vs rest: Mann-Whitney U" in out and "significant ones shown" in out
    assert "spread among the top 5 by accuracy" in out and "Kendall tau" in out
    significant = [line for line in out.splitlines() if "│ latency_ms" in line and "large" in line]
    assert significant and all("units" in line for line in significant)  # optimizer is never significant


def test_json_has_every_table(csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["effects", "--table", str(csv), "--properties", "latency_ms", "--draws", "100", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["properties"] == ["latency_ms"] and result["draws"] == 100
    assert {"tests", "correlations", "spread", "rank_changes", "rank_moves"} <= set(result)
    units = [r for r in result["correlations"] if r["hyperparameter"] == "units" and r["variant"] == "fp32"][0]
    assert units["spearman_rho"] > 0.9 and units["ci_low"] is not None
    assert not [r for r in result["correlations"] if r["hyperparameter"] == "optimizer"]  # a category: no rho
    epochs = [r for r in result["tests"] if r["hyperparameter"] == "epochs"]
    assert len(epochs) == 2 and all(r["status"] == "not_checked" and r["p_value"] is None for r in epochs)


def test_errors(tmp_path: Path, csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["effects", "--table", str(tmp_path / "missing.csv")]) == 2
    assert "expected a .csv or .parquet file, found no file there" in capsys.readouterr().err
    assert main(["effects", "--table", str(csv), "--properties", "speed"]) == 2
    assert "'speed' is not a column" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["effects", "--table", str(csv), "--study", "s1"])  # one source, not both
