"""Pareto analysis of a table: fronts, the frontier, hypervolume and each row's exclusive contribution.

Numerics come from `moocore` (non-dominated sorting, hypervolume, contributions). Definitions (README,
"edgebench pareto"): row a dominates row b when a is no worse in every objective and better in one;
front 1 is the rows no row dominates, front k+1 those dominated only by rows of fronts 1..k.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import moocore
import numpy as np
import pandas as pd

from edgebench.analyze.objectives import (Objective, check_not_constant, check_table, numeric_column,
                                          parse_objectives, require_columns)
from edgebench.errors import UsageError

RESULT_COLUMNS = ("id", "on_frontier", "front", "hypervolume_contribution", "frontier_probability",
                  "expected_front", "efficiency_rank")
REFERENCE_MARGIN = 0.10  # default reference: each objective's worst value, 10 % of its range further out


def _maximise(objectives: Sequence[Objective]) -> list[bool]:
    return [o.maximize for o in objectives]


def fronts(points: np.ndarray, objectives: Sequence[Objective]) -> np.ndarray:
    """Front of each row, 1 = non-dominated (equal rows share a front)."""
    return np.asarray(moocore.pareto_rank(points, maximise=_maximise(objectives)), dtype=int) + 1


def on_frontier(points: np.ndarray, objectives: Sequence[Objective]) -> np.ndarray:
    """True for rows no other row dominates (duplicates of a frontier row are on it too)."""
    return np.asarray(moocore.is_nondominated(points, maximise=_maximise(objectives), keep_weakly=True), dtype=bool)


def default_reference(points: np.ndarray, objectives: Sequence[Objective]) -> np.ndarray:
    """Each objective's worst value moved 10 % of its range further out (so the worst rows still count)."""
    low, high = points.min(axis=0), points.max(axis=0)
    margin = REFERENCE_MARGIN * (high - low)
    return np.array([low[i] - margin[i] if o.maximize else high[i] + margin[i] for i, o in enumerate(objectives)])


def hypervolume(points: np.ndarray, objectives: Sequence[Objective], reference: np.ndarray) -> float:
    """Volume of objective space dominated by the rows and bounded by `reference` (rows not strictly
    better than the reference in every objective add nothing)."""
    return float(moocore.hypervolume(points, ref=reference, maximise=_maximise(objectives)))


def hypervolume_contributions(points: np.ndarray, objectives: Sequence[Objective],
                              reference: np.ndarray) -> np.ndarray:
    """Exclusive contribution of each row: hypervolume of all rows minus that without the row
    (0 for dominated rows and for each of several equal rows). Dominated rows count: removing a frontier
    row uncovers what they dominate, which moocore's faster default (ignore_dominated) would leave out."""
    return np.asarray(moocore.hv_contributions(points, ref=reference, maximise=_maximise(objectives),
                                               ignore_dominated=False), dtype=float)


@dataclass(frozen=True)
class ParetoAnalysis:
    """The result of `pareto`: one row per input row (input order) and the set's hypervolume.

    `rows` columns: id, the objectives, on_frontier, front, hypervolume_contribution, and with samples
    frontier_probability, expected_front, efficiency_rank.
    """
    rows: pd.DataFrame
    objectives: tuple[Objective, ...]
    hypervolume: float
    reference: tuple[float, ...]
    reference_given: bool  # False: the default (worst value + 10 % of the range per objective)
    draws: int | None = None  # Monte-Carlo draws behind frontier_probability; None without samples
    seed: int | None = None


def objective_matrix(table: pd.DataFrame, objectives: Sequence[Objective],
                     point_values: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """rows × objectives, checked; `point_values` stands in for objectives that are not columns."""
    point_values = point_values or {}
    require_columns(table, [o.name for o in objectives if o.name not in point_values], "objective")
    columns = [point_values[o.name] if o.name in point_values else numeric_column(table, o.name) for o in objectives]
    points = np.column_stack(columns).astype(float)
    for i, objective in enumerate(objectives):
        check_not_constant(points[:, i], objective)
    return points


def pareto(table: pd.DataFrame, objectives: str | Sequence[str] | Sequence[Objective], *,
           id_col: str | None = None, reference: Sequence[float] | None = None,
           samples: dict[str, str] | None = None, draws: int = 1000, seed: int = 0) -> ParetoAnalysis:
    """Fronts, frontier, hypervolume and contributions of `table` under `objectives`; with `samples`
    (objective -> column of JSON lists), frontier probability and efficiency rank over `draws` draws."""
    from edgebench.analyze.frontier_probability import frontier_probability, read_samples

    objs = _as_objectives(objectives)
    clashing = [o.name for o in objs if o.name in RESULT_COLUMNS]
    if clashing:
        raise UsageError(f"objective {', '.join(map(repr, clashing))} has the name of a result column"
                         f" ({', '.join(RESULT_COLUMNS)}): rename that column of the table")
    check_table(table)
    if id_col is not None:
        require_columns(table, [id_col], "--id-col")
        missing = np.flatnonzero(table[id_col].isna().to_numpy())
        if missing.size:
            raise UsageError(f"row {int(missing[0]) + 1}, column {id_col!r}: expected an id, got an empty cell"
                             " (--id-col names each row): fill it in or drop the row")
    ids = table[id_col].tolist() if id_col is not None else list(range(1, len(table) + 1))
    sampled = read_samples(table, objs, samples or {})
    medians = {name: np.array([float(np.median(s)) for s in rows]) for name, rows in sampled.items()
               if name not in table.columns}
    points = objective_matrix(table, objs, medians)
    if reference is None:
        ref = default_reference(points, objs)
    else:
        ref = np.asarray(list(reference), dtype=float)
        if ref.shape != (len(objs),) or not np.all(np.isfinite(ref)):
            raise UsageError(f"reference {list(reference)}: expected {len(objs)} finite numbers, one per objective"
                             f" ({', '.join(o.name for o in objs)}), in that order")
    out = pd.DataFrame({"id": ids})
    for i, objective in enumerate(objs):
        out[objective.name] = points[:, i]
    out["on_frontier"] = on_frontier(points, objs)
    out["front"] = fronts(points, objs)
    out["hypervolume_contribution"] = hypervolume_contributions(points, objs, ref)
    if sampled:
        probability = frontier_probability(points, objs, sampled, draws=draws, seed=seed)
        out["frontier_probability"] = probability.frontier_probability
        out["expected_front"] = probability.expected_front
        out["efficiency_rank"] = probability.efficiency_rank
    return ParetoAnalysis(out, objs, hypervolume(points, objs, ref), tuple(float(v) for v in ref),
                          reference is not None, draws if sampled else None, seed if sampled else None)


def _as_objectives(objectives: str | Sequence[str] | Sequence[Objective]) -> tuple[Objective, ...]:
    if isinstance(objectives, str):
        return parse_objectives(objectives)
    items = list(objectives)
    if items and all(isinstance(o, Objective) for o in items):
        return parse_objectives([o.spec() for o in items if isinstance(o, Objective)])
    return parse_objectives([str(o) for o in items])
