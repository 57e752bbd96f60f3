"""Frontier probability and efficiency rank on synthetic cases whose answers are known."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from edgebench.analyze import pareto
from edgebench.analyze.frontier_probability import efficiency_ranks, parse_sample_specs
from edgebench.errors import UsageError


def samples(values: np.ndarray | list[float]) -> str:
    return json.dumps([float(v) for v in values])


def test_always_dominating_row_is_1_and_always_dominated_row_is_0() -> None:
    table = pd.DataFrame({
        "name": ["fast", "slow"],
        "acc": [0.9, 0.5],
        "lat_samples": [samples([1.0, 1.5, 2.0]), samples([10.0, 11.0, 12.0])],
    })
    rows = pareto(table, "lat:min,acc:max", id_col="name", samples={"lat": "lat_samples"}, draws=200).rows
    assert rows["frontier_probability"].tolist() == [1.0, 0.0]
    assert rows["expected_front"].tolist() == [1.0, 2.0]
    assert rows["efficiency_rank"].tolist() == [1, 2]
    assert rows["lat"].tolist() == [1.5, 11.0]  # without a `lat` column: each row's sample median


def test_two_exchangeable_rows_are_each_efficient_about_half_the_time() -> None:
    rng = np.random.default_rng(1)
    table = pd.DataFrame({
        "acc": [0.8, 0.8, 0.1],
        "lat": [5.0, 5.0, 50.0],
        "lat_samples": [samples(rng.normal(5, 1, 500)), samples(rng.normal(5, 1, 500)),
                        samples(rng.normal(50, 1, 500))],
    })
    analysis = pareto(table, "lat:min,acc:max", samples={"lat": "lat_samples"}, draws=2000, seed=4)
    first, second, worst = analysis.rows["frontier_probability"].tolist()
    assert first == pytest.approx(0.5, abs=0.05) and second == pytest.approx(0.5, abs=0.05)
    assert first + second == pytest.approx(1.0, abs=0.01)  # exactly one of them wins unless tied
    assert worst == 0.0
    assert analysis.draws == 2000 and analysis.seed == 4
    again = pareto(table, "lat:min,acc:max", samples={"lat": "lat_samples"}, draws=2000, seed=4)
    assert again.rows["frontier_probability"].tolist() == [first, second, worst]


def test_lists_of_different_lengths_draw_only_their_own_samples() -> None:
    table = pd.DataFrame({"acc": [0.5, 0.9], "lat_samples": [samples([3.0]), samples([1.0, 2.0, 4.0, 5.0, 6.0])]})
    rows = pareto(table, "lat:min,acc:max", samples={"lat": "lat_samples"}, draws=4000, seed=2).rows
    # row 1 (lat 3, acc 0.5) is efficient only when row 2 draws 4, 5 or 6: 3 draws in 5
    assert rows["frontier_probability"].iloc[0] == pytest.approx(0.6, abs=0.04)
    assert rows["frontier_probability"].iloc[1] == 1.0


def test_efficiency_rank_breaks_ties_by_expected_front() -> None:
    probability = np.array([0.5, 0.9, 0.5, 0.5, 0.0])
    expected_front = np.array([1.8, 1.1, 1.5, 1.8, 3.0])
    assert efficiency_ranks(probability, expected_front).tolist() == [3, 1, 2, 3, 5]


@pytest.mark.parametrize("cell, shown", [("not json", "'not json'"), ('{"a": 1}', "'{\"a\": 1}'"),
                                          ("[]", "'[]'"), ('[1, "x"]', "'[1, \"x\"]'")])
def test_a_samples_column_that_is_not_json_lists_of_numbers(cell: str, shown: str) -> None:
    table = pd.DataFrame({"lat": [1.0, 2.0], "acc": [0.1, 0.2], "s": [samples([1.0]), cell]})
    with pytest.raises(UsageError, match=r"row 2, column 's': expected a non-empty JSON list of numbers"):
        pareto(table, "lat:min,acc:max", samples={"lat": "s"})


def test_samples_errors_name_the_problem() -> None:
    table = pd.DataFrame({"lat": [1.0, 2.0], "acc": [0.1, 0.2], "s": [samples([1.0]), samples([2.0])]})
    with pytest.raises(UsageError, match="--samples names 'size', which is not an objective; the objectives are: lat, acc"):
        pareto(table, "lat:min,acc:max", samples={"size": "s"})
    with pytest.raises(UsageError, match="samples column 'nope' is not a column of the table; its columns are: lat, acc, s"):
        pareto(table, "lat:min,acc:max", samples={"lat": "nope"})
    with pytest.raises(UsageError, match="expected OBJECTIVE=COLUMN"):
        parse_sample_specs(["lat"])
    with pytest.raises(UsageError, match="expected a positive number of Monte-Carlo draws"):
        pareto(table, "lat:min,acc:max", samples={"lat": "s"}, draws=0)
    with pytest.raises(UsageError, match="expected a seed of 0 or more"):
        pareto(table, "lat:min,acc:max", samples={"lat": "s"}, seed=-1)
