"""Objectives of a Pareto analysis: `NAME:min|max` specs, and the checked numeric matrix they select.

Every error says what was expected, what was received and what to do.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from edgebench.errors import UsageError

MIN_OBJECTIVES = 2
MAX_OBJECTIVES = 6


@dataclass(frozen=True)
class Objective:
    """One column to optimize: `maximize` False means smaller is better."""
    name: str
    maximize: bool

    def spec(self) -> str:
        return f"{self.name}:{'max' if self.maximize else 'min'}"


def parse_objectives(text: str | Sequence[str]) -> tuple[Objective, ...]:
    """`"latency_ms:min,accuracy:max"` (or a list of such items) -> objectives, 2 to 6 of them."""
    items = [p.strip() for p in (text.split(",") if isinstance(text, str) else text)]
    objectives: list[Objective] = []
    for item in items:
        name, sep, direction = item.rpartition(":")
        if not sep or not name.strip() or direction.strip().lower() not in ("min", "max"):
            raise UsageError(f"objective {item!r}: expected NAME:min or NAME:max (e.g. latency_ms:min,accuracy:max)")
        objectives.append(Objective(name.strip(), direction.strip().lower() == "max"))
    names = [o.name for o in objectives]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UsageError(f"objective {', '.join(duplicates)} is given twice: name each objective once")
    if not MIN_OBJECTIVES <= len(objectives) <= MAX_OBJECTIVES:
        raise UsageError(f"expected {MIN_OBJECTIVES} to {MAX_OBJECTIVES} objectives, got {len(objectives)}"
                         f" ({', '.join(names) or 'none'}): list them as NAME:min|max,NAME:min|max,...")
    return tuple(objectives)


def require_columns(table: pd.DataFrame, names: Sequence[str], what: str) -> None:
    missing = [n for n in names if n not in table.columns]
    if missing:
        raise UsageError(f"{what} {', '.join(map(repr, missing))} is not a column of the table;"
                         f" its columns are: {', '.join(map(str, table.columns))}")


def numeric_column(table: pd.DataFrame, name: str) -> np.ndarray:
    """The column as float64; a missing, non-numeric or infinite value names its row (1-based) and column."""
    values = pd.to_numeric(table[name], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        row = int(bad[0])
        raw = table[name].iloc[row]
        shown = "an empty cell" if raw is None or (isinstance(raw, float) and math.isnan(raw)) else repr(raw)
        raise UsageError(f"row {row + 1}, column {name!r}: expected a finite number, got {shown}"
                         f" ({bad.size} such row(s)): fix or drop those rows")
    return values


def check_table(table: pd.DataFrame) -> None:
    if len(table) < 2:
        raise UsageError(f"expected at least 2 rows to compare, got {len(table)}: give a table of several variants")


def check_not_constant(values: np.ndarray, objective: Objective) -> None:
    if float(np.ptp(values)) == 0.0:
        raise UsageError(f"objective {objective.name!r} is constant ({values[0]:g} in every row): it cannot rank"
                         " anything; drop it from --objectives")
