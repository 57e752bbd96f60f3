"""A spec's search space as Optuna suggestions, and as a finite grid for the grid sampler.

Fixed dimensions (one choice) are not suggested: they keep the spec's default, so samplers and
grids only see what actually varies.
"""
from __future__ import annotations

import math
from typing import Any

from edgebench.spec import SearchDimension, StudySpec

GRID_POINTS = 3  # points per continuous range in a grid: low, middle, high


def tunable(spec: StudySpec) -> tuple[SearchDimension, ...]:
    return tuple(d for d in spec.search_space if not d.fixed)


def suggest(trial: Any, dim: SearchDimension) -> Any:
    """Ask `trial` for a value of `dim` (categorical, int or float range)."""
    if dim.choices is not None:
        return trial.suggest_categorical(dim.name, list(dim.choices))
    low, high = _range(dim)
    if dim.kind == "int":
        step = int(dim.step) if dim.step and not dim.log else 1
        return trial.suggest_int(dim.name, int(low), int(high), step=step, log=dim.log)
    return trial.suggest_float(dim.name, float(low), float(high), log=dim.log,
                               step=None if dim.log else dim.step)


def _range(dim: SearchDimension) -> tuple[float, float]:
    """The bounds of an int or float dimension (the spec's parser requires both for ranges)."""
    if dim.low is None or dim.high is None:
        raise ValueError(f"search dimension {dim.name!r} is a range without bounds (low={dim.low}, high={dim.high})")
    return dim.low, dim.high


def suggest_all(trial: Any, spec: StudySpec) -> dict[str, Any]:
    return {d.name: suggest(trial, d) for d in tunable(spec)}


def grid(spec: StudySpec, points: int = GRID_POINTS) -> dict[str, list[Any]]:
    """A finite grid over the tunable dimensions: every choice; ints fully when small, else
    `points` spread values; floats `points` values (geometric when log-scaled)."""
    out: dict[str, list[Any]] = {}
    for d in tunable(spec):
        if d.choices is not None:
            out[d.name] = list(d.choices)
            continue
        low, high = _range(d)
        if d.kind == "int" and int(high) - int(low) < points:
            out[d.name] = list(range(int(low), int(high) + 1))
        else:
            lo, hi = float(low), float(high)
            if d.log:
                vals = [math.exp(math.log(lo) + i * (math.log(hi) - math.log(lo)) / (points - 1)) for i in range(points)]
            else:
                vals = [lo + i * (hi - lo) / (points - 1) for i in range(points)]
            out[d.name] = sorted({int(round(v)) for v in vals}) if d.kind == "int" else vals
    return out


def grid_size(spec: StudySpec) -> int:
    return math.prod(len(v) for v in grid(spec).values())
