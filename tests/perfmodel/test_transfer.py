"""Transfer methods on generated data with known structure: DM exact when source == target, LMS recovers
a linear shift, GS picks the generating terms, scratch improves with budget; budgets and errors."""
from __future__ import annotations

import numpy as np
import pytest

from edgebench.errors import UsageError
from edgebench.perfmodel.budget import parse_budget
from edgebench.perfmodel.transfer import METHODS, transfer
from tests.perfmodel.generated import factorial_frame, table


def by_method(records):
    return {(r.method, r.budget): r for r in records}


def test_dm_is_exact_when_source_and_target_are_the_same():
    t = table(factorial_frame())
    records = transfer(t, t, [parse_budget("4")], ["dm"], repeats=2, seed=1, learner="tree")
    (record,) = records
    assert record.mape_pct_mean == pytest.approx(0.0, abs=1e-9)
    assert record.within_10pct_share == 1.0 and record.scored_rows == 72 - 4 and record.repeats == 2


def test_lms_recovers_a_linear_shift_from_a_handful_of_rows():
    source = factorial_frame()
    target = source.assign(y=2.5 * source["y"] + 3)
    records = by_method(transfer(table(source), table(target, "target"), [parse_budget("4")],
                                 ["scratch", "dm", "lms", "nlms"], repeats=3, seed=0, learner="tree"))
    assert records[("lms", 4)].mape_pct_mean < 1e-6
    assert records[("dm", 4)].mape_pct_mean > 50  # the source's figures are far from the target's
    assert records[("scratch", 4)].mape_pct_mean > 5  # 4 rows are too few to learn it from scratch


def test_ratio_recovers_a_device_k_times_slower_from_noisy_rows_where_a_linear_shift_does_not():
    source = factorial_frame()
    noise = np.exp(np.random.default_rng(7).normal(0, 0.05, len(source)))  # 5 % run-to-run noise
    target = source.assign(y=40.0 * source["y"] * noise)  # another device, 40 times slower
    records = by_method(transfer(table(source), table(target, "target"), [parse_budget("2")],
                                 ["scratch", "lms", "ratio"], repeats=5, seed=0, learner="tree"))
    assert records[("ratio", 2)].mape_pct_mean < 8
    assert records[("lms", 2)].mape_pct_mean > 1.5 * records[("ratio", 2)].mape_pct_mean  # 9.2 % vs 5.0 %


def test_gs_trains_on_the_generating_terms_of_the_source():
    source = factorial_frame(seed=3, noise_sd=0.3)
    target = factorial_frame(seed=4, noise_sd=0.3).assign(y=lambda f: 1.7 * f["y"])
    (record,) = transfer(table(source), table(target, "target"), [parse_budget("12")], ["gs"], repeats=1,
                         learner="tree")
    assert {"a", "b", "c", "a:b"} <= set(record.selected_terms)
    assert not any("noise1" in term for term in record.selected_terms)
    assert record.mape_pct_sd is None  # one repeat has no spread


def test_scratch_error_falls_as_the_budget_grows():
    t = table(factorial_frame(noise_sd=0.5))
    records = transfer(t, t, [parse_budget("4"), parse_budget("25%"), parse_budget("60")], ["scratch"],
                       repeats=4, seed=0, learner="tree")
    mapes = [r.mape_pct_mean for r in records]
    assert [r.budget for r in records] == [4, 18, 60]
    assert mapes[0] > mapes[1] > mapes[2]


def test_records_carry_every_method_and_budget_with_shares():
    t = table(factorial_frame(noise_sd=0.5))
    records = transfer(t, t, [parse_budget("10%")], METHODS, repeats=2, seed=0, learner="tree")
    assert [r.method for r in records] == list(METHODS)
    assert {r.budget for r in records} == {8} and records[0].budget_share == pytest.approx(8 / 72)
    assert all(r.mape_pct_sd is not None and r.nmse_mean >= 0 for r in records)


@pytest.mark.parametrize(("text", "rows"), [("5", 5), ("10%", 8), ("1%", 2), ("2.5%", 2), ("50 %", 36)])
def test_budget_as_a_count_or_a_share_rounded_up_at_least_two(text, rows):
    assert parse_budget(text).rows_of(72, "target") == rows


@pytest.mark.parametrize(("text", "message"), [("1", "at least 2 rows"), ("abc", "expected a count"),
                                               ("0%", "above 0 %"), ("100%", "below 100 %")])
def test_bad_budget_text(text, message):
    with pytest.raises(UsageError, match=message):
        parse_budget(text)


def test_budget_too_large_for_the_target():
    t = table(factorial_frame())
    with pytest.raises(UsageError, match="72 rows, but generated has 72 rows.*at most 71"):
        transfer(t, t, [parse_budget("72")], ["scratch"], learner="tree")


def test_option_columns_that_differ_are_named():
    frame = factorial_frame()
    source = table(frame)
    target = table(frame.rename(columns={"noise1": "threads"}), "target", options=("a", "b", "c", "threads"))
    with pytest.raises(UsageError, match=r"only the source \(generated\) has noise1; only the target "
                                         r"\(target\) has threads"):
        transfer(source, target, [parse_budget("4")], ["dm"])


def test_too_few_target_rows_and_unknown_method():
    frame = factorial_frame()
    with pytest.raises(UsageError, match="2 row.*at least 3"):
        transfer(table(frame), table(frame.iloc[[0, 40]].reset_index(drop=True), "tiny"), [parse_budget("2")], ["dm"])
    with pytest.raises(UsageError, match="subset of scratch,dm,lms,ratio,nlms,gs"):
        transfer(table(frame), table(frame), [parse_budget("4")], ["dm", "magic"])
    with pytest.raises(UsageError, match="--repeats 0: expected at least 1"):
        transfer(table(frame), table(frame), [parse_budget("4")], ["dm"], repeats=0)
    with pytest.raises(UsageError, match="--seed -1"):
        transfer(table(frame), table(frame), [parse_budget("4")], ["dm"], seed=-1)


def test_budgets_that_come_to_the_same_rows_run_once_and_say_so():
    source = factorial_frame()
    target = source.assign(y=2 * source["y"])
    records = transfer(table(source), table(target, "target"), [parse_budget("2.5%"), parse_budget("2"),
                                                                parse_budget("10%")], ["scratch"], repeats=2)
    assert [(r.budget, r.budget_asked) for r in records] == [(2, "2.5%"), (8, "10%")]
    assert records[0].repeats == 2 and "budgets 2.5%, 2 are all 2 rows of this target: run once" in records[0].notes
