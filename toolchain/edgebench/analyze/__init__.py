"""Analysis of stored results: pure functions over tables (pandas DataFrames in, DataFrames or typed
frozen records out). Reads records, the store and stats only: never devices, targets, bench runs or
TensorFlow.
"""
from __future__ import annotations

from edgebench.analyze.objectives import Objective, parse_objectives
from edgebench.analyze.pareto import ParetoAnalysis, pareto

__all__ = ["Objective", "ParetoAnalysis", "parse_objectives", "pareto"]
