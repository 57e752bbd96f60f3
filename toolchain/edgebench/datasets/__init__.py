"""Datasets for the zoo: seeded splits, content hashes, offline built-ins; nothing downloads.

`load_dataset(DatasetSpec(loader=..., path=..., options=...), data_dir)` returns a `Dataset`
(numpy arrays + `data_hash`). Loaders: mnist, cifar10, imdb, image_folder, csv_text, and the
offline built-ins digits (scikit-learn) and sentiment_builtin (generated).
"""
from __future__ import annotations

from edgebench.datasets.base import Dataset, DatasetError, DatasetInfo, DatasetSpec
from edgebench.datasets.loaders import LoaderDef, data_root, get_loader, known_loaders, load_dataset

__all__ = ["Dataset", "DatasetError", "DatasetInfo", "DatasetSpec", "LoaderDef", "data_root", "get_loader",
           "known_loaders", "load_dataset"]
