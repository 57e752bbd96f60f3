from __future__ import annotations

import math

import numpy as np
import pytest

from edgebench.battery import RunEnergy, mean_ci95, summarize_repeats
from edgebench.battery.summary import mean_interval, resolution, t_quantile, t_quantile_975
from edgebench.records import Check


def run(net_mj: float, *, valid: bool = True, seconds: float = 300.0) -> RunEnergy:
    checks = (Check("discharging", "pass"), Check("shortened", "pass", advisory=True))
    if not valid:
        checks += (Check("thermal", "fail", "thermal status reached 2"),)
    return RunEnergy(idle_pre_power_mw=350.0, idle_post_power_mw=352.0, idle_power_mw=351.0,
                     active_power_mw=1350.0, measured_seconds=seconds, inferences=15_000,
                     energy_per_inference_mj=net_mj, gross_energy_per_inference_mj=net_mj + 7.0,
                     charge_counter_energy_mj=None, current_integral_energy_mj=405_000.0, checks=checks)


def test_one_run_has_a_value_but_no_interval() -> None:
    s = summarize_repeats([run(20.0)])
    assert s.value_mj == 20.0 and s.gross_value_mj == 27.0
    assert s.ci_low_mj is None and s.ci_high_mj is None and s.ci_method is None
    assert s.cv is None and s.high_cv is None and s.n_valid == 1 and "no confidence interval" in s.note


def test_three_runs_use_student_t_too() -> None:
    values = [19.0, 20.0, 21.5]
    s = summarize_repeats([run(v) for v in values])
    half = 4.302653 * np.std(values, ddof=1) / math.sqrt(3)  # t(0.975, 2)
    assert s.ci_method == "student_t" and s.ci_level == 0.95
    assert s.ci_low_mj == pytest.approx(np.mean(values) - half) and s.ci_high_mj == pytest.approx(np.mean(values) + half)
    assert s.resolved is True and s.headline_mj == s.value_mj
    assert s.to_json()["ci_mj"] == [s.ci_low_mj, s.ci_high_mj] and s.to_json()["ci_level"] == 0.95


def test_five_runs_use_student_t() -> None:
    values = [19.0, 20.0, 21.0, 20.5, 19.5]
    s = summarize_repeats([run(v) for v in values])
    half = 2.776445 * np.std(values, ddof=1) / math.sqrt(5)  # t(0.975, 4)
    assert s.ci_method == "student_t"
    assert s.ci_low_mj == pytest.approx(20.0 - half) and s.ci_high_mj == pytest.approx(20.0 + half)
    assert s.cv == pytest.approx(np.std(values, ddof=1) / 20.0) and s.high_cv is False


def test_t_quantiles_match_the_tables() -> None:
    # Standard two-sided 95 % critical values.
    for df, expected in [(1, 12.7062), (2, 4.3027), (3, 3.1824), (4, 2.7764), (9, 2.2622), (29, 2.0452),
                         (120, 1.9799)]:
        assert t_quantile_975(df) == pytest.approx(expected, abs=2e-4)


def test_invalid_runs_are_counted_and_left_out() -> None:
    s = summarize_repeats([run(20.0), run(20.4), run(99.0, valid=False), run(float("nan"))])
    assert s.n_valid == 2 and s.n_invalid == 2
    assert s.value_mj == pytest.approx(20.2) and s.values_mj == (20.0, 20.4)
    assert "2 of 4 runs invalid" in s.note


def test_high_spread_is_flagged() -> None:
    s = summarize_repeats([run(v) for v in (15.0, 20.0, 25.0, 18.0, 22.0)])
    assert s.high_cv is True and "run more repeats" in s.note


def test_identical_runs_give_no_zero_width_interval() -> None:
    assert mean_ci95([20.0] * 5) is None
    assert summarize_repeats([run(20.0)] * 3).ci_low_mj is None


def test_no_valid_runs() -> None:
    s = summarize_repeats([run(20.0, valid=False)])
    assert s.value_mj is None and s.n_valid == 0 and s.n_invalid == 1
    assert s.to_json()["energy_per_inference_mj"] is None
    assert summarize_repeats([]).note == "no valid runs of 0"


@pytest.mark.parametrize("repeats", [2, 3, 5])
@pytest.mark.parametrize("workload", ["ms_scale", "us_scale"])
def test_stated_level_matches_simulated_coverage(repeats: int, workload: str) -> None:
    """Per-run estimates = truth + run-to-run drift + gauge noise (the mean of thousands of samples: normal).

    us_scale: noise comparable to the energy itself, so many sessions straddle zero. The old percentile
    bootstrap (K < 5) covered ~50 % at K = 2 and ~75 % at K = 3 while claiming 95 %.
    """
    rng = np.random.default_rng(repeats * 10 + len(workload))
    truth, drift, noise = (20.0, 0.4, 0.8) if workload == "ms_scale" else (0.002, 0.0005, 0.0015)
    sessions = 2000
    values = truth + rng.normal(0, drift, (sessions, repeats)) + rng.normal(0, noise, (sessions, repeats))
    intervals = [mean_interval(row) for row in values]
    assert {i.level for i in intervals} == {0.95}
    covered = np.mean([i.low <= truth <= i.high for i in intervals])
    # 2000 sessions at 95 %: binomial standard error 0.5 %; 2 % is 4 standard errors either way.
    assert abs(covered - 0.95) < 0.02, (repeats, workload, covered)


def test_an_interval_reaching_zero_is_unresolved_with_what_would_resolve_it() -> None:
    values = [0.004, -0.001, 0.003]  # mJ: a µs-scale workload under gauge noise
    s = summarize_repeats([run(v, seconds=30.0) for v in values])
    assert s.ci_low_mj <= 0 < s.ci_high_mj and s.resolved is False
    assert s.headline_mj is None and s.value_mj == pytest.approx(0.002)
    js = s.to_json()
    assert js["energy_per_inference_mj"] is None and js["mean_mj"] == pytest.approx(0.002) and js["resolved"] is False
    n = s.resolution.repeats_needed
    sd = float(np.std(values, ddof=1))
    # n repeats with the same spread would put the lower bound above zero; one fewer would not.
    assert t_quantile(0.95, n - 1) * sd / math.sqrt(n) < 0.002 <= t_quantile(0.95, n - 2) * sd / math.sqrt(n - 1)
    half = (s.ci_high_mj - s.ci_low_mj) / 2
    assert s.resolution.seconds_needed == pytest.approx(30.0 * (half / 0.002) ** 2)
    assert js["repeats_to_resolve"] == n and "includes zero" in s.note and f"≥ {n} repeats" in s.note


def test_a_mean_at_or_below_idle_cannot_be_sized() -> None:
    r = resolution([0.001, -0.003, 0.0005], measured_seconds=30.0)
    assert r.resolved is False and r.repeats_needed is None and r.seconds_needed is None
    assert "not above idle" in r.reason


def test_a_run_not_resolved_above_idle_withholds_the_headline_of_the_others() -> None:
    # The unresolved run has no figure (checks.net_energy_resolved); averaging only the runs that came
    # out above idle would overstate the workload, so the mean stays in `mean` and the headline is None.
    unresolved = RunEnergy(idle_pre_power_mw=350.0, idle_post_power_mw=351.0, idle_power_mw=350.5,
                           active_power_mw=350.2, measured_seconds=30.0, inferences=6000,
                           energy_per_inference_mj=float("nan"), gross_energy_per_inference_mj=1.75,
                           charge_counter_energy_mj=None, current_integral_energy_mj=10_506.0,
                           checks=(Check("net_energy_resolved", "fail", "not above zero"),))
    for runs in ([run(0.002), unresolved], [run(0.002), run(0.003), run(0.0025), unresolved]):
        s = summarize_repeats(runs)
        assert s.headline_mj is None and s.resolved is False and s.n_invalid == 1
        assert "1 of " in s.resolution.reason and "not above idle" in s.resolution.reason
        assert s.to_json()["energy_per_inference_mj"] is None


def test_resolution_needs_an_interval() -> None:
    s = summarize_repeats([run(0.002)])
    assert s.resolution is None and s.resolved is None and s.headline_mj == 0.002
    assert "whether the workload is resolved" in s.note
