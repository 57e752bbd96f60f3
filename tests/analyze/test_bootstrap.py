"""`analyze.bootstrap`: the two-stage bootstrap resamples repeats, then samples within each drawn repeat."""
from __future__ import annotations

import numpy as np
import pytest

from edgebench.analyze.bootstrap import hierarchical_medians, hierarchical_repeat_medians


def test_repeat_medians_have_one_row_per_draw_and_one_column_per_repeat() -> None:
    repeats = [[1.0, 2.0, 3.0], [10.0, 11.0], [5.0]]
    medians = hierarchical_repeat_medians(repeats, 50, np.random.default_rng(0))
    assert medians.shape == (50, 3)
    # every value is the median of a resample of one of the repeats: within that repeat's range
    assert np.all((medians >= 1.0) & (medians <= 11.0))


def test_hierarchical_medians_is_the_median_over_the_drawn_repeats() -> None:
    repeats = [[1.0, 2.0, 3.0], [10.0, 11.0, 12.0], [5.0, 6.0]]
    by_repeat = hierarchical_repeat_medians(repeats, 200, np.random.default_rng(7))
    assert np.array_equal(hierarchical_medians(repeats, 200, np.random.default_rng(7)),
                          np.median(by_repeat, axis=1))


def test_single_sample_repeats_are_a_plain_bootstrap_over_runs() -> None:
    # Energy: one value per battery run; the within stage then changes nothing.
    runs = [[4.0], [5.0], [6.0]]
    medians = hierarchical_repeat_medians(runs, 500, np.random.default_rng(1))
    assert set(np.unique(medians)) == {4.0, 5.0, 6.0}


def test_drift_between_repeats_widens_the_spread_beyond_pooled_samples() -> None:
    # Three repeats whose medians differ by 10 %: resampling repeats keeps that drift in the spread;
    # a bootstrap of the pooled samples would treat it as noise that averages out.
    rng = np.random.default_rng(2)
    repeats = [m * np.exp(rng.normal(0, 0.02, 300)) for m in (10.0, 11.0, 12.0)]
    two_stage = hierarchical_medians(repeats, 1000, np.random.default_rng(3))
    pooled = np.concatenate(repeats)
    idx = np.random.default_rng(4).integers(0, pooled.size, (1000, pooled.size))
    pooled_boot = np.median(pooled[idx], axis=1)
    assert np.std(two_stage) > 5 * np.std(pooled_boot)


@pytest.mark.parametrize("repeats", [[], [[1.0], []]])
def test_empty_input_is_an_error(repeats: list[list[float]]) -> None:
    with pytest.raises(ValueError, match="at least one repeat and no empty repeat"):
        hierarchical_repeat_medians(repeats, 10, np.random.default_rng(0))
