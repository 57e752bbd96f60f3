import numpy as np
import pytest

from edgebench.stats import (format_level, latency_stats, median_interval, order_statistic_level, relative_spread,
                             repeats_for_level)


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


def test_interval_needs_two_repeats_and_states_its_true_level():
    assert median_interval([100.0]) is None
    three = median_interval([100.0, 104.0, 98.0])
    assert (three.low_us, three.high_us, three.ranks) == (98.0, 104.0, (1, 3))
    assert three.level == pytest.approx(0.75)  # 1 - 2 * 0.5**3, not 95 %
    assert median_interval([100.0, 104.0]).level == pytest.approx(0.50)
    assert median_interval([100.0, 104.0, 98.0, 101.0, 103.0]).level == pytest.approx(1 - 2 / 32)
    assert format_level(0.75) == "75 %" and format_level(1 - 2 / 32) == "93.7 %"  # never rounded up


def test_enough_repeats_narrow_the_interval_and_keep_at_least_the_target():
    assert repeats_for_level(0.95) == 6
    assert median_interval([float(v) for v in range(6)]).level == pytest.approx(1 - 2 / 64)
    twenty = median_interval([float(v) for v in range(20)])
    assert twenty.ranks == (6, 15) and (twenty.low_us, twenty.high_us) == (5.0, 14.0)
    assert twenty.level >= 0.95 and order_statistic_level(20, 7) < 0.95  # the narrowest that still reaches it


def _simulated_repeat_medians(rng, sessions: int, repeats: int, drift: str, true_median_us: float,
                              samples_per_repeat: int = 300) -> np.ndarray:
    """sessions × repeats medians: a repeat-level drift (log scale, symmetric, so the population median
    of repeat medians is `true_median_us`) times lognormal within-repeat noise with median 1."""
    if drift == "lognormal":
        repeat_effect = rng.normal(0.0, 0.04, size=(sessions, repeats))
    else:  # heavy-tailed drift: the occasional repeat far off (thermal state, a busy core)
        repeat_effect = 0.02 * rng.standard_t(2, size=(sessions, repeats))
    noise = rng.lognormal(0.0, 0.15, size=(sessions, repeats, samples_per_repeat))
    return true_median_us * np.exp(repeat_effect) * np.median(noise, axis=2)


@pytest.mark.parametrize("repeats", [2, 3, 5, 8])
@pytest.mark.parametrize("drift", ["lognormal", "heavy_tailed"])
def test_stated_level_matches_simulated_coverage(repeats, drift):
    rng = np.random.default_rng(repeats * 100 + len(drift))
    sessions, truth = 2000, 1500.0
    medians = _simulated_repeat_medians(rng, sessions, repeats, drift, truth)
    intervals = [median_interval(row) for row in medians]
    levels = {i.level for i in intervals}
    assert len(levels) == 1  # the level depends on the repeat count only
    level = levels.pop()
    covered = np.mean([i.low_us <= truth <= i.high_us for i in intervals])
    # 2000 sessions: the binomial standard error is at most 1.1 %; 3 % is ~3 standard errors either way.
    assert abs(covered - level) < 0.03, (repeats, drift, covered, level)


def test_relative_spread():
    assert relative_spread([100.0]) is None
    assert relative_spread([95.0, 100.0, 105.0]) == pytest.approx(0.10)
