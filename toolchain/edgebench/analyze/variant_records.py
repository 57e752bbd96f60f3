"""The records of a variant table's Pareto analysis (analyze/variant_pareto.py): one per device, the rows
left out with their reasons, how each objective was sampled, and the ranking across devices."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from edgebench.analyze.fronts import ParetoAnalysis
from edgebench.analyze.objectives import Objective


@dataclass(frozen=True)
class Excluded:
    id: str
    reason: str


@dataclass(frozen=True)
class SampleUse:
    """How one objective was drawn in one analysis: `model` None = fixed in every row."""
    objective: str
    model: str | None
    rows_sampled: int
    rows_fixed: int


@dataclass(frozen=True)
class DeviceAnalysis:
    """One device's analysis (device None: the table has one device or none)."""
    device: str | None
    analysis: ParetoAnalysis | None  # None when skipped
    excluded: tuple[Excluded, ...]
    samples: tuple[SampleUse, ...]
    attainment: pd.DataFrame | None  # 2 objectives with samples only
    skipped: str | None = None  # why there is no analysis


@dataclass(frozen=True)
class VariantPareto:
    objectives: tuple[Objective, ...]
    analyses: tuple[DeviceAnalysis, ...]
    excluded: tuple[Excluded, ...]  # rows that ran on no device, in a table of several devices
    across: pd.DataFrame | None  # --across-devices (analyze.across_devices)
    draws: int
    seed: int
