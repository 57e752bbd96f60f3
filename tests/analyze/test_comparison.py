"""`analyze.compare`: coverage of its interval by simulation, its verdicts, repeats needed, and its pieces
against scipy."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from edgebench.analyze.comparison import Comparison, compare, repeats_needed

TRUE_MEDIAN_MS = 10.0
SHIFT = 1.03  # B is 3 % slower than A


def _side(rng: np.random.Generator, median: float, repeats: int, samples: int, drift_sd: float,
          within_sd: float) -> list[np.ndarray]:
    """Repeats whose medians drift around `median` (lognormal, sd `drift_sd` in log units), each holding
    lognormal samples around its own median (sd `within_sd`)."""
    repeat_medians = median * np.exp(rng.normal(0.0, drift_sd, repeats))
    return list(repeat_medians[:, None] * np.exp(rng.normal(0.0, within_sd, (repeats, samples))))


def _simulate(pairs: int, shift: float, *, repeats: int = 3, samples: int = 200, drift_sd: float = 0.03,
              within_sd: float = 0.10, draws: int = 300, seed: int = 13) -> list[Comparison]:
    rng = np.random.default_rng(seed)
    return [compare(_side(rng, TRUE_MEDIAN_MS, repeats, samples, drift_sd, within_sd),
                    _side(rng, TRUE_MEDIAN_MS * shift, repeats, samples, drift_sd, within_sd),
                    draws=draws, seed=i) for i in range(pairs)]


def _coverage(results: list[Comparison], true_ratio: float) -> float:
    return sum(c.ratio_ci[0] <= true_ratio <= c.ratio_ci[1] for c in results) / len(results)


def test_interval_covers_the_true_ratio_at_its_level_with_three_repeats() -> None:
    # 200 pairs, 3 repeats each, 3 % shift, 3 % repeat-level drift, lognormal samples within each repeat.
    results = _simulate(200, SHIFT)
    coverage = _coverage(results, SHIFT)
    print(f"coverage of the 95 % CI of the ratio, 3 repeats: {coverage:.3f}")
    assert 0.90 <= coverage <= 0.98
    assert all(c.confidence == 0.95 for c in results)


def test_drift_dominated_three_repeats_still_reach_the_level() -> None:
    # Tiny within-repeat noise: the percentile interval of the two-stage bootstrap is then about
    # [min_B - max_A, max_B - min_A], which covers ~90 %; the t interval must not fall that low.
    results = _simulate(200, SHIFT, samples=50, within_sd=0.01, seed=29)
    coverage = _coverage(results, SHIFT)
    print(f"coverage, drift-dominated, 3 repeats: {coverage:.3f}")
    assert 0.93 <= coverage <= 0.98


def test_more_repeats_keep_the_coverage() -> None:
    results = _simulate(100, SHIFT, repeats=6, samples=50, within_sd=0.05, seed=31)
    assert 0.90 <= _coverage(results, SHIFT) <= 0.99


def test_identical_distributions_give_no_detectable_difference() -> None:
    results = _simulate(200, 1.0, seed=17)
    share = sum(c.verdict == "no detectable difference" for c in results) / len(results)
    print(f"identical distributions, 'no detectable difference': {share:.3f}")
    assert share >= 0.90


def test_a_clear_difference_gets_a_verdict_in_the_right_direction() -> None:
    rng = np.random.default_rng(3)
    a = _side(rng, 10.0, 5, 100, 0.01, 0.05)
    b = _side(rng, 8.0, 5, 100, 0.01, 0.05)
    faster = compare(a, b)
    assert faster.verdict == "faster" and faster.ratio < 1 and faster.ratio_ci[1] < 1
    assert faster.relative_difference == pytest.approx(faster.ratio - 1)
    assert faster.difference == pytest.approx(faster.median_a * (faster.ratio - 1))  # B − A at A's level
    assert faster.difference_ci[1] < 0
    slower = compare(b, a)
    assert slower.verdict == "slower" and slower.ratio_ci[0] > 1
    energy = compare(b, a, metric="energy", unit="mJ")
    assert energy.verdict == "more energy" and energy.unit == "mJ"


def test_medians_are_medians_of_repeat_medians() -> None:
    a = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [10.0]]
    b = [[2.0, 2.0], [3.0, 3.0]]
    result = compare(a, b, draws=200)
    assert result.median_a == 5.5  # medians 2, 5.5, 10
    assert result.median_b == 2.5
    assert result.ratio == pytest.approx(math.exp(np.log([2.0, 3.0]).mean() - np.log([2.0, 5.5, 10.0]).mean()))
    assert result.repeats_a == 3 and result.repeats_b == 2
    assert result.between_repeat_sd_log_a == pytest.approx(np.std(np.log([2.0, 5.5, 10.0]), ddof=1))


def test_same_seed_same_answer_other_seed_other_draws() -> None:
    rng = np.random.default_rng(5)
    a, b = _side(rng, 10, 3, 50, 0.03, 0.1), _side(rng, 10.3, 3, 50, 0.03, 0.1)
    assert compare(a, b, seed=4) == compare(a, b, seed=4)
    assert compare(a, b, seed=4).ratio_ci != compare(a, b, seed=5).ratio_ci


def test_the_interval_is_the_t_quantile_times_the_bootstrap_se() -> None:
    # The pieces against scipy: with 3 + 3 repeats the quantile is t(0.975; 4); the half-width on the log
    # scale divided by it is the SD of the log bootstrap replicates, whatever the level.
    rng = np.random.default_rng(8)
    a, b = _side(rng, 10, 3, 50, 0.03, 0.1), _side(rng, 10, 3, 50, 0.03, 0.1)
    at95, at80 = compare(a, b, confidence=0.95), compare(a, b, confidence=0.80)
    half95 = math.log(at95.ratio_ci[1] / at95.ratio_ci[0]) / 2
    half80 = math.log(at80.ratio_ci[1] / at80.ratio_ci[0]) / 2
    assert half95 / half80 == pytest.approx(stats.t.ppf(0.975, 4) / stats.t.ppf(0.90, 4))
    assert math.log(at95.ratio) == pytest.approx(math.log(at95.ratio_ci[0]) + half95)


def test_repeats_needed_matches_a_t_test_power_calculation() -> None:
    # n per side such that a two-sided t-test (df 2n-2) at 95 % detects the shift with 80 % power,
    # checked against scipy's noncentral t: the power at n reaches 0.8 (approximately) and not at n - 1.
    sd, shift = 0.03, math.log(1.03)
    n = repeats_needed(shift, sd, sd, 0.95)
    assert n is not None

    def power(k: int) -> float:
        df, nc = 2 * k - 2, shift / (sd * math.sqrt(2 / k))
        crit = stats.t.ppf(0.975, df)
        return float(stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc))

    assert power(n) >= 0.78 and power(n - 1) < 0.8
    assert repeats_needed(2 * shift, sd, sd, 0.95) < n  # a larger difference needs fewer
    assert repeats_needed(0.0, sd, sd, 0.95) is None
    assert repeats_needed(1e-6, sd, sd, 0.95) is None  # more than MAX_REPEATS_NEEDED


def test_observed_difference_resolved_by_the_stated_repeats() -> None:
    rng = np.random.default_rng(11)
    result = compare(_side(rng, 10, 3, 50, 0.03, 0.05), _side(rng, 10.3, 3, 50, 0.03, 0.05))
    assert result.repeats_needed == repeats_needed(math.log(result.ratio), result.between_repeat_sd_log_a,
                                                   result.between_repeat_sd_log_b, 0.95)


@pytest.mark.parametrize(("a", "message"), [
    ([[1.0, 2.0]], "at least 2 repeats"),
    ([[1.0], []], "repeat 2 has no samples"),
    ([[1.0], [0.0]], "repeat 2 holds 0.0"),
    ([[1.0], [float("nan")]], "repeat 2 holds nan"),
])
def test_bad_sides_are_refused_with_the_reason(a: list[list[float]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compare(a, [[1.0], [2.0]])


def test_json_shape() -> None:
    result = compare([[1.0, 1.1], [1.2, 1.0]], [[2.0, 2.1], [2.2, 2.0]], draws=200)
    data = result.to_json()
    assert data["verdict"] in ("slower", "no detectable difference")
    assert isinstance(data["ratio_ci"], list) and len(data["ratio_ci"]) == 2
    assert data["confidence"] == 0.95 and data["metric"] == "latency" and data["unit"] == "ms"


def test_one_value_per_run_reproduces_scipy_two_sample_t_interval() -> None:
    # Energy: one value per battery run, so the within stage changes nothing and the corrected bootstrap
    # variance of the mean log is s²/n; with equal sides the interval is the pooled two-sample t interval
    # of the log values (up to the bootstrap's own noise).
    a = [4.9, 5.1, 5.0, 5.3, 4.8]
    b = [4.1, 4.4, 3.9, 4.2, 4.0]
    result = compare([[v] for v in a], [[v] for v in b], draws=20_000, metric="energy", unit="mJ")
    ci = stats.ttest_ind(np.log(b), np.log(a)).confidence_interval(0.95)
    assert result.ratio_ci[0] == pytest.approx(math.exp(ci.low), rel=0.01)
    assert result.ratio_ci[1] == pytest.approx(math.exp(ci.high), rel=0.01)
    assert result.verdict == "less energy"
