"""The resample-at-once rank statistics equal scipy's, row by row, with ties and absent levels."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from edgebench.analyze.rank_statistics import (kendall_tau_rows, kruskal_h_rows, level_medians, spearman_rows,
                                               wasserstein_rows)


def test_rows_match_scipy_with_ties_and_absent_levels() -> None:
    rng = np.random.default_rng(7)
    values = rng.integers(0, 6, size=(40, 15)).astype(float)  # many ties
    other = rng.normal(size=(40, 15))
    codes = rng.integers(0, 4, size=(40, 15))
    codes[0] = np.where(codes[0] == 3, 2, codes[0])  # one row without level 3
    h = kruskal_h_rows(codes, values, 4)
    rho = spearman_rows(values, other)
    for i in range(40):
        groups = [values[i][codes[i] == c] for c in range(4) if (codes[i] == c).any()]
        assert h[i] == pytest.approx(stats.kruskal(*groups).statistic)
        assert rho[i] == pytest.approx(stats.spearmanr(values[i], other[i]).statistic)


def test_degenerate_rows_are_nan() -> None:
    assert np.isnan(kruskal_h_rows(np.array([[0, 0, 0, 0]]), np.array([[1.0, 2.0, 3.0, 4.0]]), 2)[0])  # one group
    assert np.isnan(kruskal_h_rows(np.array([[0, 0, 1, 1]]), np.array([[5.0, 5.0, 5.0, 5.0]]), 2)[0])  # all equal
    assert np.isnan(spearman_rows(np.array([1.0, 1.0, 1.0]), np.array([1.0, 2.0, 3.0]))[0])


def test_wasserstein_rows_match_scipy() -> None:
    rng = np.random.default_rng(3)
    positions = np.array([0.0, 0.2, 0.5, 1.0])
    p, q = rng.dirichlet(np.ones(4), size=10), rng.dirichlet(np.ones(4), size=10)
    w = wasserstein_rows(positions, p, q)
    for i in range(10):
        assert w[i] == pytest.approx(stats.wasserstein_distance(positions, positions, p[i], q[i]))


def test_kendall_tau_rows_match_scipy_tau_b_with_ties() -> None:
    rng = np.random.default_rng(11)
    x = rng.integers(0, 5, size=(30, 12)).astype(float)
    y = x + rng.integers(-2, 3, size=(30, 12))
    tau = kendall_tau_rows(x, y)
    for i in range(30):
        assert tau[i] == pytest.approx(stats.kendalltau(x[i], y[i]).statistic)
    assert np.isnan(kendall_tau_rows(np.ones(4), np.arange(4.0))[0])


def test_level_medians_match_numpy_and_absent_levels_are_nan() -> None:
    rng = np.random.default_rng(5)
    values = rng.integers(0, 9, size=(20, 11)).astype(float)
    codes = rng.integers(0, 3, size=(20, 11))
    codes[0] = 0  # levels 1 and 2 absent
    medians = level_medians(codes, values, 3)
    for i in range(20):
        for level in range(3):
            members = values[i][codes[i] == level]
            if members.size:
                assert medians[i, level] == np.median(members)
            else:
                assert np.isnan(medians[i, level])
