"""Performance-model rows from the results store: one row per variant × device × run config that was measured,
its features read from the .tflite (`features.model_features`) and the run (threads, accelerator, CPU mask,
device), its measure one of analyze's variant-table figures (median latency, p90, energy per inference).

    store_table({"session": S, "device": D, "study": S}, options=None, measure="latency_median_ms") -> PerfTable

The rows are analyze's variant table (`session_table`, `study_table`; for a device alone, the same rows built from
the device's runs in every session), so a performance model learns from exactly the figures `edgebench pareto`
and the report show.
"""
from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from edgebench.errors import UsageError
from edgebench.perfmodel.features import absent_value, device_cpu_count, device_features, model_features, run_features
from edgebench.perfmodel.selectors import SELECTOR_KEYS, STORE_MEASURES
from edgebench.perfmodel.table import PerfTable, table_from_frame

if TYPE_CHECKING:
    import pandas as pd

    from edgebench.records import RunRecord
    from edgebench.store import ResultsStore

# The store measure -> the variant table's column holding it.
MEASURE_COLUMNS = {"latency_median_ms": "latency_ms", "latency_p90_ms": "latency_p90_ms", "energy_mj": "energy_mj"}


def store_table(selector: Mapping[str, str], options: Sequence[str] | None = None,
                measure: str = "latency_median_ms",
                workspace: str | os.PathLike[str] | None = None, *, keep_constant: bool = False) -> PerfTable:
    """The measured rows a selector picks (session=, device=: an id, a unique id prefix or a model name;
    study=: a study folder or name) with their features. `options=None` takes every feature known for all rows
    and not constant (`keep_constant`: constant ones too, for a caller that joins several tables and drops
    what is constant over the join); named options must be features. Rows without an ok measurement are left out, and
    `notes` says how many and why."""
    from edgebench.analyze.variant_table import session_table, study_table, study_workspace, workspace_root

    if measure not in STORE_MEASURES:
        raise UsageError(f"measure {measure!r}: store rows measure {', '.join(STORE_MEASURES)}")
    unknown = [k for k in selector if k not in SELECTOR_KEYS]
    if unknown or not selector:
        raise UsageError(f"store selector {dict(selector)!r}: expected keys among {', '.join(SELECTOR_KEYS)}")
    if "session" in selector and "study" in selector:
        raise UsageError("a store selector names a session or a study, not both: a study's runs span its own "
                         "sessions; add device= to narrow either")
    source = ",".join(f"{k}={v}" for k, v in selector.items())
    if "study" in selector:
        root = study_workspace(selector["study"], workspace)
        rows = study_table(selector["study"], workspace=root)
    elif "session" in selector:
        root = workspace_root(workspace)
        rows = session_table(selector["session"], workspace=root)
    else:
        root = workspace_root(workspace)
        rows = None
    store = _open(root, source)
    try:
        device_id = _device(store, selector["device"], root) if "device" in selector else None
        if rows is None:
            assert device_id is not None
            rows = _device_rows(store, device_id)
        elif device_id is not None:
            rows = rows[rows["device_id"] == device_id].reset_index(drop=True)
        return _table(rows, store, root, options=options, measure=measure, source=source,
                      keep_constant=keep_constant)
    finally:
        store.close()


def _open(root: Path, source: str) -> ResultsStore:
    from edgebench.store import ResultsStore
    from edgebench.workspace import STORE_ENV, Workspace

    workspace = Workspace(root)
    if not os.environ.get(STORE_ENV) and not workspace.results_db.is_file():
        raise UsageError(f"{source}: {root} has no results store (results.sqlite); give the workspace that ran "
                         "the measurements (--workspace DIR)")
    return ResultsStore(workspace.results_store)


def _device(store: ResultsStore, text: str, root: Path) -> str:
    """A stored device by id, unique id prefix, or model name (case-insensitive) when one device has it."""
    devices = list(store.table_rows("devices"))
    def listed(found: list[dict[str, Any]]) -> str:
        return ", ".join(f"{d['device_id']} ({d['model']})" for d in found)

    for matches in ([d for d in devices if d["device_id"] == text],
                    [d for d in devices if str(d["device_id"]).startswith(text)],
                    [d for d in devices if str(d["model"] or "").lower() == text.lower()]):
        if len(matches) == 1:
            return str(matches[0]["device_id"])
        if len(matches) > 1:
            raise UsageError(f"device {text!r} is ambiguous in {root}: "
                             f"{listed(matches)}; give more of the id")
    listing = listed(devices) or "none"
    raise UsageError(f"no device {text!r} in {root}'s results store: give a device id, a unique beginning of one,"
                     f" or a model name; devices there: {listing} (see `edgebench results list`)")


def _device_rows(store: ResultsStore, device_id: str) -> pd.DataFrame:
    """The variant-table rows of one device's runs in every session (analyze's row builder, same figures)."""
    import pandas as pd

    from edgebench.analyze.variant_rows import ModelFacts, measurement_rows

    by_model: dict[tuple[str, str], list[RunRecord]] = {}
    for run in store.runs(device_id=device_id):
        by_model.setdefault((run.model, run.model_sha256), []).append(run)
    nan = float("nan")
    out: list[dict[str, Any]] = []
    for (model, sha), runs in by_model.items():
        facts = ModelFacts(label=model, source="", trained_id=None, variant=model, transform=None, quantization=None,
                           sparsity=nan, tflite_sha256=sha, hyperparameters={}, accuracy=nan, accuracy_n=nan,
                           val_accuracy=nan, size_bytes=float(runs[0].model_size_bytes), gzip_size_bytes=nan,
                           training_s=nan)
        out.extend(measurement_rows(facts, runs, store, no_run_status="run_failed"))
    return pd.DataFrame(out)


def _table(rows: pd.DataFrame, store: ResultsStore, root: Path, *, options: Sequence[str] | None, measure: str,
           source: str, keep_constant: bool = False) -> PerfTable:
    from edgebench.analyze.variant_table import device_labels

    column = MEASURE_COLUMNS[measure]
    notes: list[str] = []
    if rows.empty:
        raise UsageError(f"{source}: the store holds no runs for it")
    measured = rows["status"] == "measured"
    left_out = rows.loc[~measured, "status"].value_counts()
    if len(left_out):
        notes.append(f"left out {int(left_out.sum())} of {len(rows)} row(s) without an ok run: "
                     + ", ".join(f"{n} {status}" for status, n in left_out.items()))
    rows = rows[measured]
    no_measure = rows[column].isna()
    if no_measure.any():
        notes.append(f"left out {int(no_measure.sum())} measured row(s) with no {measure}"
                     + (" (energy is measured only by battery or power-rail runs)" if measure == "energy_mj" else ""))
    rows = rows[~no_measure].reset_index(drop=True)
    if rows.empty:
        raise UsageError(f"{source}: no row has an ok measurement of {measure}; " + "; ".join(notes))
    provenance = _provenance(rows, measure, source, notes)
    partial = int((~rows["valid"].astype(bool)).sum())
    if partial:
        notes.append(f"{partial} row(s) had failed or invalid repeats: only their ok repeats count")
    short = int((~rows["verdict_allowed"].astype(bool)).sum())
    if short:
        notes.append(f"{short} of {len(rows)} row(s) come from the smoke protocol or shortened runs (few timed "
                     "inferences: noisier figures)")

    runs = {r.run_id: r for r in store.runs_by_ids([i for ids in rows["run_ids"] for i in ids])}
    devices = store.devices(sorted(set(rows["device_id"])))
    labels = device_labels((d, str(devices.get(d, {}).get("model") or d)) for d in sorted(set(rows["device_id"])))
    paths = _model_paths(store, root, rows)
    by_sha: dict[str, dict[str, float]] = {}
    features: list[dict[str, float]] = []
    ids: list[str] = []
    for _, row in rows.iterrows():
        ok = [runs[i] for i in row["run_ids"] if i in runs and runs[i].status == "ok"]
        sha = str(row["tflite_sha256"])
        if sha not in by_sha:
            by_sha[sha] = model_features(paths[sha])
        device = devices.get(row["device_id"], {})
        label = _feature_name(labels[row["device_id"]])
        ran = _ran_at(ok)
        name = ok[0].model
        if ran is None:
            notes.append(f"{name} on {labels[row['device_id']]} / {ok[0].config.label()}: its runs ran at several "
                         "input shapes, and one row holds them all; input_elements is the file's")
        elif ran and ran["input_elements"] != by_sha[sha]["input_elements"]:
            notes.append(f"{name}: ran at other input shapes than the file's placeholder; input_elements is what "
                         "ran, flops and the other model features are the file's")
        features.append({**by_sha[sha], **(ran or {}),
                         **run_features(threads=ok[0].config.threads, accelerator=_accelerator(ok),
                                        cpu_mask=ok[0].config.cpu_mask, cpu_count=device_cpu_count(device)),
                         **device_features(device, label)})
        ids.append(f"{ok[0].model} @ {labels[row['device_id']]} / {ok[0].config.label()}")
    ids = _unique(ids, list(rows["tflite_sha256"]))
    frame, chosen = _feature_frame(features, options, source, notes, keep_constant)
    frame[measure] = rows[column].to_numpy(dtype=float)
    table = table_from_frame(frame, options=chosen, measure=measure, source=source, ids=ids,
                             device_ids=sorted(set(rows["device_id"])), provenance=provenance)
    return dataclasses.replace(table, notes=tuple(dict.fromkeys(notes)))


def _provenance(rows: pd.DataFrame, measure: str, source: str, notes: list[str]) -> str:
    """measured or simulated. Energy from a virtual device is simulated and never shares a table with measured
    energy; latency is simulated when any row ran on a virtual device or emulator (said in a note)."""
    if measure == "energy_mj":
        kinds = rows["energy_source"].value_counts()
        if "measured" in kinds and len(kinds) > 1:
            raise UsageError(f"{source}: {int(kinds.get('measured', 0))} row(s) have measured energy and "
                             + ", ".join(f"{n} {k}" for k, n in kinds.items() if k != "measured")
                             + "; a table never mixes them: add device= to pick real devices or the virtual one")
        return "measured" if "measured" in kinds else "simulated"
    simulated = int((rows["latency_source"] != "measured").sum())
    if simulated:
        notes.append(f"{simulated} of {len(rows)} row(s) ran on a virtual device or emulator: their latency is "
                     "simulated, and so is the table's provenance")
    return "simulated" if simulated else "measured"


def _ran_at(ok: list[RunRecord]) -> dict[str, float] | None:
    """input_elements as the runs ran (the runner reports each input's shape; a dynamic input may run at another
    size than the file's placeholder): {} when no run reported shapes, None when they ran at several."""
    shapes = {tuple(s.dims for s in r.input_shapes) for r in ok if r.input_shapes}
    if len(shapes) > 1:
        return None
    if not shapes:
        return {}
    return {"input_elements": float(sum(math.prod(d) for d in next(iter(shapes))))}


def _accelerator(ok: list[RunRecord]) -> str:
    """The accelerator that ran (a GPU request that fell back ran on the CPU), else the one requested."""
    used = {r.accelerator_used for r in ok}
    return str(used.pop()) if len(used) == 1 and None not in used else ok[0].config.accelerator


def _model_paths(store: ResultsStore, root: Path, rows: pd.DataFrame) -> dict[str, Path]:
    """Each row's .tflite: the path it ran from when its bytes still hash to the stored sha256, else the
    workspace's artifact store (converted/<sha256>/)."""
    from edgebench.store.artifacts import ArtifactStore
    from edgebench.workspace import Workspace

    shas = sorted({str(s) for s in rows["tflite_sha256"]})
    variants = store.variants(shas)
    artifacts = ArtifactStore.for_workspace(Workspace(root))
    out: dict[str, Path] = {}
    for sha in shas:
        name = str(variants.get(sha, {}).get("name") or rows.loc[rows["tflite_sha256"] == sha, "variant"].iloc[0])
        looked: list[str] = []
        stored = _stored_path(variants.get(sha))
        candidates = [stored] if stored else []
        folder = artifacts.folder("converted", sha)
        candidates += sorted(folder.glob("*.tflite")) if folder.is_dir() else []
        looked = [str(stored) if stored else "no stored path", str(folder)]
        for path in candidates:
            if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == sha:
                out[sha] = path
                break
        else:
            raise UsageError(f"model {name} (sha256 {sha}): no file with these bytes at {looked[0]} (missing or "
                             f"changed since it ran) nor in the artifact store at {looked[1]}; put the .tflite "
                             "back where it ran from, so its features can be read")
    return out


def _stored_path(variant: Mapping[str, Any] | None) -> Path | None:
    import json

    if not variant:
        return None
    try:
        path = json.loads(variant.get("info_json") or "{}").get("path")
    except (ValueError, AttributeError):
        return None
    return Path(path) if isinstance(path, str) and path else None


def _feature_frame(features: list[dict[str, float]], options: Sequence[str] | None, source: str,
                   notes: list[str], keep_constant: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """Rows' feature dicts as columns: an absent count or one-hot is 0; a feature unknown for some rows is left
    out (named options must be known for all). options=None drops constant columns."""
    import pandas as pd

    names = sorted({n for f in features for n in f})
    columns: dict[str, list[float]] = {}
    unknown: dict[str, int] = {}
    for name in names:
        values = [f.get(name, absent_value(name, f)) for f in features]
        if any(v is None for v in values):
            unknown[name] = sum(v is None for v in values)
        else:
            columns[name] = [float(v) for v in values if v is not None]
    if options is None:
        if unknown:
            notes.append("left out feature(s) unknown for some rows: "
                         + ", ".join(f"{n} ({k} row(s))" for n, k in unknown.items()))
        constant = [] if keep_constant else [n for n, v in columns.items() if len(set(v)) < 2]
        if constant:
            notes.append(f"left out {len(constant)} constant feature(s): {', '.join(constant)}")
        chosen = [n for n in columns if n not in constant]
        if not chosen:
            raise UsageError(f"{source}: every feature is constant over its {len(features)} row(s) "
                             f"({', '.join(constant)}): nothing varies to learn from")
    else:
        chosen = list(dict.fromkeys(o.strip() for o in options if o.strip()))
        missing = [o for o in chosen if o not in columns]
        if missing:
            raise UsageError(f"{source}: no feature {', '.join(repr(m) for m in missing)}"
                             + "".join(f" ({m!r} is unknown for {unknown[m]} row(s))" for m in missing if m in unknown)
                             + f"; the features are: {', '.join(columns)}")
    return pd.DataFrame({n: columns[n] for n in chosen}), chosen


def _feature_name(label: str) -> str:
    """A device label as a feature-name part: no commas or spaces, so `--options` can name it."""
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", label).strip("_")


def _unique(ids: list[str], shas: list[Any]) -> list[str]:
    """Two files of one name ran in the selection: their ids carry the sha256's first 8 characters."""
    return [f"{i} [{str(s)[:8]}]" if ids.count(i) > 1 else i for i, s in zip(ids, shas)]
