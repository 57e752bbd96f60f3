"""`analyze.effects`: the statistics against scipy and by hand, a generated study where one hyperparameter
drives latency, the top-k spread, rank changes under optimization, and the honest edge cases."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from edgebench.analyze.effect_size import cliffs_delta_from_u, holm, levels, magnitude
from edgebench.analyze.hyperparameter_effects import effects, level_tests
from edgebench.errors import UsageError

DRAWS = 200  # the CIs' exact width is not the point of these tests


def generated_study(n: int = 24, seed: int = 1, devices: tuple[str, ...] = ("phone-a",)) -> pd.DataFrame:
    """n trained models x {fp32, int8}: latency proportional to hp.filters (5 % noise), int8 at 0.4x;
    activation and learning rate change nothing but accuracy noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for device in devices:
        for i in range(n):
            filters = (8, 16, 32, 64)[i % 4]
            activation = ("relu", "tanh")[(i // 4) % 2]
            learning_rate = float(10 ** rng.uniform(-4, -1))
            accuracy = 0.9 + rng.normal(0, 0.01)
            for variant, factor in (("fp32", 1.0), ("int8", 0.4)):
                rows.append({"id": f"trial {i}/{variant}", "source": f"trial {i}", "trained_id": f"t{i}",
                             "variant": variant, "hp.filters": filters, "hp.activation": activation,
                             "hp.learning_rate": learning_rate, "device_id": device, "config": "cpu/1t",
                             "valid": True, "accuracy": accuracy - (0.01 if variant == "int8" else 0.0),
                             "latency_ms": factor * filters * (1 + rng.normal(0, 0.05)),
                             "size_bytes": 1000.0 * filters * factor, "energy_mj": np.nan})
    return pd.DataFrame(rows)


def one(frame: pd.DataFrame, **where: str) -> dict[str, Any]:
    """The single row of `frame` matching `where`, as a dict."""
    mask = np.ones(len(frame), dtype=bool)
    for column, value in where.items():
        mask &= (frame[column] == value).to_numpy()
    assert mask.sum() == 1, where
    return dict(frame[mask].iloc[0])


def test_holm_matches_the_step_down_by_hand() -> None:
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> raised to the running max 0.06
    adjusted = holm([0.01, 0.04, 0.03, 0.005, np.nan])
    assert adjusted[:4] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert np.isnan(adjusted[4])
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])  # capped at 1


def test_cliffs_delta_by_hand_and_from_mann_whitney() -> None:
    x, y = [1.0, 2.0, 3.0], [2.0, 2.0, 4.0]
    # pairs x>y: (3,2),(3,2) = 2; x<y: (1,2),(1,2),(1,4),(2,4),(3,4) = 5 -> (2 - 5) / 9
    u = stats.mannwhitneyu(x, y).statistic
    assert cliffs_delta_from_u(float(u), 3, 3) == pytest.approx(-1 / 3)


@pytest.mark.parametrize("delta, label", [(0.0, "negligible"), (0.1469, "negligible"), (0.147, "small"),
                                          (0.3299, "small"), (0.33, "medium"), (-0.4739, "medium"),
                                          (0.474, "large"), (-1.0, "large")])
def test_magnitude_labels_at_the_thresholds(delta: float, label: str) -> None:
    assert magnitude(delta) == label


def test_level_tests_are_scipy_mann_whitney_with_holm_over_the_levels() -> None:
    part = pd.DataFrame({"hp.k": [3, 3, 3, 3, 5, 5, 5, 5, 7, 7, 7, 7],
                         "latency_ms": [1.0, 2.0, 3.0, 4.0, 2.5, 3.5, 4.5, 5.5, 9.0, 8.0, 7.5, 10.0]})
    rows = {r["level"]: r for r in level_tests(part, "hp.k", "latency_ms", alpha=0.05)}
    raw = []
    for level, mask in (("3", part["hp.k"] == 3), ("5", part["hp.k"] == 5), ("7", part["hp.k"] == 7)):
        expected = stats.mannwhitneyu(part.loc[mask, "latency_ms"], part.loc[~mask, "latency_ms"])
        assert rows[level]["u_statistic"] == expected.statistic
        assert rows[level]["p_value"] == pytest.approx(expected.pvalue)
        raw.append(expected.pvalue)
    assert [rows[level]["p_holm"] for level in ("3", "5", "7")] == pytest.approx(list(holm(raw)))
    assert rows["7"]["cliffs_delta"] == 1.0 and rows["7"]["magnitude"] == "large"


def test_the_hyperparameter_that_drives_latency_comes_out_large_and_significant() -> None:
    result = effects(generated_study(), properties="latency_ms", draws=DRAWS)
    tests = result.tests[(result.tests["status"] == "checked") & (result.tests["variant"] == "fp32")]
    filters = tests[tests["hyperparameter"] == "filters"].set_index("level")
    assert filters.loc["8", "significant"] and filters.loc["8", "magnitude"] == "large"
    assert filters.loc["64", "significant"] and filters.loc["64", "cliffs_delta"] == 1.0
    others = tests[tests["hyperparameter"] != "filters"]
    assert len(others) == 5 and not others["significant"].any()  # 2 activations + 3 learning-rate bins
    rho = one(result.correlations, variant="fp32", hyperparameter="filters")
    assert rho["spearman_rho"] > 0.9 and rho["ci_low"] > 0.5
    lr = one(result.correlations, variant="fp32", hyperparameter="learning_rate")
    assert lr["ci_low"] < 0 < lr["ci_high"]
    assert rho["p_value"] == pytest.approx(stats.spearmanr(
        generated_study().query("variant == 'fp32'")["hp.filters"],
        generated_study().query("variant == 'fp32'")["latency_ms"]).pvalue)


def test_a_continuous_hyperparameter_is_binned_into_tertiles() -> None:
    values = pd.Series(np.linspace(0.001, 0.1, 12))
    lv = levels(values)
    assert lv.binned and len(lv.order) == 3
    assert lv.labels.value_counts().tolist() == [4, 4, 4]
    assert lv.order[0] == "[0.001, 0.028]"
    assert not levels(pd.Series([8, 16, 32, 16])).binned
    layers = levels(pd.Series([[64, 32], [128], [64, 32], None]))  # a list-valued hyperparameter is a category
    assert layers.order == ("[64, 32]", "[128]") and layers.labels.tolist() == ["[64, 32]", "[128]", "[64, 32]", None]
    assert levels(pd.Series([True, False, True])).order == ("True", "False") and not levels(pd.Series([True])).numeric


def test_top_k_spread_is_max_minus_min_over_min_of_the_best_by_fp32_accuracy() -> None:
    rows = []
    for i, (acc, lat) in enumerate([(0.95, 10.0), (0.94, 40.0), (0.93, 20.0), (0.50, 1.0)]):
        rows.append({"id": f"t{i}/fp32", "trained_id": f"t{i}", "variant": "fp32", "hp.units": i,
                     "accuracy": acc, "latency_ms": lat})
        # int8: the order by its own accuracy differs, the k are still fp32's best three
        rows.append({"id": f"t{i}/int8", "trained_id": f"t{i}", "variant": "int8", "hp.units": i,
                     "accuracy": 1.0 - acc, "latency_ms": lat / 2})
    result = effects(pd.DataFrame(rows), properties=["accuracy", "latency_ms"], top_k=3, draws=DRAWS)
    spread = result.spread.set_index(["variant", "property"])
    assert spread.loc[("fp32", "latency_ms"), "spread"] == pytest.approx((40 - 10) / 10)
    assert spread.loc[("fp32", "latency_ms"), "accuracy_min"] == 0.93
    assert spread.loc[("int8", "latency_ms"), "spread"] == pytest.approx((20 - 5) / 5)
    assert spread.loc[("int8", "latency_ms"), "ranked_by"] == "fp32 accuracy"
    assert spread.loc[("int8", "accuracy"), "accuracy_max"] == pytest.approx(0.07)


def test_rank_changes_are_kendall_tau_fp32_vs_variant_and_name_the_movers() -> None:
    fp32 = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
    int8 = [5.0, 10.0, 15.0, 20.0, 1.0, 30.0]  # t4 jumps from rank 5 to rank 1
    rows = [{"trained_id": f"t{i}", "source": f"trial {i}", "variant": v, "hp.x": i, "latency_ms": value}
            for v, values in (("fp32", fp32), ("int8", int8)) for i, value in enumerate(values)]
    result = effects(pd.DataFrame(rows), properties="latency_ms", draws=DRAWS)
    change = result.rank_changes.iloc[0]
    expected = stats.kendalltau(fp32, int8)
    assert change["kendall_tau"] == pytest.approx(expected.statistic)
    assert change["p_value"] == pytest.approx(expected.pvalue)
    assert change["status"] == "not_checked" and "n = 6 configurations" in change["reason"]  # no CI below 10
    assert change["top_movers"].startswith("trial 4 (5->1)")
    moves = result.rank_moves.set_index("configuration")
    assert moves.loc["trial 4", "rank_move"] == -4 and moves.loc["trial 5", "rank_move"] == 0


def test_each_device_is_analysed_on_its_own() -> None:
    table = generated_study(devices=("phone-a", "phone-b"))
    b = table["device_id"] == "phone-b"
    table.loc[b, "latency_ms"] = 1000.0 / table.loc[b, "hp.filters"]  # reversed on the other phone
    result = effects(table, properties="latency_ms", draws=DRAWS)
    t = result.tests.set_index(["device_id", "variant", "hyperparameter", "level"])
    assert t.loc[("phone-a", "fp32", "filters", "64"), "cliffs_delta"] == 1.0
    assert t.loc[("phone-b", "fp32", "filters", "64"), "cliffs_delta"] == -1.0
    assert t.loc[("phone-a", "fp32", "filters", "64"), "n_level"] == 6  # not 12: the phones are not pooled


def test_edge_cases_are_not_checked_with_their_reason() -> None:
    table = pd.DataFrame({"trained_id": ["a", "b", "c", "d"], "variant": "fp32", "hp.opt": "adam",
                          "hp.units": [1, 1, 1, 2], "accuracy": [0.9, 0.8, 0.7, 0.6],
                          "latency_ms": [1.0, 2.0, 3.0, 0.0], "valid": [True, True, True, False]})
    result = effects(table, properties=["accuracy", "latency_ms"], top_k=3, draws=DRAWS)
    tests = result.tests
    assert "takes one level (adam)" in one(tests, hyperparameter="opt", property="accuracy")["reason"]
    units_2 = one(tests, hyperparameter="units", property="accuracy", level="2")
    assert units_2["status"] == "not_checked" and "1 rows at this level, 3 in the rest" in units_2["reason"]
    # the invalid row's latency is not evidence: units=2 has no latency left
    assert "takes one level (1)" in one(tests, hyperparameter="units", property="latency_ms")["reason"]
    assert tests["p_value"].isna().all() and tests["cliffs_delta"].isna().all()
    assert set(result.correlations["hyperparameter"]) == {"units"}  # opt is a category: no correlation row
    assert (result.correlations["status"] == "not_checked").all()
    assert "no fp32" not in " ".join(result.rank_changes["reason"].astype(str))  # only fp32: no variants to rank
    assert result.rank_changes.empty


def test_without_trained_ids_the_spread_uses_own_accuracy_and_ranks_are_not_checked() -> None:
    table = generated_study(n=8).drop(columns=["trained_id"])
    result = effects(table, properties="latency_ms", top_k=4, draws=DRAWS)
    assert set(result.spread["ranked_by"]) == {"fp32 accuracy", "int8 accuracy"}  # each by its own
    assert (result.spread["status"] == "checked").all()
    change = result.rank_changes.iloc[0]
    assert change["status"] == "not_checked" and "no fp32 rows with a trained_id" in change["reason"]


def test_variants_are_recipes_so_a_session_of_model_files_groups_like_a_study() -> None:
    table = generated_study(n=12)
    table["transform"] = ""
    table["quantization"] = table["variant"]
    table["variant"] = [f"{t}_{v}.tflite" for t, v in zip(table["trained_id"], table["variant"])]  # session style
    table.loc[0, ["variant", "transform", "quantization"]] = ["", None, None]  # a trial without a model
    result = effects(table, properties="latency_ms", draws=DRAWS)
    assert set(result.tests["variant"]) == {"fp32", "int8"}
    assert set(result.rank_changes["variant"]) == {"int8"} and result.rank_changes["n"].iloc[0] == 11


def test_a_zero_minimum_gives_no_relative_spread() -> None:
    table = pd.DataFrame({"trained_id": ["a", "b", "c"], "variant": "fp32", "hp.units": [1, 2, 3],
                          "accuracy": [0.9, 0.8, 0.7], "energy_mj": [0.0, 1.0, 2.0]})
    spread = effects(table, properties="energy_mj", top_k=3, draws=DRAWS).spread.iloc[0]
    assert spread["status"] == "not_checked" and "positive minimum" in spread["reason"]
    assert np.isnan(spread["spread"])


def test_bad_input_is_a_clear_error() -> None:
    table = generated_study(n=8)
    with pytest.raises(UsageError, match="'speed' is not a column"):
        effects(table, properties="speed")
    with pytest.raises(UsageError, match="no hyperparameter columns"):
        effects(table.drop(columns=[c for c in table.columns if c.startswith("hp.")]))
    with pytest.raises(UsageError, match="top-k"):
        effects(table, top_k=1)
    with pytest.raises(UsageError, match="draws: expected a positive number"):
        effects(table, draws=0)
    with pytest.raises(UsageError, match="confidence"):
        effects(table, confidence=95)


def test_same_seed_same_intervals() -> None:
    one = effects(generated_study(n=12), properties="latency_ms", draws=DRAWS, seed=3)
    two = effects(generated_study(n=12), properties="latency_ms", draws=DRAWS, seed=3)
    pd.testing.assert_frame_equal(one.correlations, two.correlations)
    pd.testing.assert_frame_equal(one.rank_changes, two.rank_changes)
