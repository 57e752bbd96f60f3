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
    """The model's prediction for every row, flagged where the row lies outside its feature space."""
    table = rows if isinstance(rows, PerfTable) else table_from_frame(
        rows, options=model.options, measure=model.measure if model.measure in rows.columns else None,
        source=source)
    missing = [name for name in model.options if name not in table.frame.columns]
    if missing:
        raise UsageError(f"{table.source}: the model needs the option column(s) {', '.join(missing)}; the columns "
                         f"are: {', '.join(map(str, table.frame.columns))}")
    x = table.frame[list(model.options)].to_numpy(dtype=float)
    predicted = model.estimator.predict(x)
    measured = (table.frame[model.measure].to_numpy(dtype=float) if model.measure in table.frame.columns
                else None)
    return tuple(
        Prediction(row_id=table.ids[i], measure=model.measure,
                   features=tuple(zip(model.options, (float(v) for v in x[i]))),
                   predicted_value=float(predicted[i]),
                   measured_value=float(measured[i]) if measured is not None else None,
                   outside_space=model.feature_space.outside([float(v) for v in x[i]]))
        for i in range(len(x)))


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
