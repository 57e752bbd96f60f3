"""Dataset records, seeded splits and the content hash that keys training artifacts.

No TensorFlow here: loaders return numpy arrays (images float32 in [0, 1], [N, H, W, C]; text int32
token ids, [N, T]) and integer labels. Nothing is downloaded: a missing file is a DatasetError that
says which file to put where.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgebench.errors import UsageError


class DatasetError(UsageError):
    """A dataset is missing, malformed, or does not fit the model it is meant for."""


@dataclass(frozen=True)
class DatasetSpec:
    """Which data, how split. `train_samples` caps the examples taken from the source's training
    data (validation included); `test_samples` caps the test split. Splits depend only on `seed`."""

    loader: str
    path: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    validation_fraction: float = 0.1
    test_fraction: float = 0.2  # only for sources without their own test split
    train_samples: int | None = None
    test_samples: int | None = None
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"loader": self.loader, "path": self.path, "options": dict(sorted(self.options.items())),
                "validation_fraction": self.validation_fraction, "test_fraction": self.test_fraction,
                "train_samples": self.train_samples, "test_samples": self.test_samples, "seed": self.seed}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DatasetSpec:
        opts = {k: tuple(v) if isinstance(v, list) else v for k, v in data.get("options", {}).items()}
        return cls(loader=data["loader"], path=data.get("path"), options=opts,
                   validation_fraction=data["validation_fraction"], test_fraction=data["test_fraction"],
                   train_samples=data.get("train_samples"), test_samples=data.get("test_samples"),
                   seed=data["seed"])


@dataclass(frozen=True)
class DatasetInfo:
    """Everything about a loaded dataset except its arrays (what records and the store keep)."""

    loader: str
    task: str  # image | text
    source: str  # where it was read from (or which built-in generated it)
    data_hash: str
    num_train: int
    num_val: int
    num_test: int
    input_shape: tuple[int, ...]  # one example, no batch dimension
    input_dtype: str
    num_classes: int
    class_names: tuple[str, ...]
    vocab_size: int | None

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "input_shape": list(self.input_shape), "class_names": list(self.class_names)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DatasetInfo:
        return cls(**{**data, "input_shape": tuple(data["input_shape"]),
                      "class_names": tuple(data["class_names"])})


@dataclass(frozen=True, eq=False)
class Dataset:
    spec: DatasetSpec
    task: str
    source: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    vocab_size: int | None
    data_hash: str

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def input_dtype(self) -> str:
        return self.x_train.dtype.name

    def info(self) -> DatasetInfo:
        return DatasetInfo(self.spec.loader, self.task, self.source, self.data_hash, len(self.x_train),
                           len(self.x_val), len(self.x_test), self.input_shape, self.input_dtype,
                           self.num_classes, self.class_names, self.vocab_size)

    def representative(self, count: int, seed: int = 0) -> np.ndarray:
        """Up to `count` training inputs, in a seeded order: calibration data for full-int8 conversion."""
        order = np.random.default_rng(seed).permutation(len(self.x_train))[:count]
        return self.x_train[np.sort(order)]


def split_indices(n_pool: int, n_test_source: int | None, spec: DatasetSpec) -> dict[str, np.ndarray]:
    """Seeded split into train/val/test index arrays.

    With a source test split (`n_test_source` given) test indices refer to it; otherwise the test
    set is carved out of the pool first (`test_fraction`). Caps apply after shuffling, so a smaller
    cap takes a prefix of the same order (a smoke run sees a subset of the full run's data).
    """
    rng = np.random.default_rng(spec.seed)
    pool = rng.permutation(n_pool)
    if n_test_source is None:
        n_test = int(round(spec.test_fraction * n_pool))
        if n_test < 1 or n_test >= n_pool:
            raise DatasetError(f"test_fraction {spec.test_fraction} of {n_pool} examples leaves no test or no "
                               f"training data; choose a test_fraction in (0, 1) that keeps both")
        test, pool = pool[:n_test], pool[n_test:]
    else:
        test = rng.permutation(n_test_source)
    if spec.test_samples is not None:
        test = test[:spec.test_samples]
    if spec.train_samples is not None:
        pool = pool[:spec.train_samples]
    n_val = int(round(spec.validation_fraction * len(pool)))
    if len(pool) - n_val < 1 or (spec.validation_fraction > 0 and n_val < 1):
        raise DatasetError(f"validation_fraction {spec.validation_fraction} of {len(pool)} training examples "
                           f"leaves no training or no validation data; raise train_samples or change the fraction")
    # Sorted within each split: order on disk is kept, and the hash does not depend on the shuffle.
    return {"train": np.sort(pool[n_val:]), "val": np.sort(pool[:n_val]), "test": np.sort(test)}


def content_hash(arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> str:
    """sha256 over the split arrays (dtype, shape, bytes) and the metadata that shapes them."""
    h = hashlib.sha256()
    h.update(json.dumps(meta, sort_keys=True, default=list).encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()
