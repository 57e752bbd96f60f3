"""The random Pareto frontier: how often each row is non-dominated when objectives are drawn from samples.

In each of B Monte-Carlo draws every row takes, for each sampled objective, one of its own samples
(uniformly at random) and its fixed value for the others; frontier_probability is the share of draws in
which the row is non-dominated, expected_front its mean front, efficiency_rank the rank by
frontier_probability (highest first), ties broken by expected_front (lowest first).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterator, Sequence

import moocore
import numpy as np
import pandas as pd

from edgebench.analyze.objectives import Objective, require_columns
from edgebench.errors import UsageError


@dataclass(frozen=True)
class FrontierProbability:
    """Per row, in input order."""
    frontier_probability: np.ndarray  # share of draws in which the row is non-dominated, 0..1
    expected_front: np.ndarray  # mean front over the draws (1 = non-dominated)
    efficiency_rank: np.ndarray  # 1 = most often efficient; equal probability and expected front share a rank


def parse_sample_specs(specs: Sequence[str]) -> dict[str, str]:
    """`["latency_ms=latency_samples", ...]` -> {objective: column}."""
    parsed: dict[str, str] = {}
    for spec in specs:
        objective, sep, column = spec.partition("=")
        if not sep or not objective.strip() or not column.strip():
            raise UsageError(f"--samples {spec!r}: expected OBJECTIVE=COLUMN (e.g. latency_ms=latency_samples),"
                             " the column holding a JSON list of that objective's samples per row")
        parsed[objective.strip()] = column.strip()
    return parsed


def read_samples(table: pd.DataFrame, objectives: Sequence[Objective],
                 samples: dict[str, str]) -> dict[str, list[np.ndarray]]:
    """{objective: one array of samples per row}, from columns of JSON lists of numbers."""
    names = [o.name for o in objectives]
    unknown = [name for name in samples if name not in names]
    if unknown:
        raise UsageError(f"--samples names {', '.join(map(repr, unknown))}, which is not an objective;"
                         f" the objectives are: {', '.join(names)}")
    require_columns(table, list(samples.values()), "samples column")
    return {name: [_sample_list(cell, row, column) for row, cell in enumerate(table[column].tolist())]
            for name, column in samples.items()}


def _sample_list(cell: object, row: int, column: str) -> np.ndarray:
    expected = f"row {row + 1}, column {column!r}: expected a non-empty JSON list of numbers (e.g. [12.1, 12.4])"
    if isinstance(cell, np.ndarray) and cell.ndim == 1 and cell.size and cell.dtype.kind in "fiu":
        if not np.all(np.isfinite(cell)):  # an array made in Python (e.g. bootstrap values): no per-item checks
            raise UsageError(f"{expected}, got an array with non-finite values")
        return cell.astype(float, copy=False)
    if isinstance(cell, (list, tuple, np.ndarray)):
        values: object = list(cell)
    else:
        try:
            values = json.loads(str(cell))
        except ValueError:
            raise UsageError(f"{expected}, got {cell!r}: write each row's samples as a JSON list") from None
    if (not isinstance(values, list) or not values
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)):
        raise UsageError(f"{expected}, got {cell!r}: write each row's samples as a JSON list")
    array = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(array)):
        raise UsageError(f"{expected}, got {cell!r} (not every sample is finite)")
    return array


def frontier_probability(points: np.ndarray, objectives: Sequence[Objective],
                         sampled: dict[str, list[np.ndarray]], *, draws: int = 1000,
                         seed: int = 0) -> FrontierProbability:
    """Monte-Carlo frontier probability of each row of `points` (rows × objectives, fixed values for
    objectives without samples); reproducible for a given seed."""
    if draws < 1:
        raise UsageError(f"--draws {draws}: expected a positive number of Monte-Carlo draws (default 1000)")
    if seed < 0:
        raise UsageError(f"--seed {seed}: expected a seed of 0 or more")
    n_rows = points.shape[0]
    maximise = [o.maximize for o in objectives]
    nondominated = np.zeros(n_rows)
    front_sum = np.zeros(n_rows)
    for drawn in monte_carlo_draws(points, objectives, sampled, draws=draws, seed=seed):
        front = np.asarray(moocore.pareto_rank(drawn, maximise=maximise))
        nondominated += front == 0
        front_sum += front + 1
    probability = nondominated / draws
    expected = front_sum / draws
    return FrontierProbability(probability, expected, efficiency_ranks(probability, expected))


def monte_carlo_draws(points: np.ndarray, objectives: Sequence[Objective], sampled: dict[str, list[np.ndarray]],
                      *, draws: int, seed: int) -> Iterator[np.ndarray]:
    """The B drawn matrices (rows × objectives): each sampled objective takes one of the row's own samples,
    uniformly at random, the others their fixed value. The same seed gives the same draws, so frontier
    probability and attainment surfaces of one analysis describe the same random frontiers.
    The yielded array is reused between draws: copy what you keep."""
    n_rows = points.shape[0]
    rng = np.random.default_rng(seed)
    # Pad each objective's samples into rows × longest list; draw an index below each row's own length.
    padded: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for i, objective in enumerate(objectives):
        if objective.name in sampled:
            rows = sampled[objective.name]
            lengths = np.array([len(r) for r in rows])
            table = np.zeros((n_rows, int(lengths.max())))
            for r, values in enumerate(rows):
                table[r, :len(values)] = values
            padded[i] = (table, lengths)
    row_index = np.arange(n_rows)
    drawn = points.astype(float, copy=True)
    for _ in range(draws):
        for i, (table, lengths) in padded.items():
            drawn[:, i] = table[row_index, (rng.random(n_rows) * lengths).astype(int)]
        yield drawn


def efficiency_ranks(probability: np.ndarray, expected_front: np.ndarray) -> np.ndarray:
    """1 for the highest frontier probability; ties by the lower expected front; full ties share a rank."""
    order = np.lexsort((expected_front, -probability))  # last key sorts first
    ranks = np.empty(len(order), dtype=int)
    previous: tuple[float, float] | None = None
    rank = 0
    for position, row in enumerate(order, start=1):
        key = (float(probability[row]), float(expected_front[row]))
        if key != previous:
            rank, previous = position, key
        ranks[row] = rank
    return ranks
