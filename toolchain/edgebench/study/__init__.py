"""Studies: run a study spec end to end (train, tune, optimize, measure, report); see `study.run`.

The spec itself lives in `edgebench.spec`. Its names are re-exported here so that the documented
`from edgebench.study import load_spec` keeps working.
"""
from __future__ import annotations

from edgebench.spec import (MeasureSpec, OptimizeSpec, SearchDimension, SpecError, StudySpec, TuningSpec, load_spec,
                            parse_spec)

__all__ = ["MeasureSpec", "OptimizeSpec", "SearchDimension", "SpecError", "StudySpec", "TuningSpec", "load_spec",
           "parse_spec"]
