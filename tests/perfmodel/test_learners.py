"""The error measures every perfmodel command reports, against hand-computed values."""
from __future__ import annotations

import numpy as np
import pytest

from edgebench.errors import UsageError
from edgebench.perfmodel.learners import LEARNERS, make_learner, mape_pct, nmse, within_share

Y = np.array([10.0, 20.0, 40.0])
PREDICTED = np.array([11.0, 18.0, 40.0])


def test_mape_is_the_mean_relative_error_in_percent():
    assert mape_pct(Y, PREDICTED) == pytest.approx(100 / 3 * (1 / 10 + 2 / 20 + 0))  # 6.667 %


def test_nmse_as_seed_5_defines_it_and_without_overflow_for_huge_measures():
    by_hand = (1 + 4 + 0) / (3 * np.mean(PREDICTED) * np.mean(Y))  # Σ(y−ŷ)² / (N·mean(ŷ)·mean(y))
    assert nmse(Y, PREDICTED) == pytest.approx(by_hand)
    assert nmse(Y * 1e300, PREDICTED * 1e300) == pytest.approx(by_hand)  # scale-free: no inf/inf = NaN


def test_within_share_counts_predictions_within_ten_percent_inclusive():
    assert within_share(Y, PREDICTED) == 1.0  # 11 vs 10 and 18 vs 20 are exactly 10 % off: within
    assert within_share(Y, np.array([11.5, 20.0, 40.0])) == pytest.approx(2 / 3)


@pytest.mark.parametrize("name", LEARNERS)
def test_every_learner_predicts_positive_values_on_the_measures_scale(name: str):
    x = np.arange(20, dtype=float).reshape(-1, 1)
    y = 1e-3 * np.exp(0.2 * x[:, 0])  # a measure spanning 50x, in seconds
    predicted = make_learner(name, seed=0, trees=8).fit(x, y).predict(x)
    assert np.all(predicted > 0) and mape_pct(y, predicted) < 25


def test_an_unknown_learner_lists_the_known_ones():
    with pytest.raises(UsageError, match="tree, forest, boosting, mlp"):
        make_learner("svm")
