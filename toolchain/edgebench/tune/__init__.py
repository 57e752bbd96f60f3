"""Hyperparameter tuning with Optuna: `run_tuning(spec, store=..., workspace=...)` -> `TuningResult`.

Samplers: grid, random, TPE and BOHB-style TPE + Hyperband pruning for validation accuracy;
NSGA-II (or multi-objective TPE / random) over accuracy, .tflite size and on-device latency.
Optuna and TensorFlow are imported only when a study runs.
"""
from __future__ import annotations

from edgebench.tune.storage import default_storage
from edgebench.tune.study import (MULTI_SAMPLERS, OBJECTIVES, SINGLE_SAMPLERS, TrialSummary, TuningResult, run_tuning,
                                  study_name)

__all__ = ["MULTI_SAMPLERS", "OBJECTIVES", "SINGLE_SAMPLERS", "TrialSummary", "TuningResult", "default_storage",
           "run_tuning", "study_name"]
