"""Study specs: TOML files (models/*.toml) saying what to train, tune, optimize and measure.

`load_spec(path, budget="full")` returns a validated, frozen `StudySpec`. Read by `train`, `tune`
and `study`; nothing here imports TensorFlow.
"""
from __future__ import annotations

from edgebench.spec.study_spec import (MeasureSpec, OptimizeSpec, SearchDimension, SpecError, StudySpec, TuningSpec,
                                       load_spec, parse_spec)

__all__ = ["MeasureSpec", "OptimizeSpec", "SearchDimension", "SpecError", "StudySpec", "TuningSpec", "load_spec",
           "parse_spec"]
