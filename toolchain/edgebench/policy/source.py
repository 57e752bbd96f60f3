"""Read a study's or a session's variant table and the stored runs and devices it names (for `measured`)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from edgebench.analyze.variant_table import session_table, study_table, study_workspace, workspace_root
from edgebench.errors import UsageError
from edgebench.records import RunRecord
from edgebench.store import ResultsStore
from edgebench.workspace import Workspace


@dataclass(frozen=True)
class MeasuredSource:
    table: pd.DataFrame
    runs: dict[str, RunRecord]
    devices: dict[str, dict[str, Any]]
    description: dict[str, Any]  # what the policy's "source" records


def load_source(*, study: str | None, session: str | None,
                workspace: str | os.PathLike[str] | None) -> MeasuredSource:
    if (study is None) == (session is None):
        raise UsageError("give exactly one of --study S or --session S")
    if study is not None:
        table = study_table(study, workspace=workspace)
        root = study_workspace(study, workspace)
        description = {"study": study}
    else:
        assert session is not None
        table = session_table(session, workspace=workspace)
        root = workspace_root(workspace)
        description = {"session": session}
    run_ids = [str(i) for ids in table["run_ids"] for i in (ids or [])]
    device_ids = sorted({str(d) for d in table["device_id"] if d is not None})
    store = ResultsStore(Workspace(Path(root)).results_store)
    try:
        runs = {r.run_id: r for r in store.runs_by_ids(run_ids)}
        devices = store.devices(device_ids)
    finally:
        store.close()
    return MeasuredSource(table, runs, devices, description)
