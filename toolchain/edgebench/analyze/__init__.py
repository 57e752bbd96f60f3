"""Analysis of stored results: pure functions over tables (pandas DataFrames in, DataFrames or typed
frozen records out). Reads records, the store and stats only: never devices, targets, bench runs or
TensorFlow.

`objectives` (NAME:min|max specs, checked columns), `fronts` (non-dominated sorting, hypervolume,
contributions; `pareto`), `frontier_probability` (Monte-Carlo frontier probability from samples).
"""
from __future__ import annotations

from edgebench.analyze.fronts import ParetoAnalysis, pareto
from edgebench.analyze.objectives import Objective, parse_objectives

__all__ = ["Objective", "ParetoAnalysis", "parse_objectives", "pareto"]
