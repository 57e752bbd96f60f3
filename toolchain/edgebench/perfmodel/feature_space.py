"""The feature space a performance model was fitted on, and why a configuration lies outside it.

A tree ensemble predicts a constant beyond the fitted range and an MLP extrapolates freely: either way
a prediction there is a guess. `FeatureSpace.outside(values)` says in words which feature left the space
(below the fitted minimum, above the maximum, or a level of a discrete option never seen), so a
prediction is still given but never passed off as one the data supports.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from edgebench.errors import UsageError
from edgebench.perfmodel.features import is_model_magnitude

if TYPE_CHECKING:
    from edgebench.perfmodel.table import PerfTable

# An option is discrete (its levels are recorded and an unseen level is flagged) when it takes at most
# this many distinct values and each value appears on average at least twice: threads 1/2/4/8 over 24
# rows is discrete; a continuous feature sampled at 12 points in 12 rows is not. A model's magnitudes
# (FLOPs, parameters, size, op counts) are never levels, however few models were fitted: a new model has
# values no fitted one had, and inside the fitted range that is interpolation, not a new category.
MAX_LEVELS = 10
MIN_ROWS_PER_LEVEL = 2
LEVEL_RELATIVE_TOLERANCE = 1e-9  # a level read back from CSV text still matches the fitted one


@dataclass(frozen=True)
class FeatureRange:
    """One feature as fitted: its range over the training rows, and its levels when discrete."""
    name: str
    min_value: float
    max_value: float
    levels: tuple[float, ...] | None  # sorted distinct values; None for a continuous feature

    def outside(self, value: float) -> str | None:
        """Why `value` lies outside this feature's fitted space, or None when it lies inside."""
        span = f"{self.min_value:g}..{self.max_value:g}"
        if value < self.min_value and not _same(value, self.min_value):
            return f"{self.name} = {value:g} is below the fitted range {span}"
        if value > self.max_value and not _same(value, self.max_value):
            return f"{self.name} = {value:g} is above the fitted range {span}"
        if self.levels is not None and not any(_same(value, level) for level in self.levels):
            seen = ", ".join(f"{level:g}" for level in self.levels)
            return f"{self.name} = {value:g} is a level never fitted (fitted levels: {seen})"
        return None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "min": self.min_value, "max": self.max_value,
                "levels": list(self.levels) if self.levels is not None else None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeatureRange:
        levels = data.get("levels")
        return cls(name=str(data["name"]), min_value=float(data["min"]), max_value=float(data["max"]),
                   levels=tuple(float(v) for v in levels) if levels is not None else None)


@dataclass(frozen=True)
class FeatureSpace:
    """Every feature of a model, in the order the model takes them."""
    features: tuple[FeatureRange, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    @classmethod
    def of_table(cls, table: PerfTable) -> FeatureSpace:
        """The space spanned by `table`'s option columns."""
        ranges = []
        for name in table.options:
            column = table.frame[name]
            distinct = sorted(float(v) for v in column.unique())
            discrete = (len(distinct) <= MAX_LEVELS and len(distinct) * MIN_ROWS_PER_LEVEL <= len(column)
                        and not is_model_magnitude(name))
            ranges.append(FeatureRange(name=name, min_value=distinct[0], max_value=distinct[-1],
                                       levels=tuple(distinct) if discrete else None))
        return cls(tuple(ranges))

    def outside(self, values: Sequence[float]) -> tuple[str, ...]:
        """The reasons one configuration (`values` in feature order) lies outside the space; () inside."""
        if len(values) != len(self.features):
            raise UsageError(f"expected {len(self.features)} feature values ({', '.join(self.names)}), "
                             f"got {len(values)}")
        reasons = (feature.outside(float(value)) for feature, value in zip(self.features, values))
        return tuple(reason for reason in reasons if reason is not None)

    def to_json(self) -> list[dict[str, Any]]:
        return [f.to_json() for f in self.features]

    @classmethod
    def from_json(cls, data: list[dict[str, Any]]) -> FeatureSpace:
        return cls(tuple(FeatureRange.from_json(item) for item in data))


def _same(value: float, level: float) -> bool:
    return abs(value - level) <= LEVEL_RELATIVE_TOLERANCE * max(1.0, abs(level))
