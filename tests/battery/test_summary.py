from __future__ import annotations

import math

import numpy as np
import pytest

from edgebench.battery import RunEnergy, mean_ci95, summarize_repeats
from edgebench.battery.summary import t_quantile_975
from edgebench.records import Check


def run(net_mj: float, *, valid: bool = True) -> RunEnergy:
    checks = (Check("discharging", "pass"), Check("shortened", "pass", advisory=True))
    if not valid:
        checks += (Check("thermal", "fail", "thermal status reached 2"),)
    return RunEnergy(idle_pre_power_mw=350.0, idle_post_power_mw=352.0, idle_power_mw=351.0,
                     active_power_mw=1350.0, measured_seconds=300.0, inferences=15_000,
                     energy_per_inference_mj=net_mj, gross_energy_per_inference_mj=net_mj + 7.0,
                     charge_counter_energy_mj=None, current_integral_energy_mj=405_000.0, checks=checks)


def test_one_run_has_a_value_but_no_interval() -> None:
    s = summarize_repeats([run(20.0)])
    assert s.value_mj == 20.0 and s.gross_value_mj == 27.0
    assert s.ci_low_mj is None and s.ci_high_mj is None and s.ci_method is None
    assert s.cv is None and s.high_cv is None and s.n_valid == 1 and "no confidence interval" in s.note


def test_three_runs_use_a_reproducible_bootstrap() -> None:
    runs = [run(19.0), run(20.0), run(21.5)]
    s = summarize_repeats(runs)
    assert s.ci_method == "bootstrap"
    assert 19.0 <= s.ci_low_mj < s.value_mj < s.ci_high_mj <= 21.5
    assert summarize_repeats(runs) == s  # fixed seed: the same runs give the same interval
    assert "under-covers" in s.note


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
