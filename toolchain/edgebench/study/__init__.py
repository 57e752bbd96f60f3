"""Studies: TOML specs (models/*.toml) describing what to train, tune, optimize and measure.

`load_spec(path, budget="full")` returns a validated, frozen `StudySpec`. Nothing here imports
TensorFlow.
"""
from __future__ import annotations

from edgebench.study.spec import (MeasureSpec, OptimizeSpec, SearchDimension, SpecError, StudySpec, TuningSpec,
                                  load_spec, parse_spec)

__all__ = ["MeasureSpec", "OptimizeSpec", "SearchDimension", "SpecError", "StudySpec", "TuningSpec", "load_spec",
           "parse_spec"]
