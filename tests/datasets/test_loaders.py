"""Dataset loaders: each on-disk format, seeded splits, content hashes, and clear errors for missing data."""
from __future__ import annotations

import gzip
import os
import pickle
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgebench.datasets import DatasetError, DatasetSpec, data_root, load_dataset
from edgebench.datasets import synthetic
from edgebench.datasets.text import build_vocabulary, pad, tokenize

REPO = Path(__file__).resolve().parents[2]
CSV = REPO / "fixtures" / "datasets" / "sentiment_small.csv"


def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images * 15).astype(np.uint8), d.target.astype(np.uint8)  # 0..240, like 8-bit pixels


def _idx(array: np.ndarray) -> bytes:
    return struct.pack(">BBBB", 0, 0, 8, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


# --- built-ins and splitting ---------------------------------------------------------------

def test_digits_builtin_splits_and_hash_are_seeded() -> None:
    a = load_dataset(DatasetSpec("digits", seed=1))
    assert (len(a.x_train), len(a.x_val), len(a.x_test)) == (1294, 144, 359)  # 1797 = 20% test, 10% val
    assert a.x_train.dtype == np.float32 and a.input_shape == (8, 8, 1)
    assert 0.0 <= a.x_train.min() and a.x_train.max() <= 1.0
    assert a.num_classes == 10 and a.y_train.dtype == np.int32
    b = load_dataset(DatasetSpec("digits", seed=1))
    assert a.data_hash == b.data_hash and np.array_equal(a.x_test, b.x_test)
    assert load_dataset(DatasetSpec("digits", seed=2)).data_hash != a.data_hash


def test_caps_take_a_prefix_of_the_same_shuffle() -> None:
    small = load_dataset(DatasetSpec("digits", train_samples=100, test_samples=30))
    large = load_dataset(DatasetSpec("digits", train_samples=400))
    assert (len(small.x_train) + len(small.x_val), len(small.x_test)) == (100, 30)
    rows = lambda *xs: {r.tobytes() for x in xs for r in x}  # noqa: E731
    assert rows(small.x_train, small.x_val) <= rows(large.x_train, large.x_val)
    assert not rows(small.x_test) & rows(large.x_train, large.x_val)  # test never leaks into training


def test_resize_and_channels() -> None:
    ds = load_dataset(DatasetSpec("digits", options={"image_size": 32, "channels": 3}, train_samples=20,
                                  test_samples=5))
    assert ds.input_shape == (32, 32, 3)
    assert np.allclose(ds.x_train[..., 0], ds.x_train[..., 2])  # grey replicated
    assert 0.0 <= ds.x_train.min() and ds.x_train.max() <= 1.0


def test_bad_fractions_are_refused() -> None:
    with pytest.raises(DatasetError, match="leaves no training or no validation data"):
        load_dataset(DatasetSpec("digits", train_samples=1))
    with pytest.raises(DatasetError, match="unknown option.*allowed: image_size, channels"):
        load_dataset(DatasetSpec("digits", options={"size": 3}))


def test_representative_is_seeded_training_data() -> None:
    ds = load_dataset(DatasetSpec("digits"))
    rep = ds.representative(50, seed=4)
    assert rep.shape == (50, 8, 8, 1)
    assert np.array_equal(rep, ds.representative(50, seed=4))
    train_rows = {r.tobytes() for r in ds.x_train}
    assert all(r.tobytes() in train_rows for r in rep)
    assert len(ds.representative(10_000)) == len(ds.x_train)


def test_sentiment_builtin_is_deterministic_balanced_and_tokenized() -> None:
    texts, labels = synthetic.generate(101, seed=5)
    assert (texts, labels.tolist()) == (synthetic.generate(101, seed=5)[0], synthetic.generate(101, seed=5)[1].tolist())
    assert abs(int(labels.sum()) - 50) <= 1
    ds = load_dataset(DatasetSpec("sentiment_builtin", options={"samples": 300, "num_words": 50,
                                                                "sequence_length": 12}))
    assert ds.input_shape == (12,) and ds.x_train.dtype == np.int32
    assert ds.vocab_size == 50 and ds.x_train.max() < 50
    assert ds.class_names == ("negative", "positive")


# --- MNIST ---------------------------------------------------------------------------------

@pytest.mark.parametrize("compressed", [False, True])
def test_mnist_idx_files(tmp_path: Path, compressed: bool) -> None:
    x, y = _digits()
    x = np.pad(x, ((0, 0), (10, 10), (10, 10)))  # 28x28 like MNIST
    files = {"train-images-idx3-ubyte": x[:1500], "train-labels-idx1-ubyte": y[:1500],
             "t10k-images-idx3-ubyte": x[1500:], "t10k-labels-idx1-ubyte": y[1500:]}
    for name, arr in files.items():
        data = _idx(arr)
        if compressed:
            (tmp_path / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (tmp_path / name).write_bytes(data)
    ds = load_dataset(DatasetSpec("mnist", path=str(tmp_path)))
    assert ds.input_shape == (28, 28, 1)
    assert len(ds.x_test) == 297 and len(ds.x_train) + len(ds.x_val) == 1500  # the source's own test split
    assert abs(ds.x_train.max() - 240 / 255) < 1e-6


def test_mnist_npz_relative_to_data_dir(tmp_path: Path) -> None:
    x, y = _digits()
    (tmp_path / "mnist").mkdir()
    np.savez(tmp_path / "mnist" / "mnist.npz", x_train=x[:1000], y_train=y[:1000], x_test=x[1000:], y_test=y[1000:])
    ds = load_dataset(DatasetSpec("mnist", path="mnist"), tmp_path)
    assert len(ds.x_test) == 797 and ds.source.endswith("mnist.npz")


def test_mnist_missing_says_what_to_put_where(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as info:
        load_dataset(DatasetSpec("mnist", path="mnist"), tmp_path)
    msg = str(info.value)
    assert f"MNIST not found in {tmp_path / 'mnist'}" in msg
    assert "mnist.npz" in msg and "train-images-idx3-ubyte[.gz]" in msg and "never downloads" in msg


def test_mnist_corrupt_idx_names_the_file(tmp_path: Path) -> None:
    x, y = _digits()
    for name, arr in (("train-images-idx3-ubyte", x), ("train-labels-idx1-ubyte", y),
                      ("t10k-images-idx3-ubyte", x), ("t10k-labels-idx1-ubyte", y)):
        (tmp_path / name).write_bytes(_idx(arr))
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(_idx(x)[:-7])
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte: idx header says .* truncated or corrupt"):
        load_dataset(DatasetSpec("mnist", path=str(tmp_path)))


# --- CIFAR-10 ------------------------------------------------------------------------------

def _cifar(folder: Path, n: int = 6) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"labels": list(range(n))}
        (folder / name).write_bytes(pickle.dumps(batch))
    meta = {b"label_names": [n.encode() for n in ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                                   "horse", "ship", "truck")]}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta))


def test_cifar10_python_batches(tmp_path: Path) -> None:
    _cifar(tmp_path / "cifar10" / "cifar-10-batches-py")
    ds = load_dataset(DatasetSpec("cifar10", path=str(tmp_path / "cifar10"), validation_fraction=0.2))
    assert ds.input_shape == (32, 32, 3) and len(ds.x_test) == 6 and len(ds.x_train) + len(ds.x_val) == 30
    assert ds.class_names[0] == "airplane"
    # Channel-major rows become HWC: pixel (0, 0)'s RGB are data[0], data[1024], data[2048].
    raw = pickle.loads((tmp_path / "cifar10" / "cifar-10-batches-py" / "test_batch").read_bytes())[b"data"]
    first = ds.x_test[0, 0, 0] * 255
    assert np.allclose(first, raw[0, [0, 1024, 2048]], atol=1e-3)


def test_cifar10_refuses_pickles_that_run_code(tmp_path: Path) -> None:
    _cifar(tmp_path / "c")

    class Evil:
        def __reduce__(self):  # would run a shell command on load
            return (os.system, ("echo pwned",))

    (tmp_path / "c" / "test_batch").write_bytes(pickle.dumps(Evil()))
    with pytest.raises(DatasetError, match="refusing to load posix.system|refusing to load os.system"):
        load_dataset(DatasetSpec("cifar10", path=str(tmp_path / "c")))


def test_cifar10_missing(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"(?s)CIFAR-10 not found .*data_batch_1.*cifar-10-python.tar.gz"):
        load_dataset(DatasetSpec("cifar10", path=str(tmp_path)))


# --- image folders --------------------------------------------------------------------------

def _png(path: Path, size: tuple[int, int], value: int) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (value, value, value)).save(path)


def test_image_folder_with_train_and_test(tmp_path: Path) -> None:
    for split, n in (("train", 5), ("test", 2)):
        for label, value in (("cat", 10), ("dog", 200)):
            for i in range(n):
                _png(tmp_path / split / label / f"{i}.png", (12, 12), value)
    ds = load_dataset(DatasetSpec("image_folder", path=str(tmp_path), options={"channels": 1}, validation_fraction=0.2))
    assert ds.class_names == ("cat", "dog") and ds.input_shape == (12, 12, 1) and len(ds.x_test) == 4
    assert all((x.mean() > 0.5) == bool(y) for x, y in zip(ds.x_test, ds.y_test))  # labels follow the folders


def test_image_folder_sizes_must_agree_unless_resized(tmp_path: Path) -> None:
    _png(tmp_path / "a" / "1.png", (10, 10), 0)
    _png(tmp_path / "b" / "1.png", (12, 8), 255)
    for i in range(2, 6):
        _png(tmp_path / "a" / f"{i}.png", (10, 10), 0)
        _png(tmp_path / "b" / f"{i}.png", (10, 10), 255)
    with pytest.raises(DatasetError, match="images have different sizes.*set the dataset option image_size"):
        load_dataset(DatasetSpec("image_folder", path=str(tmp_path)))
    ds = load_dataset(DatasetSpec("image_folder", path=str(tmp_path), options={"image_size": 16}, test_fraction=0.3))
    assert ds.input_shape == (16, 16, 3)


def test_image_folder_needs_two_classes(tmp_path: Path) -> None:
    _png(tmp_path / "only" / "1.png", (8, 8), 0)
    with pytest.raises(DatasetError, match="needs one sub-folder per class, at least 2"):
        load_dataset(DatasetSpec("image_folder", path=str(tmp_path)))


# --- IMDB, CSV ------------------------------------------------------------------------------

def test_imdb_keras_npz_keeps_keras_index_convention(tmp_path: Path) -> None:
    seqs = np.empty(4, dtype=object)
    seqs[:] = [[5, 6, 7], [1, 2], [400, 3], [8]]
    np.savez(tmp_path / "imdb.npz", x_train=seqs, y_train=np.array([1, 0, 1, 0]), x_test=seqs, y_test=np.array([1, 0, 1, 0]))
    ds = load_dataset(DatasetSpec("imdb", path=str(tmp_path), options={"num_words": 20, "sequence_length": 5},
                                  validation_fraction=0.0))
    rows = {tuple(r) for r in ds.x_test}
    assert (0, 1, 8, 9, 10) in rows  # start=1, word w -> w + 3
    assert (0, 0, 1, 2, 6) in rows  # word 400 is beyond num_words -> 2 (Keras' oov)
    assert ds.vocab_size == 20


def test_imdb_npz_whose_pickle_runs_code_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):  # on an unrestricted load this writes `marker`
            return (exec, (f"open({str(marker)!r}, 'w').write('x')",))

    evil = np.empty(2, dtype=object)
    evil[:] = [Payload(), [1, 2]]
    np.savez(tmp_path / "imdb.npz", x_train=evil, y_train=np.array([1, 0]), x_test=evil, y_test=np.array([1, 0]))
    with pytest.raises(DatasetError, match=r"imdb\.npz.*x_t(rain|est).*refusing to load builtins\.exec"):
        load_dataset(DatasetSpec("imdb", path=str(tmp_path)))
    assert not marker.exists()


def test_imdb_npz_objects_must_be_lists_of_ints(tmp_path: Path) -> None:
    odd = np.empty(2, dtype=object)
    odd[:] = [[1, 2], {"a": 1}]  # a dict unpickles without any class lookup: caught by the shape check
    np.savez(tmp_path / "imdb.npz", x_train=odd, y_train=np.array([1, 0]), x_test=odd, y_test=np.array([1, 0]))
    with pytest.raises(DatasetError, match=r"x_t(rain|est).*expected .*lists of integer word ids.*dict"):
        load_dataset(DatasetSpec("imdb", path=str(tmp_path)))


def test_imdb_acl_folders_build_vocabulary_from_training_only(tmp_path: Path) -> None:
    texts = {("train", "pos"): ["good good fun"], ("train", "neg"): ["bad dull"],
             ("test", "pos"): ["good zebra"], ("test", "neg"): ["bad"]}
    for (split, label), items in texts.items():
        for i, text in enumerate(items):
            f = tmp_path / "aclImdb" / split / label / f"{i}_7.txt"
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(text)
    ds = load_dataset(DatasetSpec("imdb", path=str(tmp_path), options={"num_words": 10, "sequence_length": 3},
                                  validation_fraction=0.0))
    vocab = build_vocabulary(["good good fun", "bad dull"], 10)
    positive = ds.x_test[ds.y_test == 1][0].tolist()
    assert positive == [0, vocab["good"], 1]  # "zebra" only occurs in test: out of vocabulary


def test_imdb_missing(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"(?s)IMDB not found.*imdb.npz.*aclImdb/train/\{pos,neg\}"):
        load_dataset(DatasetSpec("imdb", path="imdb"), tmp_path)


def test_csv_text_fixture() -> None:
    ds = load_dataset(DatasetSpec("csv_text", path=str(CSV), options={"num_words": 80, "sequence_length": 20}))
    assert ds.class_names == ("negative", "positive")
    assert len(ds.x_train) + len(ds.x_val) + len(ds.x_test) == 400
    assert ds.x_train.shape[1] == 20 and ds.vocab_size == 80


def test_csv_text_errors(tmp_path: Path) -> None:
    bad = tmp_path / "t.csv"
    bad.write_text("review,label\nnice,positive\n")
    with pytest.raises(DatasetError, match=r"no column 'text'; the header has \['review', 'label'\]"):
        load_dataset(DatasetSpec("csv_text", path=str(bad)))
    bad.write_text("text,label\nnice,positive\nbad,\n")
    with pytest.raises(DatasetError, match=r"t.csv:3: row has no text or no label"):
        load_dataset(DatasetSpec("csv_text", path=str(bad)))


def test_text_helpers() -> None:
    assert tokenize("Great<br />film, isn't it?") == ["great", "film", "isn't", "it"]
    assert build_vocabulary(["b a", "a c", "c"], 4) == {"a": 2, "c": 3}  # ties alphabetical, 0/1 reserved
    assert pad([[1, 2, 3, 4], [5]], 3).tolist() == [[2, 3, 4], [0, 0, 5]]  # front-truncate, front-pad


def test_fixture_csv_matches_its_script() -> None:
    result = subprocess.run([sys.executable, str(REPO / "fixtures" / "datasets" / "make_sentiment_csv.py"), "--check"],
                            env={**os.environ, "PYTHONPATH": str(REPO / "toolchain")}, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_data_root_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EDGEBENCH_DATA", raising=False)
    assert data_root(None, tmp_path) == tmp_path / "datasets"
    monkeypatch.setenv("EDGEBENCH_DATA", str(tmp_path / "env"))
    assert data_root(None, tmp_path) == tmp_path / "env"
    assert data_root(str(tmp_path / "flag"), tmp_path) == tmp_path / "flag"
