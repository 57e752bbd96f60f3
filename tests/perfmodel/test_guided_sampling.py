"""Guided sampling: the default configuration, then each influential main effect over its levels and the
Cartesian product of each influential interaction, only configurations that exist; sampled down or topped
up at random to the budget, and said so."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from edgebench.errors import UsageError
from edgebench.perfmodel.guided_sampling import TOP_UP_REASON, default_row, guided_configurations, guided_rows
from tests.perfmodel.generated import OPTIONS, factorial_frame, table


def test_default_is_the_row_nearest_the_most_common_levels():
    frame = factorial_frame()
    frame.loc[frame["a"] == 3, "a"] = 2  # a = 2 is now the most common level of a
    t = table(frame)
    row = t.x()[default_row(t)]
    assert row[0] == 2.0


def test_rule_varies_main_effects_and_takes_the_product_of_interactions():
    t = table(factorial_frame())
    rows, reasons, base = guided_configurations(t, [("a",), ("b",), ("a", "b")])
    x = t.x()
    chosen = x[rows]
    assert rows[0] == base and reasons[0] == "the default configuration"
    assert len(rows) == len({tuple(r) for r in chosen}) == 4 * 3  # a×b; the main-effect lines lie inside it
    assert (chosen[:, 2:] == x[base, 2:]).all()  # c and noise1 stay at default
    assert {(r[0], r[1]) for r in chosen} == {(a, b) for a in (0, 1, 2, 3) for b in (1, 2, 4)}
    assert any(r.startswith("varies a:b (interaction)") for r in reasons)


def test_configurations_missing_from_the_table_are_skipped():
    frame = factorial_frame()
    gone = (frame["a"] == 3) & (frame["b"] == 4)  # the other options' levels stay equally common
    t = table(frame[~gone].reset_index(drop=True))
    rows, _, _ = guided_configurations(t, [("a",), ("b",), ("a", "b")])
    assert len(rows) == 11 and (3.0, 4.0) not in {(r[0], r[1]) for r in t.x()[rows]}


def test_sampled_down_to_the_budget_and_topped_up_at_random():
    t = table(factorial_frame())
    small = guided_rows(t, [("a",), ("b",), ("a", "b")], 5, np.random.default_rng(0))
    assert len(set(small.rows)) == 5 and small.topped_up == 0 and small.guided_count == 12
    assert (t.x()[list(small.rows)][:, 2:] == t.x()[small.default_row, 2:]).all()
    assert "a random 5 of them" in small.notes[0]
    large = guided_rows(t, [("a",)], 10, np.random.default_rng(0))
    assert large.guided_count == 4 and large.topped_up == 6 and len(set(large.rows)) == 10
    assert large.reasons[-1] == TOP_UP_REASON and "6 more were drawn at random" in large.notes[0]


def test_unknown_term_and_oversized_budget_are_errors():
    t = table(factorial_frame())
    with pytest.raises(UsageError, match="not options"):
        guided_configurations(t, [("zz",)])
    with pytest.raises(UsageError, match="only 72 rows"):
        guided_rows(t, [("a",)], 73, np.random.default_rng(0))


def test_a_sparse_table_gives_the_row_nearest_the_default_that_has_the_levels():
    """Model features change together: no row varies `a` alone, but rows with each level of `a` exist; the one
    agreeing with the default on the most other options is taken."""
    frame = factorial_frame()
    extra = [[0, 1, 0, 0]] * 4 + [[1, 4, 1, 2], [2, 4, 1, 2], [3, 4, 1, 2], [1, 1, 0, 2]]
    frame = pd.concat([frame[frame["a"] == 0], pd.DataFrame(extra, columns=list(OPTIONS)).assign(y=50.0)],
                      ignore_index=True)
    t = table(frame)
    x = t.x()
    rows, reasons, base = guided_configurations(t, [("a",)])
    assert x[base].tolist() == [0, 1, 0, 0]
    assert [x[r].tolist() for r in rows] == [[0, 1, 0, 0], [1, 1, 0, 2], [2, 4, 1, 2], [3, 4, 1, 2]]
    assert reasons[1] == "varies a (main effect): a=1"
