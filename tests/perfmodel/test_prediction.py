"""Predictions of a saved model: per row, provenance `predicted`, flagged outside the feature space."""
from __future__ import annotations

import pandas as pd
import pytest

from edgebench.errors import UsageError
from edgebench.perfmodel.prediction import measured_mape_pct, outside_count, predict
from edgebench.perfmodel.saved import SavedPerfModel, fit_model
from tests.perfmodel.fit_generated import latency_table


@pytest.fixture(scope="module")
def model() -> SavedPerfModel:
    return fit_model(latency_table(rows=96), "forest", seed=0, trees=16)


def test_inside_rows_are_predicted_close_and_marked_predicted(model: SavedPerfModel):
    rows = pd.DataFrame({"size": [128, 224], "threads": [4, 1], "other": ["x", "y"]})  # order and extras free
    first, second = predict(model, rows)
    assert first.features == (("threads", 4.0), ("size", 128.0)) and first.provenance == "predicted"
    assert first.outside_space == () and first.measured_value is None
    assert first.predicted_value == pytest.approx(2.0 * 1.28 ** 2 / 2, rel=0.1)
    assert second.predicted_value == pytest.approx(2.0 * 2.24 ** 2, rel=0.1)
    assert measured_mape_pct((first, second)) is None


def test_outside_rows_are_still_predicted_and_say_why(model: SavedPerfModel):
    rows = pd.DataFrame({"threads": [16, 2], "size": [128, 300]})
    above, beyond = predict(model, rows, source="new.csv")
    assert above.outside_space == ("threads = 16 is above the fitted range 1..8",)
    assert beyond.outside_space == ("size = 300 is above the fitted range 96..224",)
    assert above.predicted_value > 0 and outside_count((above, beyond)) == 2
    assert above.to_json()["outside_space"] == ["threads = 16 is above the fitted range 1..8"]


def test_with_the_measure_present_the_model_is_scored(model: SavedPerfModel):
    table = latency_table(rows=20, seed=5)
    predictions = predict(model, table)
    assert all(p.measured_value is not None for p in predictions)
    assert 0 < measured_mape_pct(predictions) < 10  # type: ignore[operator]


def test_missing_columns_are_listed(model: SavedPerfModel):
    with pytest.raises(UsageError, match=r"new\.csv: no column 'size'; the columns are: threads, cores"):
        predict(model, pd.DataFrame({"threads": [1], "cores": [2]}), source="new.csv")


def test_a_non_numeric_option_names_row_and_value(model: SavedPerfModel):
    with pytest.raises(UsageError, match=r"row 2, option 'threads': 'four' is not a finite number"):
        predict(model, pd.DataFrame({"threads": ["1", "four"], "size": [96, 96]}))


def test_one_measured_row_is_scored_and_blank_cells_are_not_measured(model: SavedPerfModel):
    (single,) = predict(model, pd.DataFrame({"threads": [2], "size": [96], "latency_ms": [1.3]}))
    assert single.measured_value == 1.3  # one row: no "constant measure" refusal when predicting
    rows = pd.DataFrame({"threads": [2, 4], "size": [96, 96], "latency_ms": [1.3, None]})
    assert [p.measured_value for p in predict(model, rows)] == [1.3, None]
    with pytest.raises(UsageError, match=r"row 2, measure 'latency_ms': 'slow'; expected a number > 0, or a blank"):
        predict(model, pd.DataFrame({"threads": [2, 4], "size": [96, 96], "latency_ms": ["1.3", "slow"]}))
