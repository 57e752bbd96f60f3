"""Analysis of stored results: pure functions over tables (pandas DataFrames in, DataFrames or typed
frozen records out). Reads records, the store and stats only: never devices, targets, bench runs or
TensorFlow.

    study_table(study) / session_table(session)    the variant table of a study or a store session
    pareto(df, objectives, ...)                      fronts, hypervolume, contributions, frontier probability
    pareto_of_variants(table, objectives, ...)       the same per device, samples from the stored runs
    attainment_surfaces(df, objectives, samples)     10/50/90 % attainment surfaces (2 objectives)
    effects(table, ...)                              hyperparameter effects, top-k spread, rank changes
    sensitivity(table, ...)                          hyperparameter sensitivity under pruning
    compare(a_repeats, b_repeats, ...)               B vs A: ratio with a CI, verdict, repeats needed
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edgebench.analyze.attainment import attainment_surfaces
    from edgebench.analyze.comparison import Comparison, compare
    from edgebench.analyze.hyperparameter_effects import Effects, effects
    from edgebench.analyze.fronts import ParetoAnalysis, pareto
    from edgebench.analyze.objectives import Objective, parse_objectives
    from edgebench.analyze.pruning_sensitivity import Sensitivity, sensitivity
    from edgebench.analyze.variant_pareto import pareto_of_variants
    from edgebench.analyze.variant_records import VariantPareto
    from edgebench.analyze.variant_table import PROPERTIES, session_table, study_table

# Loaded on first use: `edgebench pareto FILE` needs fronts alone, not scipy.stats, the store and the rest.
_HOME = {
    "attainment_surfaces": "attainment", "Comparison": "comparison", "compare": "comparison",
    "Effects": "hyperparameter_effects", "effects": "hyperparameter_effects", "ParetoAnalysis": "fronts",
    "pareto": "fronts", "Objective": "objectives", "parse_objectives": "objectives",
    "Sensitivity": "pruning_sensitivity", "sensitivity": "pruning_sensitivity",
    "pareto_of_variants": "variant_pareto", "VariantPareto": "variant_records", "PROPERTIES": "variant_table",
    "session_table": "variant_table", "study_table": "variant_table",
}
__all__ = ["PROPERTIES", "Comparison", "Effects", "Objective", "ParetoAnalysis", "Sensitivity", "VariantPareto",
           "attainment_surfaces", "compare", "effects", "parse_objectives", "pareto", "pareto_of_variants",
           "sensitivity", "session_table", "study_table"]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'edgebench.analyze' has no attribute {name!r}")
    return getattr(importlib.import_module(f"edgebench.analyze.{_HOME[name]}"), name)
