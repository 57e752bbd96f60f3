"""The loader registry and `load_dataset`: read a source, split it by seed, finish it, hash it."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from edgebench.datasets.base import Dataset, DatasetError, DatasetSpec, content_hash, split_indices
from edgebench.options import Option, resolve_options


LoaderOption = Option  # a loader's options are declared like a model's


@dataclass
class RawSource:
    """What a reader returns: the source's own splits, before seeded splitting and finishing.
    `x_*` are arrays or lists (texts, token lists); labels are integer class indices."""

    x_train: Any
    y_train: np.ndarray
    x_test: Any | None
    y_test: np.ndarray | None
    class_names: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class LoaderDef:
    name: str
    task: str  # image | text
    description: str
    needs_path: bool
    options: tuple[LoaderOption, ...]
    read: Callable[[Path | None, dict[str, Any]], RawSource]
    # (parts by split name, options) -> (arrays by split name, vocabulary size or None)
    finish: Callable[[dict[str, Any], dict[str, Any]], tuple[dict[str, np.ndarray], int | None]]

    def resolve_options(self, values: dict[str, Any], where: str) -> dict[str, Any]:
        return resolve_options(self.options, values, where=where, owner=f" for loader {self.name!r}",
                               error=DatasetError)


LOADERS: dict[str, LoaderDef] = {}


def register(loader: LoaderDef) -> LoaderDef:
    LOADERS[loader.name] = loader
    return loader


def get_loader(name: str) -> LoaderDef:
    _ensure_registered()
    try:
        return LOADERS[name]
    except KeyError:
        raise DatasetError(f"unknown dataset loader {name!r}; known: {', '.join(sorted(LOADERS))}") from None


def known_loaders() -> dict[str, LoaderDef]:
    _ensure_registered()
    return dict(LOADERS)


def _ensure_registered() -> None:
    # The reader modules register themselves on import.
    from edgebench.datasets import images, text  # noqa: F401


def data_root(explicit: str | os.PathLike[str] | None = None, workspace_root: Path | None = None) -> Path:
    """Where relative dataset paths point: explicit, else $EDGEBENCH_DATA, else <workspace>/datasets."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    if os.environ.get("EDGEBENCH_DATA"):
        return Path(os.environ["EDGEBENCH_DATA"]).expanduser().resolve()
    if workspace_root is not None:
        return workspace_root / "datasets"
    from edgebench.workspace import Workspace

    return Workspace.resolve().root / "datasets"


def load_dataset(spec: DatasetSpec, data_dir: str | os.PathLike[str] | None = None, *,
                 where: str = "dataset") -> Dataset:
    """Load, split (seeded), finish and hash the dataset `spec` describes.

    `data_dir` is where relative `spec.path`s are looked up (see `data_root`). `where` prefixes
    error messages (e.g. "models/cnn_image.toml: dataset").
    """
    loader = get_loader(spec.loader)
    options = loader.resolve_options(spec.options, where)
    path: Path | None = None
    if loader.needs_path:
        if not spec.path:
            raise DatasetError(f"{where}: loader {loader.name!r} needs a path ({loader.description})")
        path = Path(spec.path).expanduser()
        if not path.is_absolute():
            path = Path(data_dir).expanduser().resolve() / path if data_dir else data_root() / path
    elif spec.path:
        raise DatasetError(f"{where}: loader {loader.name!r} is built in and takes no path; remove path")
    raw = loader.read(path, options)
    n_pool = len(raw.y_train)
    idx = split_indices(n_pool, None if raw.y_test is None else len(raw.y_test), spec)
    test_x = raw.x_train if raw.x_test is None else raw.x_test
    test_y = raw.y_train if raw.y_test is None else raw.y_test
    parts = {"train": _take(raw.x_train, idx["train"]), "val": _take(raw.x_train, idx["val"]),
             "test": _take(test_x, idx["test"])}
    arrays, vocab_size = loader.finish(parts, options)
    labels = {"train": raw.y_train[idx["train"]], "val": raw.y_train[idx["val"]], "test": test_y[idx["test"]]}
    labels = {k: np.asarray(v, dtype=np.int32) for k, v in labels.items()}
    for name in ("train", "test"):
        if len(labels[name]) == 0:
            raise DatasetError(f"{where}: the {name} split of {raw.source} is empty")
    if len(raw.class_names) < 2:
        raise DatasetError(f"{where}: {raw.source} has {len(raw.class_names)} class(es); a classifier needs 2 or more")
    meta = {"loader": loader.name, "options": options, "classes": list(raw.class_names), "vocab": vocab_size}
    data_hash = content_hash({**{f"x_{k}": v for k, v in arrays.items()},
                              **{f"y_{k}": v for k, v in labels.items()}}, meta)
    return Dataset(spec=spec, task=loader.task, source=raw.source,
                   x_train=arrays["train"], y_train=labels["train"], x_val=arrays["val"], y_val=labels["val"],
                   x_test=arrays["test"], y_test=labels["test"], class_names=tuple(raw.class_names),
                   vocab_size=vocab_size, data_hash=data_hash)


def _take(x: Any, indices: np.ndarray) -> Any:
    if isinstance(x, np.ndarray):
        return x[indices]
    return [x[i] for i in indices]


def missing(what: str, folder: Path, files: Sequence[str], where_from: str) -> DatasetError:
    listing = "\n  ".join(files)
    return DatasetError(f"{what} not found in {folder}. Put these file(s) there:\n  {listing}\n"
                        f"({where_from}), or point the spec's dataset.path / --data-dir at them. "
                        f"edgebench never downloads data.")
