"""Predictions of a saved performance model, one record per configuration, each saying whether the
configuration lies inside the feature space the model was fitted on (and if not, why).

    predict(model, rows) -> tuple[Prediction, ...]

`rows` is a `PerfTable` or a DataFrame with the model's option columns (extra columns are ignored; a
missing one is an error naming it). A prediction outside the space is still made, and flagged.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from edgebench.errors import UsageError
from edgebench.perfmodel.learners import mape_pct
from edgebench.perfmodel.saved import SavedPerfModel
from edgebench.perfmodel.table import PerfTable, table_from_frame

if TYPE_CHECKING:
    import pandas as pd

PREDICTED = "predicted"


@dataclass(frozen=True)
class Prediction:
    """One configuration's predicted measure (in the measure's own unit, e.g. ms for latency_median_ms)."""
    row_id: str
    measure: str
    features: tuple[tuple[str, float], ...]  # (option, value) in the model's order
    predicted_value: float
    measured_value: float | None  # when the rows carry the measure: to score the model against it
    outside_space: tuple[str, ...]  # why the configuration lies outside the fitted space; () inside
    provenance: str = PREDICTED

    def to_json(self) -> dict[str, Any]:
        return {"row_id": self.row_id, "measure": self.measure, "features": dict(self.features),
                "predicted_value": self.predicted_value, "measured_value": self.measured_value,
                "provenance": self.provenance, "outside_space": list(self.outside_space)}


def predict(model: SavedPerfModel, rows: PerfTable | pd.DataFrame, *,
            source: str = "the configurations to predict") -> tuple[Prediction, ...]:
    """The model's prediction for every row, flagged where the row lies outside its feature space. When
    the rows carry the model's measure, each prediction also carries the measured value (a blank cell:
    not measured)."""
    if isinstance(rows, PerfTable):
        table = rows
        measured = _measured(table.frame, model.measure, table.source)
    else:
        # the measure is checked here, not by table_from_frame: one row, or equal ones, may be scored
        table = table_from_frame(rows, options=model.options, measure=None, source=source)
        measured = _measured(rows, model.measure, source)
    missing = [name for name in model.options if name not in table.frame.columns]
    if missing:
        raise UsageError(f"{table.source}: the model needs the option column(s) {', '.join(missing)}; the columns "
                         f"are: {', '.join(map(str, table.frame.columns))}")
    x = table.frame[list(model.options)].to_numpy(dtype=float)
    predicted = model.estimator.predict(x)
    return tuple(
        Prediction(row_id=table.ids[i], measure=model.measure,
                   features=tuple(zip(model.options, (float(v) for v in x[i]))),
                   predicted_value=float(predicted[i]), measured_value=measured[i],
                   outside_space=model.feature_space.outside([float(v) for v in x[i]]))
        for i in range(len(x)))


def _measured(frame: pd.DataFrame, measure: str, source: str) -> list[float | None]:
    """The measured values of `measure` per row (None: no such column, or a blank cell); text or a value
    <= 0 is an error naming the row."""
    import math

    import pandas as pd

    if measure not in frame.columns:
        return [None] * len(frame)
    values: list[float | None] = []
    for row, cell in enumerate(frame[measure].tolist()):
        if cell is None or (isinstance(cell, str) and not cell.strip()) or (isinstance(cell, float) and math.isnan(cell)):
            values.append(None)
            continue
        number = pd.to_numeric(pd.Series([cell]), errors="coerce").iloc[0]
        if pd.isna(number) or not math.isfinite(float(number)) or float(number) <= 0:
            raise UsageError(f"{source}: row {row + 1}, measure {measure!r}: {cell!r}; expected a number > 0, or a "
                             "blank cell for a configuration not measured")
        values.append(float(number))
    return values


def outside_count(predictions: Sequence[Prediction]) -> int:
    return sum(1 for p in predictions if p.outside_space)


def measured_mape_pct(predictions: Sequence[Prediction], *, inside_only: bool = False) -> float | None:
    """MAPE of the predictions against the measured values they carry; None when none carries one."""
    import numpy as np

    scored = [p for p in predictions if p.measured_value is not None and not (inside_only and p.outside_space)]
    if not scored:
        return None
    y = np.array([p.measured_value for p in scored], dtype=float)
    return mape_pct(y, np.array([p.predicted_value for p in scored], dtype=float))
