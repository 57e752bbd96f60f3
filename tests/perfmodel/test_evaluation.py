"""Repeated K-fold cross-validation of the learners on generated tables of known structure."""
from __future__ import annotations

import pytest

from edgebench.errors import UsageError
from edgebench.perfmodel.evaluation import best, evaluate
from tests.perfmodel.fit_generated import latency_table

TREES = 16  # small forests: the structure is simple and the test stays in seconds


def test_forest_learns_a_structured_measure_and_not_pure_noise():
    structured = evaluate(latency_table(rows=96), ("forest",), folds=4, repeats=2, seed=0, trees=TREES)[0]
    noise = evaluate(latency_table(rows=96, measure="noise_ms"), ("forest",), folds=4, repeats=2, seed=0,
                     trees=TREES)[0]
    # latency is a function of threads and size up to 2 % noise (about 3 % here); noise_ms depends on neither
    # (a lognormal of sd 0.6: about 60 %)
    assert structured.mape_pct_mean < 6
    assert structured.within_10pct_share_mean > 0.85
    assert noise.mape_pct_mean > 30
    assert noise.within_10pct_share_mean < structured.within_10pct_share_mean


def test_records_carry_spread_over_repeats_and_what_ran():
    scores = evaluate(latency_table(), ("tree", "forest"), folds=4, repeats=3, seed=7, trees=TREES)
    assert [s.learner for s in scores] == ["tree", "forest"]
    for s in scores:
        assert (s.rows, s.folds, s.repeats, s.seed, s.measure) == (48, 4, 3, 7, "latency_ms")
        assert s.mape_pct_sd is not None and s.mape_pct_sd > 0  # repeats shuffle differently
        assert s.nmse_sd is not None and s.within_10pct_share_sd is not None
        assert s.notes == ()
        assert set(s.to_json()) >= {"mape_pct_mean", "mape_pct_sd", "nmse_mean", "within_10pct_share_mean"}
    assert best(scores) in scores
    assert best(scores).mape_pct_mean == min(s.mape_pct_mean for s in scores)


def test_one_repeat_has_no_spread_and_the_same_seed_repeats_itself():
    first = evaluate(latency_table(), ("tree",), folds=3, repeats=1, seed=3)[0]
    assert first.mape_pct_sd is None and first.nmse_sd is None
    assert evaluate(latency_table(), ("tree",), folds=3, repeats=1, seed=3)[0] == first


def test_folds_are_reduced_for_a_small_table_and_said_so():
    (score,) = evaluate(latency_table(rows=10), ("tree",), folds=5, repeats=1)
    assert score.folds == 3
    assert score.notes and "folds reduced from 5 to 3" in score.notes[0] and "10 rows" in score.notes[0]


def test_too_few_rows_is_a_clear_error():
    with pytest.raises(UsageError, match=r"5 row\(s\); cross-validation .* needs at least 6"):
        evaluate(latency_table(rows=5), ("tree",))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"learners": ("forest", "svm")}, r"learners 'svm': expected one or more of tree, forest"),
    ({"folds": 1}, r"--folds 1: cross-validation needs at least 2 folds"),
    ({"repeats": 0}, r"--repeats 0: expected at least 1"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(UsageError, match=message):
        evaluate(latency_table(), **kwargs)
