"""The report `study run` writes, and `edgebench report --study` writes again: the analysis report
(report/analysis_html.py) of the study's variant table (analyze.study_table: its rows with the stored runs'
raw samples), with the stored device traces and the hyperparameter effects and sensitivity."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from edgebench.report.analysis_html import write_report
from edgebench.report.inputs import DEFAULT_OBJECTIVES, ReportInputs, build_inputs, hyperparameter_analyses
from edgebench.report.traces import stored_traces

STUDY_FACTS = ("spec", "spec_hash", "target", "protocol", "session", "optuna_study", "objectives", "tune_figures",
               "variants_for", "energy")


def stored_report_inputs(table: pd.DataFrame, *, title: str, meta: Mapping[str, Any],
                         workspace: str | os.PathLike[str] | None, objectives: str = DEFAULT_OBJECTIVES,
                         draws: int = 1000, seed: int = 0) -> ReportInputs:
    """Everything a report of stored results shows: fronts, traces of the table's runs, effects, sensitivity."""
    traces, traces_note = stored_traces(table, workspace)
    effects, effects_note, sensitivity, sensitivity_note = hyperparameter_analyses(table, seed=seed)
    return build_inputs(table, title=title, objectives=objectives, effects=effects, sensitivity=sensitivity,
                        effects_note=effects_note, sensitivity_note=sensitivity_note, traces=traces,
                        traces_note=traces_note, meta=meta, draws=draws, seed=seed)


def write_study_report(study_json: Path, path: Path, *, workspace: str | os.PathLike[str] | None = None,
                       draws: int = 1000, seed: int = 0) -> Path:
    """The study's report.html from its study.json and the workspace's results store."""
    from edgebench.analyze.variant_table import study_table, study_workspace

    meta = json.loads(study_json.read_text())
    table = study_table(study_json, workspace=workspace)
    workspace = study_workspace(study_json, workspace)
    facts = {k: meta[k] for k in STUDY_FACTS if meta.get(k) is not None}
    inputs = stored_report_inputs(table, title=f"Study {meta.get('spec_name')} ({meta.get('budget')})", meta=facts,
                                  workspace=workspace, draws=draws, seed=seed)
    return write_report(inputs, path)
