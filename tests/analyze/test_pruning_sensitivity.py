"""`analyze.sensitivity`: pruned vs unpruned profiles (Wasserstein, Jensen-Shannon against scipy by hand),
influence (Kruskal-Wallis epsilon squared) and its change, a generated case where pruning reverses a
hyperparameter's effect, the pairing of quantized variants, and the edge cases."""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from edgebench.analyze.pruning_sensitivity import sensitivity
from edgebench.errors import UsageError

DRAWS = 200
VARIANTS = (("fp32", "", "fp32", np.nan), ("prune:0.5", "prune:0.5", "fp32", 0.5),
            ("int8", "", "int8", np.nan), ("prune:0.5+int8", "prune:0.5", "int8", 0.5))
Latency = Callable[[int, float, str], float]


def generated(latency: Latency, n: int = 24, seed: int = 2, variants: tuple[tuple[str, str, str, float], ...] = VARIANTS
              ) -> pd.DataFrame:
    """n trained models (filters 8..64 by i % 4, learning rate by (i // 4) % 3), each under `variants`;
    latency(filters, lr, transform) times 5 % noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        filters, lr = (8, 16, 32, 64)[i % 4], (1e-3, 1e-2, 1e-1)[(i // 4) % 3]
        for variant, transform, quantization, sparsity in variants:
            rows.append({"id": f"trial {i}/{variant}", "trained_id": f"t{i}", "variant": variant,
                         "transform": transform, "quantization": quantization, "sparsity": sparsity,
                         "hp.filters": filters, "hp.lr": lr, "hp.activation": ("relu", "tanh")[i % 2],
                         "device_id": "phone", "config": "cpu/1t", "valid": True,
                         "latency_ms": latency(filters, lr, transform) * (1 + rng.normal(0, 0.05))})
    return pd.DataFrame(rows)


def row(frame: pd.DataFrame, variant: str, hp: str, prop: str = "latency_ms") -> pd.Series:
    found = frame[(frame["variant"] == variant) & (frame["hyperparameter"] == hp) & (frame["property"] == prop)]
    assert len(found) == 1
    return found.iloc[0]


def test_pruning_that_reverses_a_hyperparameters_effect_is_found() -> None:
    table = generated(lambda f, lr, t: 80.0 - f if t else float(f))
    result = sensitivity(table, properties="latency_ms", draws=DRAWS)
    filters = row(result.distances, "prune:0.5", "filters")
    assert filters["wasserstein"] > 0.3 and filters["jensen_shannon"] > 0.3
    # distances get a one-sided bound [0, upper] (a two-sided percentile interval misses a true 0)
    assert filters["wasserstein_ci_low"] == 0.0 and filters["wasserstein_ci_high"] >= filters["wasserstein"]
    assert row(result.influence_changes, "prune:0.5", "filters")["verdict"] == "reversed"
    lr = row(result.influence_changes, "prune:0.5", "lr")
    assert lr["verdict"] == "no detectable change"
    assert row(result.distances, "prune:0.5", "lr")["wasserstein"] < 0.05


def test_each_pruning_level_is_compared_on_its_own() -> None:
    variants = (VARIANTS[0], ("prune:0.5", "prune:0.5", "fp32", 0.5), ("prune:0.8", "prune:0.8", "fp32", 0.8))
    table = generated(lambda f, lr, t: 80.0 - f if t == "prune:0.8" else float(f), variants=variants)
    result = sensitivity(table, properties="latency_ms", draws=DRAWS)
    assert row(result.influence_changes, "prune:0.8", "filters")["verdict"] == "reversed"
    # prune:0.5 keeps the levels apart in every resample: the change is 0 in each, which bounds nothing
    unchanged = row(result.influence_changes, "prune:0.5", "filters")
    assert unchanged["verdict"] == "not_checked" and unchanged["change"] == 0.0
    assert "every resample gives change = 0: no interval" in unchanged["reason"]
    assert row(result.distances, "prune:0.8", "filters")["sparsity"] == 0.8
    assert row(result.distances, "prune:0.5", "filters")["jensen_shannon_ci_high"] < 0.05


def test_a_hyperparameter_that_matters_only_after_pruning_becomes_more_influential() -> None:
    table = generated(lambda f, lr, t: 10.0 * (1 + 20 * lr) if t else 10.0)
    result = sensitivity(table, properties="latency_ms", draws=DRAWS)
    lr = row(result.influence_changes, "prune:0.5", "lr")
    assert lr["influence_base"] < 0.2 and lr["influence_pruned"] > 0.8
    assert lr["change_ci_low"] > 0 and lr["verdict"] == "more influential"
    assert lr["rank_base"] >= 2 and lr["rank_pruned"] == 1
    assert row(result.influence_changes, "prune:0.5", "filters")["verdict"] != "more influential"


def test_a_pure_change_of_scale_moves_nothing() -> None:
    table = generated(lambda f, lr, t: f * (0.5 if t else 1.0))
    table.loc[table["transform"] != "", "latency_ms"] = 0.5 * table.loc[table["transform"] == "", "latency_ms"].to_numpy()
    result = sensitivity(table, properties="latency_ms", draws=DRAWS)
    for hp in ("filters", "lr", "activation"):
        assert row(result.distances, "prune:0.5", hp)["jensen_shannon"] == pytest.approx(0.0, abs=1e-7)
        assert row(result.influence_changes, "prune:0.5", hp)["change"] == pytest.approx(0.0, abs=1e-12)


def test_distances_and_influence_by_hand() -> None:
    variants = VARIANTS[:2]
    table = generated(lambda f, lr, t: float(f) if not t else 100.0 - f, n=8, variants=variants)
    result = sensitivity(table, properties="latency_ms", draws=DRAWS)
    base = table[table["variant"] == "fp32"].set_index("trained_id")
    pruned = table[table["variant"] == "prune:0.5"].set_index("trained_id").loc[base.index]
    levels = [8, 16, 32, 64]
    base_medians = np.array([base.loc[base["hp.filters"] == v, "latency_ms"].median() for v in levels])
    pruned_medians = np.array([pruned.loc[base["hp.filters"] == v, "latency_ms"].median() for v in levels])
    p, q = base_medians / base_medians.sum(), pruned_medians / pruned_medians.sum()
    positions = np.arange(4) / 3
    distance = row(result.distances, "prune:0.5", "filters")
    assert distance["wasserstein"] == pytest.approx(stats.wasserstein_distance(positions, positions, p, q))
    assert distance["jensen_shannon"] == pytest.approx(jensenshannon(p, q, base=2))
    groups = [base.loc[base["hp.filters"] == v, "latency_ms"] for v in levels]
    change = row(result.influence_changes, "prune:0.5", "filters")
    assert change["influence_base"] == pytest.approx(stats.kruskal(*groups).statistic / (len(base) - 1))
    assert change["trend_base"] == pytest.approx(stats.spearmanr(base["hp.filters"], base["latency_ms"]).statistic)
    category = row(result.distances, "prune:0.5", "activation")
    assert np.isnan(category["wasserstein"]) and "categorical" in category["reason"]
    assert np.isfinite(category["jensen_shannon"])


def test_quantized_pruned_variants_pair_with_the_unpruned_variant_of_the_same_quantization() -> None:
    table = generated(lambda f, lr, t: float(f))
    result = sensitivity(table, properties="latency_ms", draws=DRAWS)
    pairs = dict(zip(result.distances["variant"], result.distances["base_variant"]))
    assert pairs == {"prune:0.5": "fp32", "prune:0.5+int8": "int8"}
    table["variant"] = [f"{t}_{v}.tflite" for t, v in zip(table["trained_id"], table["variant"])]  # session style
    assert sensitivity(table, properties="latency_ms", draws=DRAWS).distances.equals(result.distances)
    no_int8 = table[table["quantization"] + table["transform"] != "int8"]
    lonely = row(sensitivity(no_int8, properties="latency_ms", draws=DRAWS).distances, "prune:0.5+int8", "filters")
    assert lonely["status"] == "not_checked" and "no unpruned int8 variant" in lonely["reason"]


def test_too_few_models_and_bad_tables() -> None:
    small = generated(lambda f, lr, t: float(f), n=3)
    assert (sensitivity(small, properties="latency_ms", draws=DRAWS).distances["status"] == "not_checked").all()
    unpruned = generated(lambda f, lr, t: float(f), variants=(VARIANTS[0], VARIANTS[2]))
    with pytest.raises(UsageError, match="no pruned variant"):
        sensitivity(unpruned)
    with pytest.raises(UsageError, match="draws: expected a positive number"):
        sensitivity(generated(lambda f, lr, t: float(f)), draws=0)
    with pytest.raises(UsageError, match="lacks transform"):
        sensitivity(unpruned.drop(columns=["transform"]))


def test_same_seed_same_intervals() -> None:
    table = generated(lambda f, lr, t: 80.0 - f if t else float(f), n=12)
    one = sensitivity(table, properties="latency_ms", draws=50, seed=4)
    two = sensitivity(table, properties="latency_ms", draws=50, seed=4)
    pd.testing.assert_frame_equal(one.distances, two.distances)
    assert one.to_json() == two.to_json()
