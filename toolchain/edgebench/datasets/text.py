"""Text sources: IMDB (Keras npz or aclImdb folders), CSV text, the built-in generated sentiment set.

Texts become int32 token ids [N, sequence_length]: 0 pads, 1 is out-of-vocabulary, and the
vocabulary (`num_words` ids in all) is the most frequent words of the TRAINING split only, ties
broken alphabetically. Sequences are truncated and padded at the front (Keras' pad_sequences
default), so an LSTM's final state sees the end of each text. Keras' imdb.npz comes already
indexed; it keeps Keras' own convention (1 = start, 2 = out-of-vocabulary, words from 3).
"""
from __future__ import annotations

import collections
import csv
import re
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from edgebench.datasets import synthetic
from edgebench.datasets.base import DatasetError
from edgebench.datasets.loaders import LoaderDef, LoaderOption, RawSource, missing, register
from edgebench.datasets.safe_pickle import load_npz

PAD, OOV = 0, 1
_TOKEN = re.compile(r"[a-z0-9']+")
IMDB_FROM = ("Keras' imdb.npz: https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz; or the "
             "aclImdb folder of https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz, extracted")


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text.replace("<br />", " ").lower())


def build_vocabulary(texts: Sequence[str], num_words: int) -> dict[str, int]:
    counts = collections.Counter(w for t in texts for w in tokenize(t))
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:num_words - 2]
    return {w: i + 2 for i, (w, _) in enumerate(ranked)}


def pad(sequences: Sequence[Sequence[int]], length: int) -> np.ndarray:
    out = np.full((len(sequences), length), PAD, dtype=np.int32)
    for i, seq in enumerate(sequences):
        seq = list(seq)[-length:]
        if seq:
            out[i, length - len(seq):] = seq
    return out


def _int_in(low: int, high: int) -> Callable[[Any], int]:
    def check(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
            raise ValueError(f"expected an integer in [{low}, {high}], got {v!r}")
        return v
    return check


def _name(v: Any) -> str:
    if not isinstance(v, str) or not v:
        raise ValueError(f"expected a column name, got {v!r}")
    return v


def text_options(num_words: int, sequence_length: int) -> tuple[LoaderOption, ...]:
    return (LoaderOption("num_words", num_words, "vocabulary size, padding and out-of-vocabulary ids included",
                         _int_in(3, 10_000_000)),
            LoaderOption("sequence_length", sequence_length, "tokens per example (front-truncated and -padded)",
                         _int_in(1, 100_000)))


def finish_texts(parts: dict[str, Any], options: dict[str, Any]) -> tuple[dict[str, np.ndarray], int]:
    """Texts -> ids with a vocabulary from the training split; pre-indexed sequences pass through."""
    n, length = options["num_words"], options["sequence_length"]
    if parts["train"] and isinstance(parts["train"][0], str):
        vocab = build_vocabulary(parts["train"], n)
        encode: Callable[[Sequence[str]], list[list[int]]] = \
            lambda texts: [[vocab.get(w, OOV) for w in tokenize(t)] for t in texts]  # noqa: E731
        return {k: pad(encode(v), length) for k, v in parts.items()}, n
    return {k: pad(v, length) for k, v in parts.items()}, n


# --- IMDB ---------------------------------------------------------------------------------

def _is_id_list(seq: Any) -> bool:
    return isinstance(seq, (list, np.ndarray)) and all(isinstance(w, (int, np.integer)) and not isinstance(w, bool)
                                                      for w in seq)


def _keras_imdb(npz: Path, num_words: int) -> RawSource:
    # Keras stores variable-length lists as object arrays, i.e. pickles: read with the restricted unpickler.
    arrays = load_npz(npz)
    keys = {"x_train", "y_train", "x_test", "y_test"}
    if not keys <= set(arrays):
        raise DatasetError(f"{npz}: expected arrays {sorted(keys)} (Keras' imdb.npz), found {sorted(arrays)}")
    data = {k: arrays[k] for k in keys}
    for key in ("x_train", "x_test"):
        xs = data[key]
        if xs.dtype == object:
            bad = next((seq for seq in xs if not _is_id_list(seq)), None)
            found = None if bad is None else f"an element of type {type(bad).__name__}: {str(bad)[:60]}"
        else:  # already a rectangular array: fine if it holds integers
            found = None if xs.ndim == 2 and np.issubdtype(xs.dtype, np.integer) else f"{xs.dtype} {xs.shape}"
        if found is not None:
            raise DatasetError(f"{npz}: {key} expected an object array of lists of integer word ids (Keras' "
                               f"imdb.npz), found {found}")

    def index(xs: np.ndarray) -> list[list[int]]:
        # Keras' load_data: start_char=1, oov_char=2, index_from=3, words >= num_words -> oov.
        return [[1] + [w + 3 if w + 3 < num_words else 2 for w in seq] for seq in xs]

    return RawSource(index(data["x_train"]), data["y_train"].astype(np.int64), index(data["x_test"]),
                     data["y_test"].astype(np.int64), synthetic.CLASS_NAMES, str(npz))


def _acl_split(folder: Path) -> tuple[list[str], np.ndarray]:
    texts, labels = [], []
    for label, name in enumerate(("neg", "pos")):
        for f in sorted((folder / name).glob("*.txt")):
            texts.append(f.read_text(encoding="utf-8", errors="replace"))
            labels.append(label)
    return texts, np.asarray(labels, dtype=np.int64)


def read_imdb(path: Path | None, options: dict[str, Any]) -> RawSource:
    assert path is not None
    npz = path if path.suffix == ".npz" else path / "imdb.npz"
    if npz.is_file():
        return _keras_imdb(npz, options["num_words"])
    acl = path / "aclImdb" if (path / "aclImdb").is_dir() else path
    needed = [acl / s / c for s in ("train", "test") for c in ("pos", "neg")]
    if not all(d.is_dir() for d in needed):
        raise missing("IMDB", path, ["imdb.npz", "or: aclImdb/train/{pos,neg}/*.txt and aclImdb/test/{pos,neg}/*.txt"],
                      IMDB_FROM)
    x_train, y_train = _acl_split(acl / "train")
    x_test, y_test = _acl_split(acl / "test")
    if not x_train or not x_test:
        raise DatasetError(f"{acl}: no .txt reviews found under train/ or test/ pos and neg folders")
    return RawSource(x_train, y_train, x_test, y_test, synthetic.CLASS_NAMES, str(acl))


# --- CSV text -----------------------------------------------------------------------------

def read_csv_text(path: Path | None, options: dict[str, Any]) -> RawSource:
    assert path is not None
    if not path.is_file():
        raise missing("CSV text file", path.parent, [path.name],
                      f"a CSV with a header naming columns {options['text_column']!r} and {options['label_column']!r}")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        cols = reader.fieldnames or []
        for col in (options["text_column"], options["label_column"]):
            if col not in cols:
                raise DatasetError(f"{path}: no column {col!r}; the header has {cols}. Set the dataset options "
                                   f"text_column / label_column")
        texts, raw_labels = [], []
        for line, row in enumerate(reader, start=2):
            text, label = row[options["text_column"]], row[options["label_column"]]
            if text is None or label is None or label.strip() == "":
                raise DatasetError(f"{path}:{line}: row has no text or no label")
            texts.append(text)
            raw_labels.append(label.strip())
    class_names = tuple(sorted(set(raw_labels)))
    lookup = {c: i for i, c in enumerate(class_names)}
    return RawSource(texts, np.asarray([lookup[c] for c in raw_labels], dtype=np.int64), None, None,
                     class_names, str(path))


# --- built-in generated sentiment ---------------------------------------------------------

def read_sentiment_builtin(path: Path | None, options: dict[str, Any]) -> RawSource:
    texts, labels = synthetic.generate(options["samples"], seed=options["generator_seed"])
    return RawSource(texts, labels, None, None, synthetic.CLASS_NAMES,
                     f"built-in generated sentiment reviews (edgebench.datasets.synthetic, "
                     f"{options['samples']} samples, generator seed {options['generator_seed']})")


register(LoaderDef("imdb", "text", "IMDB reviews: a folder with imdb.npz or aclImdb/", True,
                   text_options(20000, 200), read_imdb, finish_texts))
register(LoaderDef("csv_text", "text", "a CSV file with text and label columns", True,
                   (*text_options(10000, 100),
                    LoaderOption("text_column", "text", "column holding the text", _name),
                    LoaderOption("label_column", "label", "column holding the class label", _name)),
                   read_csv_text, finish_texts))
register(LoaderDef("sentiment_builtin", "text", "built-in: generated short sentiment reviews (offline)", False,
                   (*text_options(200, 40),
                    LoaderOption("samples", 2000, "how many reviews to generate", _int_in(20, 1_000_000)),
                    LoaderOption("generator_seed", 0, "seed of the generator (splits use the dataset seed)",
                                 _int_in(0, 2**31 - 1))),
                   read_sentiment_builtin, finish_texts))
