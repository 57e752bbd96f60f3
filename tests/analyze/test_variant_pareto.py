"""Pareto analysis of a variant table: per device, samples from the store's measurements, excluded rows with
reasons, and the combined ranking across devices."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from edgebench.analyze.variant_pareto import pareto_of_variants, row_samples
from edgebench.analyze.objectives import parse_objectives
from edgebench.analyze.variant_table import study_table
from edgebench.errors import UsageError

from .variant_store import build_workspace


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    return study_table(build_workspace(tmp_path_factory.mktemp("ws")))


def _variants(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A variant table made here: only the columns the analysis reads."""
    base = {"status": "measured", "repeats_ok": 1, "repeats_total": 1, "accuracy_n": math.nan,
            "energy_samples_mj": [], "latency_repeats_ms": [], "energy_mj": math.nan}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_one_analysis_per_device_and_every_row_accounted_for(table: pd.DataFrame) -> None:
    result = pareto_of_variants(table, "accuracy:max,latency_ms:min", draws=200, seed=1)
    assert [a.device for a in result.analyses] == ["Pixel 7", "edgebench-virtual"]
    assert [(e.id, e.reason) for e in result.excluded] == [("default/float16", "ran on no device (status build_failed)"),
                                                           ("trial 4", "ran on no device (status trial_failed)")]
    pixel, virtual = result.analyses
    assert pixel.analysis is not None and virtual.analysis is not None
    assert pixel.analysis.rows["id"].tolist() == ["default/fp32 on Pixel 7", "default/prune:0.5+int8 on Pixel 7",
                                                  "trial 3/fp32 on Pixel 7"]
    assert [(e.id, e.reason) for e in virtual.excluded] == [
        ("trial 3/fp32 on edgebench-virtual", "no value for latency_ms (status run_failed, 0 of 1 repeats ok)")]
    analysed = sum(len(a.analysis.rows) + len(a.excluded) for a in result.analyses if a.analysis is not None)
    assert analysed + len(result.excluded) == len(table)
    assert {u.objective: (u.rows_sampled, u.rows_fixed) for u in pixel.samples} == {"accuracy": (3, 0),
                                                                                   "latency_ms": (3, 0)}
    assert pixel.analysis.rows["frontier_probability"].tolist()[2] == 0.0  # trial 3 is slower and less accurate
    assert pixel.attainment is not None and set(pixel.attainment["level"]) == {0.1, 0.5, 0.9}


def test_objectives_without_a_sample_model_stay_fixed_and_three_objectives_have_no_surfaces(
        table: pd.DataFrame) -> None:
    result = pareto_of_variants(table, "accuracy:max,latency_ms:min,training_s:min", draws=50)
    pixel = result.analyses[0]
    assert [(u.objective, u.model is None) for u in pixel.samples] == [("accuracy", False), ("latency_ms", False),
                                                                        ("training_s", True)]
    assert pixel.attainment is None


def test_sample_models_latency_bootstrap_binomial_accuracy_and_energy_runs() -> None:
    rows = _variants([
        {"id": "x", "latency_ms": 2.0, "latency_repeats_ms": [[1.0, 1.0, 1.0], [3.0, 3.0, 3.0]], "accuracy": 0.9,
         "accuracy_n": 100.0, "energy_mj": 2.0, "energy_samples_mj": [1.0, 3.0]},
        {"id": "y", "latency_ms": 5.0, "accuracy": 0.8, "energy_mj": 4.0, "energy_samples_mj": [4.0]},
    ])
    objectives = parse_objectives("latency_ms:min,accuracy:max,energy_mj:min")
    sampled, uses = row_samples(rows, objectives, 4000, np.random.default_rng(0))
    # median of 2 resampled repeat medians (1 or 3): 1, 2 or 3 with probabilities 1/4, 1/2, 1/4
    latency = sampled["latency_ms"][0]
    assert set(np.unique(latency)) == {1.0, 2.0, 3.0} and len(latency) == 200  # MAX_REPLICATES
    assert np.mean(latency == 2.0) == pytest.approx(0.5, abs=0.1)
    assert len(sampled["accuracy"][0]) == 4000  # one binomial value per draw
    accuracy = sampled["accuracy"][0]
    assert np.allclose(accuracy * 100, np.round(accuracy * 100))
    assert accuracy.mean() == pytest.approx(0.9, abs=0.003)
    assert accuracy.std() == pytest.approx(stats.binom(100, 0.9).std() / 100, rel=0.1)
    assert set(np.unique(sampled["energy_mj"][0])) == {1.0, 2.0, 3.0}
    # y lacks raw latencies, a test-set size and a second energy run: its values stay fixed
    assert [list(sampled[n][1]) for n in ("latency_ms", "accuracy", "energy_mj")] == [[5.0], [0.8], [4.0]]
    assert [(u.objective, u.rows_sampled, u.rows_fixed) for u in uses] == [
        ("latency_ms", 1, 1), ("accuracy", 1, 1), ("energy_mj", 1, 1)]


def _two_devices() -> pd.DataFrame:
    rows = []
    for device in ("p1", "p2"):
        rows += [
            {"id": f"best on {device}", "device_id": device, "device_model": device, "latency_ms": 1.0,
             "latency_repeats_ms": [[0.9, 1.0, 1.1]], "accuracy": 0.95},
            {"id": f"worst on {device}", "device_id": device, "device_model": device, "latency_ms": 9.0,
             "latency_repeats_ms": [[8.9, 9.0, 9.1]], "accuracy": 0.5},
            {"id": f"mid on {device}", "device_id": device, "device_model": device, "latency_ms": 0.5,
             "latency_repeats_ms": [[0.4, 0.5, 0.6]], "accuracy": 0.6},
        ]
    rows.append({"id": "solo on p1", "device_id": "p1", "device_model": "p1", "latency_ms": 0.2,
                 "latency_repeats_ms": [[0.2]], "accuracy": 0.65})
    return _variants(rows)


def test_across_devices_is_the_mean_of_per_device_frontier_probabilities() -> None:
    result = pareto_of_variants(_two_devices(), "latency_ms:min,accuracy:max", draws=300, across_devices=True)
    across = result.across
    assert across is not None
    by = across.set_index("variant")
    assert list(across.columns) == ["variant", "frontier_probability[p1]", "frontier_probability[p2]",
                                    "devices_analyzed", "missing_on", "combined_frontier_probability",
                                    "mean_expected_front", "efficiency_rank"]
    assert by.loc["best", "combined_frontier_probability"] == 1.0 and by.loc["best", "efficiency_rank"] == 1
    assert by.loc["worst", "combined_frontier_probability"] == 0.0
    # "mid" is efficient on p2 but "solo on p1" (faster) dominates it on p1: mean of 0 and 1
    assert by.loc["mid", "frontier_probability[p1]"] == 0.0 and by.loc["mid", "frontier_probability[p2]"] == 1.0
    assert by.loc["mid", "combined_frontier_probability"] == 0.5
    assert math.isnan(by.loc["solo", "combined_frontier_probability"])
    assert by.loc["solo", "missing_on"] == "p2" and pd.isna(by.loc["solo", "efficiency_rank"])


@pytest.mark.parametrize("objectives, message", [
    ("latency_ms:min,energy_mj:min", "objective 'energy_mj' has no value in any of the table's 7 rows"),
    ("latency_ms:min,speed:max", "'speed' is not a numeric column of the variant table"),
    ("latency_ms:min,latency_repeats_ms:min", "'latency_repeats_ms' is not a numeric column"),
])
def test_objective_errors(objectives: str, message: str) -> None:
    with pytest.raises(UsageError) as error:
        pareto_of_variants(_two_devices(), objectives, draws=10)
    assert message in str(error.value)


def test_across_devices_needs_devices_and_some_device_needs_two_complete_rows() -> None:
    one_device = _two_devices().query("device_id == 'p1'")
    with pytest.raises(UsageError, match="--across-devices needs a table of 2 or more devices; this one has p1"):
        pareto_of_variants(one_device, "latency_ms:min,accuracy:max", draws=10, across_devices=True)
    sparse = _two_devices().assign(peak_memory_kb=[1.0] + [math.nan] * 6)
    with pytest.raises(UsageError, match="no device has an analysis for .* lack an objective"):
        pareto_of_variants(sparse, "latency_ms:min,peak_memory_kb:min", draws=10)
