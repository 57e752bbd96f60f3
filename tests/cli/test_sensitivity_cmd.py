"""`edgebench sensitivity --table FILE.parquet`: the tables, --json and the error without pruned variants."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from edgebench.cli.main import main


def pruned_table(n: int = 24) -> pd.DataFrame:
    """hp.units drives latency up for fp32 and down after prune:0.8 (a reversal); hp.optimizer does nothing."""
    rng = np.random.default_rng(1)
    rows = []
    for i in range(n):
        units = (16, 32, 64, 128)[i % 4]
        for variant, transform, sparsity in (("fp32", "", np.nan), ("prune:0.8", "prune:0.8", 0.8)):
            latency = units if not transform else 200.0 - units
            rows.append({"id": f"trial {i}/{variant}", "trained_id": f"t{i}", "variant": variant,
                         "transform": transform, "quantization": "fp32", "sparsity": sparsity,
                         "hp.units": units, "hp.optimizer": ("adam", "sgd")[(i // 4) % 2],
                         "device_id": "R58M", "config": "cpu/1t", "valid": True,
                         "latency_ms": latency * (1 + rng.normal(0, 0.03)), "accuracy": 0.9})
    return pd.DataFrame(rows)


@pytest.fixture()
def parquet(tmp_path: Path) -> Path:
    path = tmp_path / "variants.parquet"
    pruned_table().to_parquet(path)
    return path


def test_tables_in_the_terminal(parquet: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sensitivity", "--table", str(parquet), "--draws", "100"]) == 0
    out = capsys.readouterr().out
    assert "profile distance pruned vs unpruned" in out and "Kruskal-Wallis" in out
    assert any("units" in line and "reversed" in line for line in out.splitlines())
    # the constant accuracy is left out of the tables and named below them
    assert "not checked: 2 rows" in out and "accuracy is the same for every unpruned and pruned model" in out


def test_json(parquet: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sensitivity", "--table", str(parquet), "--properties", "latency_ms", "--draws", "100",
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    units = [r for r in result["influence_changes"] if r["hyperparameter"] == "units"][0]
    assert units["verdict"] == "reversed" and units["base_variant"] == "fp32" and units["sparsity"] == 0.8
    distance = [r for r in result["distances"] if r["hyperparameter"] == "units"][0]
    assert distance["wasserstein"] > 0.1 and distance["wasserstein_ci_low"] == 0.0  # one-sided bound


def test_a_table_without_pruned_variants_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "fp32.csv"
    pruned_table().query("transform != 'prune:0.8'").to_csv(path, index=False)
    assert main(["sensitivity", "--table", str(path)]) == 2
    assert "no pruned variant" in capsys.readouterr().err
