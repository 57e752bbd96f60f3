"""A fitted performance model and its folder: `model.pkl` (the pickled scikit-learn estimator) beside a
readable `model.json` saying what it was fitted on (measure, features in order, learner, rows, source,
device identities, provenance, versions, UTC time), how good it is (in-sample and cross-validated MAPE)
and the feature space it may predict in.

    fit_model(table, learner="forest", seed=0) -> SavedPerfModel
    save_model(model, directory) -> SavedPerfModel      (with .path set)
    load_model(directory) -> SavedPerfModel

A pickle runs code when it is loaded: load only model folders you made or trust as you would code.
A pickle written by another scikit-learn version may load and still predict wrongly, so `load_model`
refuses it and says to refit.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import pickle
import platform
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from edgebench.errors import UsageError
from edgebench.perfmodel.evaluation import DEFAULT_FOLDS, Progress, evaluate
from edgebench.perfmodel.feature_space import FeatureSpace
from edgebench.perfmodel.learners import DEFAULT_LEARNER, FOREST_TREES, make_learner, mape_pct
from edgebench.perfmodel.table import PerfTable
from edgebench.version import __version__

SCHEMA_VERSION = 1
KIND = "edgebench-perfmodel"
MODEL_FILE = "model.pkl"
META_FILE = "model.json"
MODELS_FOLDER = "perfmodels"  # under the workspace


@dataclass(frozen=True, eq=False)
class SavedPerfModel:
    """A fitted model with what it was fitted on. `path` is its folder once saved or loaded."""
    estimator: Any  # a fitted scikit-learn regressor over `options` in this order
    measure: str
    options: tuple[str, ...]
    learner: str
    seed: int
    trees: int | None  # forest only
    rows: int
    source: str
    device_ids: tuple[str, ...]
    provenance: str  # of the training rows: measured | simulated
    edgebench_version: str
    sklearn_version: str
    python_version: str
    fitted_at_utc: str  # ISO 8601
    training_mape_pct: float  # in-sample: optimistic, shown beside the cross-validated one
    cv_mape_pct: float
    cv_folds: int
    feature_space: FeatureSpace
    notes: tuple[str, ...] = ()
    path: Path | None = None

    def metadata(self) -> dict[str, Any]:
        """model.json's content (without the model file's hash, added when saved)."""
        return {"kind": KIND, "schema_version": SCHEMA_VERSION, "measure": self.measure,
                "options": list(self.options), "learner": self.learner, "seed": self.seed, "trees": self.trees,
                "rows": self.rows, "source": self.source, "device_ids": list(self.device_ids),
                "provenance": self.provenance, "edgebench_version": self.edgebench_version,
                "sklearn_version": self.sklearn_version, "python_version": self.python_version,
                "fitted_at_utc": self.fitted_at_utc, "training_mape_pct": self.training_mape_pct,
                "cv_mape_pct": self.cv_mape_pct, "cv_folds": self.cv_folds, "notes": list(self.notes),
                "feature_space": self.feature_space.to_json(), "model_file": MODEL_FILE}


def fit_model(table: PerfTable, learner: str = DEFAULT_LEARNER, seed: int = 0, *, trees: int = FOREST_TREES,
              progress: Progress | None = None) -> SavedPerfModel:
    """Fit `learner` on every row of `table`, with its in-sample MAPE and a 5-fold cross-validated MAPE
    (folds reduced for small tables, as `evaluate` does; too few rows is an error)."""
    import sklearn

    if table.measure is None:
        raise UsageError(f"{table.source}: name the measure to fit (--measure COL)")
    (score,) = evaluate(table, (learner,), folds=DEFAULT_FOLDS, repeats=1, seed=seed, trees=trees,
                        progress=progress)
    estimator = make_learner(learner, seed, trees=trees)
    estimator.fit(table.x(), table.y())
    return SavedPerfModel(
        estimator=estimator, measure=table.measure, options=table.options, learner=learner, seed=seed,
        trees=trees if learner == "forest" else None, rows=table.rows, source=table.source,
        device_ids=table.device_ids, provenance=table.provenance, edgebench_version=__version__,
        sklearn_version=sklearn.__version__, python_version=platform.python_version(),
        fitted_at_utc=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        training_mape_pct=mape_pct(table.y(), estimator.predict(table.x())), cv_mape_pct=score.mape_pct_mean,
        cv_folds=score.folds, feature_space=FeatureSpace.of_table(table), notes=table.notes + score.notes)


def default_model_dir(workspace: Path, name: str) -> Path:
    """<workspace>/perfmodels/<name>; `name` is one folder name."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        raise UsageError(f"model name {name!r}: expected letters, digits, '.', '_' or '-' (one folder name, "
                         "e.g. pixel7-latency); or give a folder with -o DIR")
    return workspace / MODELS_FOLDER / name


def default_model_name(table: PerfTable, learner: str) -> str:
    """A name from the source (file stem or selector values), the measure and the learner."""
    stem = Path(table.source).stem if "=" not in table.source else table.source.replace("=", "-")
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{stem}-{table.measure}-{learner}").strip("-.")
    return name or f"model-{learner}"


def save_model(model: SavedPerfModel, directory: str | Path) -> SavedPerfModel:
    """Write `model.pkl` and `model.json` into `directory` (created; a model there is replaced)."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory}: expected a folder for the model (model.pkl and model.json), found a file")
    if directory.is_dir() and any(directory.iterdir()) and not (directory / META_FILE).is_file():
        # replacing a model is fine; filling a folder of other things with one is not what was meant
        raise UsageError(f"{directory}: a folder with other files and no model in it; give an empty or new "
                         "folder (or one of an earlier model, which is replaced)")
    directory.mkdir(parents=True, exist_ok=True)
    blob = pickle.dumps(model.estimator, protocol=pickle.HIGHEST_PROTOCOL)
    meta = model.metadata() | {"model_sha256": hashlib.sha256(blob).hexdigest()}
    _write_atomic(directory / MODEL_FILE, blob)
    _write_atomic(directory / META_FILE, (json.dumps(meta, indent=1) + "\n").encode())
    return replace(model, path=directory)


def load_model(path: str | Path) -> SavedPerfModel:
    """The model saved in folder `path` (or its model.json). Refuses an unknown schema version, a model
    pickled by another scikit-learn version, and a damaged or altered model file."""
    import sklearn

    path = Path(path)
    directory = path.parent if path.name == META_FILE else path
    meta_path = directory / META_FILE
    if not meta_path.is_file():
        raise UsageError(f"{directory}: expected a model folder with {META_FILE} and {MODEL_FILE} (made by "
                         "`edgebench perfmodel fit`); no model.json is there")
    meta = _read_meta(meta_path)
    if meta["sklearn_version"] != sklearn.__version__:
        raise UsageError(f"{directory}: fitted with scikit-learn {meta['sklearn_version']}, this is "
                         f"{sklearn.__version__}; a pickle from another version may predict wrongly. Refit it: "
                         f"edgebench perfmodel fit {meta['source']} --measure {meta['measure']} --options "
                         f"{','.join(meta['options'])} --learner {meta['learner']}")
    model_path = directory / str(meta.get("model_file", MODEL_FILE))
    if not model_path.is_file():
        raise UsageError(f"{directory}: {model_path.name} is missing (model.json is there); refit the model")
    blob = model_path.read_bytes()
    if hashlib.sha256(blob).hexdigest() != meta.get("model_sha256"):
        raise UsageError(f"{model_path}: damaged or altered (its SHA-256 is not the one model.json recorded); "
                         "refit the model")
    try:
        estimator = pickle.loads(blob)  # noqa: S301 - the hash above matches what fit wrote
    except Exception as exc:  # a truncated or foreign pickle raises many kinds
        raise UsageError(f"{model_path}: could not be loaded ({type(exc).__name__}: {exc}); refit the model") from None
    if getattr(estimator, "n_features_in_", len(meta["options"])) != len(meta["options"]):
        raise UsageError(f"{model_path}: takes {estimator.n_features_in_} features, model.json names "
                         f"{len(meta['options'])}; the folder is inconsistent, refit the model")
    try:
        return SavedPerfModel(
            estimator=estimator, measure=str(meta["measure"]), options=tuple(meta["options"]),
            learner=str(meta["learner"]), seed=int(meta["seed"]), trees=meta["trees"], rows=int(meta["rows"]),
            source=str(meta["source"]), device_ids=tuple(meta["device_ids"]), provenance=str(meta["provenance"]),
            edgebench_version=str(meta["edgebench_version"]), sklearn_version=str(meta["sklearn_version"]),
            python_version=str(meta["python_version"]), fitted_at_utc=str(meta["fitted_at_utc"]),
            training_mape_pct=float(meta["training_mape_pct"]), cv_mape_pct=float(meta["cv_mape_pct"]),
            cv_folds=int(meta["cv_folds"]), feature_space=FeatureSpace.from_json(meta["feature_space"]),
            notes=tuple(meta["notes"]), path=directory)
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{meta_path}: incomplete or malformed ({type(exc).__name__}: {exc}); refit the model") from None


def _read_meta(meta_path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{meta_path}: not valid JSON ({exc}); refit the model") from None
    if not isinstance(meta, dict) or meta.get("kind") != KIND:
        raise UsageError(f"{meta_path}: not an edgebench performance model (expected \"kind\": \"{KIND}\")")
    version = meta.get("schema_version")
    if version != SCHEMA_VERSION:
        raise UsageError(f"{meta_path}: schema version {version!r}; this edgebench ({__version__}) reads version "
                         f"{SCHEMA_VERSION} only. Use the edgebench that wrote it, or refit the model")
    for key in ("measure", "options", "learner", "source", "sklearn_version"):
        if key not in meta:
            raise UsageError(f"{meta_path}: has no {key!r}; incomplete, refit the model")
    return meta


def _write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file and rename, so a crash never leaves half a model."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
