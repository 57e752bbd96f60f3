"""The shipped specs' smoke budgets, end to end, as a user runs them:

    edgebench study run models/X.toml --budget smoke --target local

cnn_image's (the README's main job, scripts/demo.sh) is checked with every analysis in
tests/cli/test_analysis_of_a_study.py. Slow: about a minute or more each.
"""
from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest

from edgebench.cli.main import main
from edgebench.spec import load_spec

MODELS = Path(__file__).resolve().parents[2] / "models"

pytestmark = pytest.mark.slow


# cnn_image runs with --variants-for all in tests/cli/test_analysis_of_a_study.py (the same checks and more).
@pytest.mark.parametrize("name", ["cnn_text", "lstm_sentiment", "resnet50"])
def test_smoke_budget_trains_tunes_optimizes_measures_and_reports(name, tmp_path, capsys):
    workspace = tmp_path / "ws"
    code = main(["--workspace", str(workspace), "study", "run", str(MODELS / f"{name}.toml"), "--budget", "smoke",
                 "--target", "local"])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0, out
    report = Path(out[-1])
    assert report.name == "report.html" and report.is_file()
    study = json.loads((report.parent / "study.json").read_text())
    rows = study["rows"]
    # The smoke budget tunes: every trial of its budget finished (trial 0 is the spec's defaults).
    tuned = optuna.load_study(study_name=study["optuna_study"], storage=f"sqlite:///{workspace / 'optuna.sqlite'}")
    assert sum(t.state.name == "COMPLETE" for t in tuned.trials) == load_spec(MODELS / f"{name}.toml", "smoke").tuning.trials
    # Every variant the spec asks for was converted and measured on this host, or says why not.
    for r in rows:
        assert r["status"] == "measured" or r["problem"], r
    measured = [r for r in rows if r["status"] == "measured"]
    wanted = {"fp32", "int8"}
    assert wanted <= {r["variant"] for r in measured}, [(r["variant"], r["problem"]) for r in rows]
    assert all(r["latency_median_us"] > 0 and r["test_accuracy"] is not None for r in measured)
    assert any(r["non_dominated"] for r in measured)
    # The store traces a measured run back to the hyperparameters it was trained with.
    run = measured[-1]
    assert main(["--workspace", str(workspace), "results", "lineage", run["run_ids"][0], "--json"]) == 0
    traced = json.loads(capsys.readouterr().out)
    node = traced["lineage"]
    while node["parents"]:
        node = node["parents"][0]
    assert node["kind"] == "hyperparameters" and node["record"]["hyperparameters"] == run["hyperparameters"]
