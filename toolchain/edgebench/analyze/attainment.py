"""Attainment surfaces of the random Pareto frontier (2 objectives), by moocore's empirical attainment function.

Each Monte-Carlo draw of `frontier_probability` (same seed, same draws) gives a non-dominated set; a point
of objective space is *attained* by a draw when some point of that draw's set is no worse in both
objectives. The p-attainment surface is the boundary of the region attained in at least p of the draws:
the 10 % surface is what the frontier reaches in optimistic draws, 50 % its median, 90 % what it reaches
almost always. Returned as a DataFrame: `level` (0..1) and one column per objective, the surface's corner
points sorted along the first objective.
"""
from __future__ import annotations

from typing import Sequence

import moocore
import numpy as np
import pandas as pd

from edgebench.analyze.frontier_probability import monte_carlo_draws, read_samples
from edgebench.analyze.fronts import _as_objectives, objective_matrix
from edgebench.analyze.objectives import Objective
from edgebench.errors import UsageError

DEFAULT_LEVELS = (0.1, 0.5, 0.9)


def attainment_surfaces(table: pd.DataFrame, objectives: str | Sequence[str] | Sequence[Objective],
                        samples: dict[str, str], levels: Sequence[float] = DEFAULT_LEVELS, *,
                        draws: int = 1000, seed: int = 0) -> pd.DataFrame:
    """The `levels` attainment surfaces of `table`'s random frontier under 2 `objectives`; `samples` maps
    objectives to columns of sample lists, as in `pareto` (same draws for the same seed)."""
    objs = _as_objectives(objectives)
    sampled = read_samples(table, objs, samples)
    medians = {name: np.array([float(np.median(s)) for s in rows]) for name, rows in sampled.items()
               if name not in table.columns}
    points = objective_matrix(table, objs, medians)
    return surfaces_of_points(points, objs, sampled, levels, draws=draws, seed=seed)


def surfaces_of_points(points: np.ndarray, objectives: Sequence[Objective], sampled: dict[str, list[np.ndarray]],
                       levels: Sequence[float] = DEFAULT_LEVELS, *, draws: int = 1000, seed: int = 0) -> pd.DataFrame:
    """As `attainment_surfaces`, over the checked rows × objectives matrix and per-row sample arrays."""
    if len(objectives) != 2:
        raise UsageError(f"attainment surfaces are drawn for 2 objectives, got {len(objectives)}"
                         f" ({', '.join(o.name for o in objectives)}): pick two")
    bad = [level for level in levels if not 0.0 < float(level) <= 1.0]
    if bad or not levels:
        raise UsageError(f"attainment levels {list(levels)}: expected fractions in (0, 1], e.g. 0.1,0.5,0.9")
    if not sampled:
        raise UsageError("attainment surfaces need samples of at least one objective: without them every draw"
                         " is the same frontier")
    if draws < 1:
        raise UsageError(f"--draws {draws}: expected a positive number of Monte-Carlo draws (default 1000)")
    if seed < 0:
        raise UsageError(f"--seed {seed}: expected a seed of 0 or more")
    # moocore minimises: maximised objectives enter negated and leave restored.
    sign = np.array([-1.0 if o.maximize else 1.0 for o in objectives])
    fronts, sets = [], []
    for index, drawn in enumerate(monte_carlo_draws(points, objectives, sampled, draws=draws, seed=seed)):
        minimised = drawn * sign
        front = minimised[moocore.is_nondominated(minimised)]
        fronts.append(front)
        sets.append(np.full(len(front), index))
    percentiles = [100.0 * float(level) for level in levels]
    eaf = moocore.eaf(np.vstack(fronts), np.concatenate(sets), percentiles=percentiles)
    out = pd.DataFrame({"level": eaf[:, 2] / 100.0})
    for i, objective in enumerate(objectives):
        out[objective.name] = eaf[:, i] * sign[i]
    return out.sort_values(["level", objectives[0].name], kind="stable").reset_index(drop=True)
