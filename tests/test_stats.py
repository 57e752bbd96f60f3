import numpy as np
import pytest

from edgebench.stats import latency_stats, median_ci95, relative_spread


def test_latency_stats_match_numpy():
    values = [float(v) for v in range(1, 101)]
    s = latency_stats(values)
    assert s.count == 100 and s.min_us == 1 and s.max_us == 100
    assert s.median_us == pytest.approx(50.5)
    assert s.p90_us == pytest.approx(np.percentile(values, 90))
    assert s.p99_us == pytest.approx(np.percentile(values, 99))
    assert s.std_us == pytest.approx(np.std(values, ddof=1))


def test_empty_run_has_no_statistics():
    with pytest.raises(ValueError):
        latency_stats([])


def test_single_inference_has_undefined_std_not_zero():
    assert latency_stats([5.0]).std_us is None


def test_ci_needs_two_repeats_and_contains_the_median():
    assert median_ci95([100.0]) is None
    low, high = median_ci95([100.0, 104.0, 98.0, 101.0, 103.0])
    assert low <= 101.0 <= high
    assert median_ci95([100.0, 104.0, 98.0]) == median_ci95([100.0, 104.0, 98.0])  # seeded, reproducible


def test_relative_spread():
    assert relative_spread([100.0]) is None
    assert relative_spread([95.0, 100.0, 105.0]) == pytest.approx(0.10)
