"""The variant table: one row per variant × device × run config of a study or a store session.

    study_table(study, workspace=None)    # a study folder, its study.json, or a folder name under <ws>/studies/
    session_table(session, workspace=None)

Every analysis (pareto, effects, sensitivity, compare, the report) reads this table; its columns are
the contract of issue #13. Unknown values are NaN / None, never 0. Measurements come
from the results store (runs, summaries, raw latency samples, energy), the model facts (accuracy, test
set size, training time) from the lineage records the store keeps of each artifact.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from edgebench.analyze.variant_rows import ModelFacts, facts_from_lineage, measurement_rows, recipe_parts
from edgebench.errors import UsageError
from edgebench.store import ResultsStore
from edgebench.workspace import DEFAULT_WORKSPACE, STORE_ENV, Workspace


@dataclass(frozen=True)
class Property:
    """A property column of the variant table that analyses can rank or compare."""
    name: str
    maximize: bool  # its natural direction
    unit: str
    label: str


PROPERTIES: dict[str, Property] = {p.name: p for p in (
    Property("accuracy", True, "fraction", "test accuracy (LiteRT, this host)"),
    Property("val_accuracy", True, "fraction", "validation accuracy"),
    Property("latency_ms", False, "ms", "median latency (median of the repeats' medians)"),
    Property("latency_p90_ms", False, "ms", "p90 latency (median of the repeats' p90)"),
    Property("energy_mj", False, "mJ", "energy per inference"),
    Property("size_bytes", False, "bytes", ".tflite size"),
    Property("gzip_size_bytes", False, "bytes", ".tflite size after gzip -9"),
    Property("peak_memory_kb", False, "kB", "peak resident memory"),
    Property("training_s", False, "s", "training + fine-tuning time"),
)}

COLUMNS = ("id", "source", "trained_id", "variant", "transform", "quantization", "sparsity", "tflite_sha256",
           "device_id", "device_model", "device_kind", "config", "protocol", "status", "valid", "verdict_allowed",
           "repeats_ok", "repeats_total", "accuracy", "accuracy_n", "val_accuracy", "latency_ms", "latency_p90_ms",
           "energy_mj", "size_bytes", "gzip_size_bytes", "peak_memory_kb", "training_s", "latency_repeats_ms",
           "energy_samples_mj", "latency_source", "energy_source", "run_ids")


def workspace_root(workspace: str | os.PathLike[str] | None) -> Path:
    """The workspace folder as edgebench resolves it (--workspace, EDGEBENCH_WORKSPACE, ./edgebench-work),
    without creating it: reading must not leave empty workspaces behind."""
    chosen = workspace or os.environ.get("EDGEBENCH_WORKSPACE") or DEFAULT_WORKSPACE
    return Path(chosen).expanduser().resolve()


def find_study(study: str | os.PathLike[str], workspace: str | os.PathLike[str] | None = None) -> Path:
    """The study.json that `study` names: a study.json file, a folder holding one, or the name (or the
    unique beginning of the name) of a folder under <workspace>/studies/."""
    path = Path(study).expanduser()
    if path.is_file():
        return path
    if path.is_dir():
        if (path / "study.json").is_file():
            return path / "study.json"
        raise UsageError(f"study folder {path} holds no study.json: give the folder `edgebench study run` wrote"
                         " (<workspace>/studies/<name>-<budget>-<hash>)")
    studies = workspace_root(workspace) / "studies"
    known = sorted(d.name for d in studies.iterdir() if (d / "study.json").is_file()) if studies.is_dir() else []
    matches = [n for n in known if n == str(study)] or [n for n in known if n.startswith(str(study))]
    if len(matches) == 1:
        return studies / matches[0] / "study.json"
    listing = ", ".join(known) if known else "none (run `edgebench study run SPEC` first)"
    if matches:
        raise UsageError(f"study {str(study)!r} is ambiguous in {studies}: {', '.join(matches)}; give more of the name")
    raise UsageError(f"no study {str(study)!r}: not a study.json, not a folder, and not a study in {studies};"
                     f" studies there: {listing}")


def _store_root(study_json: Path, workspace: str | os.PathLike[str] | None) -> Path:
    """--workspace when given; else the workspace the study folder sits in (<ws>/studies/<name>/study.json)."""
    if workspace is not None:
        return workspace_root(workspace)
    folder = study_json.resolve().parent
    if folder.parent.name == "studies" and (folder.parent.parent / "results.sqlite").is_file():
        return folder.parent.parent
    return workspace_root(None)


def study_workspace(study: str | os.PathLike[str], workspace: str | os.PathLike[str] | None = None) -> Path:
    """The workspace whose results store holds a study's runs (see `_store_root`)."""
    return _store_root(find_study(study, workspace), workspace)


def _open_store(root: Path) -> ResultsStore | None:
    """The workspace's results store (Workspace.results_store: $EDGEBENCH_STORE, e.g. a lab's PostgreSQL,
    else its SQLite file); None for a workspace without one: opening a missing file would create it."""
    workspace = Workspace(root)
    if not os.environ.get(STORE_ENV) and not workspace.results_db.is_file():
        return None
    return ResultsStore(workspace.results_store)


def study_table(study: str | os.PathLike[str], *, workspace: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The variant table of a study: every study.json row, once per device × config it ran on: the study's own
    runs and any later stored run of the same .tflite (profile-battery on a phone, a rerun on another device)."""
    path = find_study(study, workspace)
    try:
        data = json.loads(path.read_text())
        rows = data["rows"]
        bad = next((i for i, r in enumerate(rows) if not isinstance(r, dict) or "source" not in r
                    or "variant" not in r), None)
        if bad is not None:
            raise KeyError(f"row {bad + 1} lacks source or variant")
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path}: expected the study.json `edgebench study run` writes (an object with"
                         f" \"rows\"), could not read it: {exc}") from None
    root = _store_root(path, workspace)
    store = _open_store(root)
    wanted = [str(i) for r in rows for i in (r.get("run_ids") or [])]
    if store is None and wanted:
        raise UsageError(f"{path} names {len(wanted)} stored run(s), but {root} has no results.sqlite: give"
                         " the workspace that ran the study (--workspace DIR)")
    try:
        runs = {r.run_id: r for r in store.runs_by_ids(wanted)} if store is not None else {}
        lost = [i for i in wanted if i not in runs]
        if lost:
            raise UsageError(f"{path} names run(s) {', '.join(lost[:3])} that the results store {root / 'results.sqlite'}"
                             f" lacks ({len(lost)} of {len(wanted)}): give the workspace that ran the study"
                             " (--workspace DIR)")
        out: list[dict[str, Any]] = []
        for row in rows:
            sha = row.get("tflite_sha256")
            facts = _study_facts(row, store)
            model_runs = [runs[i] for i in (row.get("run_ids") or [])]
            if sha is not None and store is not None:  # later measurements of the same file, e.g. battery runs
                known = {r.run_id for r in model_runs}  # of the study's frontier on a phone
                model_runs += [r for r in store.runs_of_model(str(sha)) if r.run_id not in known]
            # Without a .tflite the study row says why (build_failed; trial_failed / trial_pruned for a tuning
            # trial that never trained a model); with one and no ok run, it failed to run.
            status = str(row.get("status") or "build_failed") if sha is None else "run_failed"
            out.extend(measurement_rows(facts, model_runs, store, no_run_status=status))
    finally:
        if store is not None:
            store.close()
    return _finish(out, several_sources=True)


def _study_facts(row: dict[str, Any], store: ResultsStore | None) -> ModelFacts:
    variant = str(row["variant"])  # "" for a tuning trial that never trained a model
    transform, quantization, sparsity = recipe_parts(variant) if variant else (None, None, float("nan"))
    lineage = facts_from_lineage(store, row.get("tflite_sha256"), variant) if store is not None else None
    size, gzip_size = row.get("size_bytes"), row.get("gzip_size_bytes")
    return ModelFacts(
        label=f"{row['source']}/{variant}" if variant else str(row["source"]), source=str(row["source"]), trained_id=row.get("trained_id"),
        variant=variant, transform=transform, quantization=quantization, sparsity=sparsity,
        tflite_sha256=row.get("tflite_sha256"), hyperparameters=dict(row.get("hyperparameters") or {}),
        accuracy=_number(row.get("test_accuracy")), accuracy_n=lineage.accuracy_n if lineage else float("nan"),
        val_accuracy=_number(row.get("val_accuracy")),
        size_bytes=_number(size), gzip_size_bytes=_number(gzip_size),
        training_s=lineage.training_s if lineage else float("nan"))


def session_table(session: str, *, workspace: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The variant table of a store session: every model × device × config it ran."""
    root = workspace_root(workspace)
    store = _open_store(root)
    if store is None:
        raise UsageError(f"no session {session!r}: {root} has no results store (results.sqlite); give the"
                         " workspace that ran it (--workspace DIR)")
    try:
        if not store.has_session(session):
            known = store.session_names()
            listing = ", ".join(known[:10]) + (f" (and {len(known) - 10} more)" if len(known) > 10 else "")
            raise UsageError(f"no session {session!r} in {root / 'results.sqlite'}; sessions there, newest first:"
                             f" {listing or 'none'} (see `edgebench results list`)")
        by_model: dict[tuple[str, str], list[Any]] = {}
        for run in store.runs(session):
            by_model.setdefault((run.model, run.model_sha256), []).append(run)
        out: list[dict[str, Any]] = []
        for (model, sha), runs in by_model.items():
            lineage = facts_from_lineage(store, sha, None)
            transform, quantization, sparsity = recipe_parts(lineage.variant) if lineage.variant else (None, None, float("nan"))
            facts = ModelFacts(
                label=model, source="", trained_id=lineage.trained_id, variant=model, transform=transform,
                quantization=quantization, sparsity=sparsity, tflite_sha256=sha,
                hyperparameters=lineage.hyperparameters, accuracy=lineage.accuracy, accuracy_n=lineage.accuracy_n,
                val_accuracy=lineage.val_accuracy, size_bytes=float(runs[0].model_size_bytes),
                gzip_size_bytes=lineage.gzip_size_bytes, training_s=lineage.training_s)
            out.extend(measurement_rows(facts, runs, store, no_run_status="run_failed"))
    finally:
        store.close()
    return _finish(out, several_sources=False)


def _finish(rows: list[dict[str, Any]], *, several_sources: bool) -> pd.DataFrame:
    """Ids (device and config appended only when the table has several), hp.* columns, contract order."""
    hp_names = sorted({name for r in rows for name in r["hyperparameters"]})
    devices = {r["device_id"] for r in rows if r["device_id"] is not None}
    configs = {r["config"] for r in rows if r["config"] is not None}
    labels = device_labels((r["device_id"], r["device_model"]) for r in rows if r["device_id"] is not None)
    for r in rows:
        label = r.pop("label")
        if len(configs) > 1 and r["config"] is not None:
            label += f" {r['config']}"
        if len(devices) > 1 and r["device_id"] is not None:
            label += f" on {labels[r['device_id']]}"
        r["id"] = label
    counts = pd.Series([r["id"] for r in rows]).value_counts() if rows else pd.Series(dtype=int)
    for r in rows:  # two files of one name in a session, or a study listing a variant twice
        if counts.get(r["id"], 0) > 1 and r["tflite_sha256"]:
            r["id"] += f" [{str(r['tflite_sha256'])[:8]}]"
    table = pd.DataFrame([{**{c: r[c] for c in COLUMNS},
                           **{f"hp.{n}": r["hyperparameters"].get(n) for n in hp_names}} for r in rows],
                         columns=[*COLUMNS, *(f"hp.{n}" for n in hp_names)])
    for column in ("trained_id", "transform", "quantization", "tflite_sha256", "device_id", "device_model",
                   "device_kind", "config", "protocol", "latency_source"):
        table[column] = table[column].astype(object).where(table[column].notna(), None)  # None, as pandas made NaN
    for column in ("sparsity", "accuracy", "accuracy_n", "val_accuracy", "latency_ms", "latency_p90_ms",
                   "energy_mj", "size_bytes", "gzip_size_bytes", "peak_memory_kb", "training_s"):
        table[column] = table[column].astype(float)
    return table


def device_labels(devices: Iterable[tuple[str, str]]) -> dict[str, str]:
    """(device_id, device_model) pairs -> the label ids carry: the model name, or model and id when two
    devices share a model."""
    models = dict(devices)
    labels = {}
    for device_id, model in models.items():
        shared = sum(1 for m in models.values() if m == model) > 1
        labels[device_id] = f"{model} ({device_id})" if shared else str(model)
    return labels


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else float("nan")
