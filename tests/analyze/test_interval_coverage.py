"""Every interval `effects` and `sensitivity` print, checked by simulation: on data sets with a known true
value, a 95 % interval must cover it in 88-99 % of them (a one-sided upper bound of a distance: at least
90 %; it may cover more, as a distance's estimate is biased upward). And below the n where that holds, no
interval is printed: the row is not_checked with the reason, and its p-value is exact by permutation."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from edgebench.analyze.hyperparameter_effects import MIN_SPEARMAN_INTERVAL_ROWS, effects, spearman_interval
from edgebench.analyze.optimization_effects import MIN_TAU_INTERVAL_CONFIGURATIONS, tau_interval
from edgebench.analyze.effect_size import bootstrap_over_rows
from edgebench.analyze.rank_statistics import kendall_tau_rows, spearman_rows
from edgebench.analyze.pruning_sensitivity import MIN_INTERVAL_CONFIGURATIONS, compare_profiles, profile_statistics

DATA_SETS = 200
COVERAGE_BAND = (0.88, 0.99)


def correlated_normals(rng: np.random.Generator, r: float, n: int, sets: int) -> tuple[np.ndarray, np.ndarray]:
    xy = rng.multivariate_normal([0.0, 0.0], [[1.0, r], [r, 1.0]], size=(sets, n))
    return xy[..., 0], xy[..., 1]


@pytest.mark.parametrize("r", [0.5, 0.9])
def test_spearman_fisher_z_interval_holds_its_level_from_the_minimum_n(r: float) -> None:
    """True Spearman rho of a bivariate normal: (6 / pi) asin(r / 2). A perfect order gets no interval and
    counts as a miss."""
    rng = np.random.default_rng(11)
    true_rho = 6.0 / math.pi * math.asin(r / 2.0)
    n = MIN_SPEARMAN_INTERVAL_ROWS
    x, y = correlated_normals(rng, r, n, DATA_SETS)
    covered = 0
    for rho in spearman_rows(x, y):
        interval = spearman_interval(float(rho), n, 0.95)
        covered += interval is not None and interval[0] <= true_rho <= interval[1]
    assert COVERAGE_BAND[0] <= covered / DATA_SETS <= COVERAGE_BAND[1]


@pytest.mark.parametrize("r", [0.5, 0.95])
def test_kendall_bootstrap_interval_holds_its_level_from_the_minimum_n(r: float) -> None:
    """True Kendall tau of a bivariate normal: (2 / pi) asin(r). A perfectly concordant sample has no
    interval (not_checked); the coverage counts it as a miss, so a method that hides them cannot pass."""
    rng = np.random.default_rng(12)
    true_tau = 2.0 / math.pi * math.asin(r)
    x, y = correlated_normals(rng, r, MIN_TAU_INTERVAL_CONFIGURATIONS, DATA_SETS)
    covered = 0
    for i in range(DATA_SETS):
        shown = tau_interval(x[i], y[i], 0.95, draws=300, seed=i)
        covered += shown["status"] == "checked" and shown["ci_low"] <= true_tau <= shown["ci_high"]  # type: ignore[operator]
    assert COVERAGE_BAND[0] <= covered / DATA_SETS <= COVERAGE_BAND[1]


def profile_data(rng: np.random.Generator, n: int, base_medians: np.ndarray, pruned_medians: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n models over 3 levels; each property log-normal around its level's median, base and pruned
    correlated within a model (as one model's latency before and after pruning is)."""
    codes = np.arange(n) % 3
    shared = rng.normal(size=n)
    base = base_medians[codes] * np.exp(0.3 * shared)
    pruned = pruned_medians[codes] * np.exp(0.3 * (0.7 * shared + 0.71 * rng.normal(size=n)))
    return codes, base, pruned


@pytest.mark.parametrize("pruned_medians", [(10.0, 20.0, 30.0), (30.0, 20.0, 10.0)],
                         ids=["unchanged-profile", "reversed-profile"])
def test_sensitivity_intervals_hold_their_level_from_the_minimum_n(pruned_medians: tuple[float, ...]) -> None:
    """True values from one sample of 300,000 models. With an unchanged profile the true distances are
    ~0: the old two-sided percentile interval covered them in 0-2 % of data sets."""
    rng = np.random.default_rng(13)
    base_m, pruned_m = np.array([10.0, 20.0, 30.0]), np.array(pruned_medians)
    codes, base, pruned = profile_data(rng, 300_000, base_m, pruned_m)
    true = profile_statistics(codes[None], base[None], pruned[None], codes[None].astype(float), np.arange(3) / 2)[:, 0]
    names = ("wasserstein", "jensen_shannon", None, None, "change", "trend_base", "trend_pruned")
    n = MIN_INTERVAL_CONFIGURATIONS
    covered = dict.fromkeys((k for k in names if k), 0)
    for i in range(DATA_SETS):
        codes, base, pruned = profile_data(rng, n, base_m, pruned_m)
        ids = [f"t{j}" for j in range(n)]
        frames = [pd.DataFrame({"trained_id": ids, "hp.x": codes + 1, "latency_ms": v}) for v in (base, pruned)]
        row = compare_profiles(frames[0], frames[1], "hp.x", "latency_ms", confidence=0.95, draws=300, seed=i)
        for name, value in zip(names, true):
            if name:
                covered[name] += bool(row.get(f"{name}_ci_low", np.nan) <= value <= row.get(f"{name}_ci_high", np.nan))
    for name in ("change", "trend_base", "trend_pruned"):
        assert COVERAGE_BAND[0] <= covered[name] / DATA_SETS <= COVERAGE_BAND[1], name
    for name in ("wasserstein", "jensen_shannon"):  # one-sided upper bounds
        assert covered[name] / DATA_SETS >= 0.90, name


def monotone_table(n: int) -> pd.DataFrame:
    """n trained models, latency rising with hp.units under fp32 and falling under int8 (perfect orders)."""
    return pd.DataFrame([{"trained_id": f"t{i}", "variant": variant, "hp.units": 8 * (i + 1),
                          "latency_ms": 10.0 + i if variant == "fp32" else 50.0 - i}
                         for variant in ("fp32", "int8") for i in range(n)])


def test_five_configurations_get_exact_p_values_and_no_interval() -> None:
    """The smoke study's case: 5 configurations in perfect order printed rho -1 [-1, -1], p 1.4e-24."""
    result = effects(monotone_table(5), properties="latency_ms", draws=200)
    for frame, column in ((result.correlations, "spearman_rho"), (result.rank_changes, "kendall_tau")):
        for row in frame.to_dict(orient="records"):
            assert abs(row[column]) == pytest.approx(1.0)
            assert row["p_value"] == pytest.approx(2 / math.factorial(5))  # both perfect orders of 120
            assert row["status"] == "not_checked" and "n = 5" in row["reason"] and "at least 10" in row["reason"]
            assert pd.isna(row["ci_low"]) and pd.isna(row["ci_high"])


def test_a_perfect_order_is_never_shown_as_a_degenerate_interval() -> None:
    result = effects(monotone_table(12), properties="latency_ms", draws=200)
    for frame in (result.correlations, result.rank_changes):
        for row in frame.to_dict(orient="records"):
            assert row["status"] == "not_checked" and pd.isna(row["ci_low"]), row["reason"]


def test_sensitivity_below_the_minimum_n_shows_no_interval_and_no_verdict() -> None:
    rng = np.random.default_rng(5)
    codes, base, pruned = profile_data(rng, 6, np.array([10.0, 20.0, 30.0]), np.array([30.0, 20.0, 10.0]))
    ids = [f"t{j}" for j in range(6)]
    frames = [pd.DataFrame({"trained_id": ids, "hp.x": codes + 1, "latency_ms": v}) for v in (base, pruned)]
    row = compare_profiles(frames[0], frames[1], "hp.x", "latency_ms", confidence=0.95, draws=200, seed=0)
    assert row["status"] == "not_checked" and row["verdict"] == "not_checked"
    assert f"n = 6 trained models: a 95% interval needs at least {MIN_INTERVAL_CONFIGURATIONS}" in str(row["reason"])
    assert not any(key.endswith("_ci_low") for key in row) and float(row["wasserstein"]) > 0  # type: ignore[arg-type]


def test_below_the_minimum_n_the_intervals_fall_short_of_their_level() -> None:
    """Why the minimum n: at 6 configurations and r = 0.97 both rank intervals cover ~2/3 of data sets."""
    rng = np.random.default_rng(14)
    r, n = 0.97, 6
    x, y = correlated_normals(rng, r, n, DATA_SETS)
    true_rho, true_tau = 6.0 / math.pi * math.asin(r / 2.0), 2.0 / math.pi * math.asin(r)
    rho_covered = sum(interval is not None and interval[0] <= true_rho <= interval[1]
                      for interval in (spearman_interval(float(rho), n, 0.95) for rho in spearman_rows(x, y)))
    tau_covered = 0
    for i in range(DATA_SETS):
        low, high = _unguarded_tau_interval(x[i], y[i], seed=i)
        tau_covered += low <= true_tau <= high
    assert rho_covered / DATA_SETS < COVERAGE_BAND[0] and tau_covered / DATA_SETS < COVERAGE_BAND[0]


def _unguarded_tau_interval(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[float, float]:
    interval = bootstrap_over_rows(len(x), lambda idx, axis=-1: kendall_tau_rows(x[idx], y[idx])[None, :], draws=300,
                                   confidence=0.95, seed=seed, vectorized=True)
    return float(interval.low[0]), float(interval.high[0])
