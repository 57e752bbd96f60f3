"""Stepwise regression (AIC, both directions, pairwise interactions) on data whose generating terms are
known: it keeps them, the interaction included, and leaves the noise options out."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from edgebench.errors import UsageError
from edgebench.perfmodel.stepwise import stepwise_aic

NAMES = ("a", "b", "c", "noise1", "noise2")


def generated(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A full factorial of five options; y = 20 + 5a + 3b + 2c + 4·a·b + N(0, 0.5²). noise1, noise2 do nothing."""
    grid = np.array(list(itertools.product([0, 1, 2, 3], [1, 2, 4], [0, 1], [0, 1, 2], [0, 1])), dtype=float)
    a, b, c = grid[:, 0], grid[:, 1], grid[:, 2]
    y = 20 + 5 * a + 3 * b + 2 * c + 4 * a * b + np.random.default_rng(seed).normal(0, 0.5, len(grid))
    return grid, y


GENERATING = {("a",), ("b",), ("c",), ("a", "b")}


def test_selects_exactly_the_generating_terms_with_the_bic_penalty():
    x, y = generated(0)
    model = stepwise_aic(x, y, NAMES, penalty=float(np.log(len(y))))
    assert set(model.terms) == GENERATING
    assert model.term_names == ("a", "b", "c", "a:b")
    assert model.steps[0].startswith("+ ")  # forward from the intercept


@pytest.mark.parametrize("unit", [1.0, 1e-7, 1e6])
def test_the_terms_chosen_do_not_depend_on_the_measures_unit(unit: float):
    from tests.perfmodel.generated import OPTIONS, factorial_frame

    frame = factorial_frame(seed=3, noise_sd=0.3)  # e.g. µs, then the same latencies in 0.1 s units, then in ps
    x, y = frame[list(OPTIONS)].to_numpy(dtype=float), frame["y"].to_numpy(dtype=float)
    assert {"a", "b", "c", "a:b"} <= set(stepwise_aic(x, y, OPTIONS).term_names)
    assert stepwise_aic(x, y * unit, OPTIONS).terms == stepwise_aic(x, y, OPTIONS).terms


def test_noise_options_enter_no_more_often_than_aic_lets_them():
    """AIC admits a useless term when its χ²₁ exceeds 2 (about 16 % of the time): over 100 data sets the
    generating terms are always kept, and each noise option enters in at most 30 (started from all main
    effects, as seed 5's R code starts, noise options stay in about a third)."""
    entered = {"noise1": 0, "noise2": 0}
    for seed in range(100):
        x, y = generated(seed)
        model = stepwise_aic(x, y, NAMES)
        assert GENERATING <= set(model.terms), seed
        for name in entered:
            entered[name] += any(name in term for term in model.terms)
    assert max(entered.values()) <= 30, entered


def test_few_rows_keep_a_residual_degree_of_freedom():
    x, y = generated(1)
    few = stepwise_aic(x[:5], y[:5], NAMES)
    assert len(few.terms) + 2 <= 5


def test_a_constant_option_is_left_out_and_named():
    x, y = generated(2)
    x[:, 4] = 7.0
    model = stepwise_aic(x, y, NAMES)
    assert model.constant_options == ("noise2",)
    assert all("noise2" not in t for t in model.terms)


def test_too_few_rows_is_an_error():
    with pytest.raises(UsageError, match="at least 3 rows"):
        stepwise_aic(np.zeros((2, 1)), np.array([1.0, 2.0]), ["a"])
