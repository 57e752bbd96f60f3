"""Image sources: MNIST (idx or npz), CIFAR-10 (python batches), image folders, scikit-learn digits.

Every image source yields float32 [N, H, W, C] in [0, 1]. `image_size` resizes (bilinear) to a
square, `channels` converts grey <-> RGB; both run after splitting, on the examples kept only.
"""
from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path
from typing import Any, Callable

import numpy as np

from edgebench.datasets.base import DatasetError
from edgebench.datasets.loaders import LoaderDef, LoaderOption, RawSource, missing, register
from edgebench.datasets.safe_pickle import restricted_load

MNIST_IDX = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
MNIST_FROM = ("Keras' mnist.npz: https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz; "
              "or the idx files, optionally .gz, from the MNIST distribution")
CIFAR_FROM = "the 'CIFAR-10 python version' archive, https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz, extracted"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


def _optional_int(low: int, high: int) -> Callable[[Any], int | None]:
    def check(v: Any) -> int | None:
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
            raise ValueError(f"expected an integer in [{low}, {high}], got {v!r}")
        return v
    return check


def _channels(v: Any) -> int | None:
    if v is not None and v not in (1, 3):
        raise ValueError(f"expected 1 or 3, got {v!r}")
    channels: int | None = v
    return channels


IMAGE_OPTIONS = (
    LoaderOption("image_size", None, "resize to image_size x image_size (bilinear); None keeps the size",
                 _optional_int(4, 1024)),
    LoaderOption("channels", None, "1 (grey) or 3 (RGB); None keeps the source's (image folders: RGB)", _channels),
)


def finish_images(parts: dict[str, Any], options: dict[str, Any]) -> tuple[dict[str, np.ndarray], None]:
    out = {}
    for name, x in parts.items():
        x = np.asarray(x)
        if x.dtype == np.uint8:
            x = x.astype(np.float32) / 255.0
        x = x.astype(np.float32)
        if x.ndim == 3:
            x = x[..., None]
        if options["channels"] == 3 and x.shape[-1] == 1:
            x = np.repeat(x, 3, axis=-1)
        elif options["channels"] == 1 and x.shape[-1] == 3:
            x = (x @ np.array([0.299, 0.587, 0.114], dtype=np.float32))[..., None]  # ITU-R 601 luma
        if options["image_size"] is not None and x.shape[1:3] != (options["image_size"],) * 2:
            x = resize(x, options["image_size"])
        out[name] = np.ascontiguousarray(x, dtype=np.float32)
    return out, None


def resize(x: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    out = np.empty((x.shape[0], size, size, x.shape[3]), dtype=np.float32)
    for i in range(x.shape[0]):
        for c in range(x.shape[3]):
            img = Image.fromarray(x[i, :, :, c].astype(np.float32), mode="F")
            out[i, :, :, c] = np.asarray(img.resize((size, size), Image.Resampling.BILINEAR))
    return np.clip(out, 0.0, 1.0)


# --- MNIST --------------------------------------------------------------------------------

def read_idx(path: Path) -> np.ndarray:
    """An idx file (the MNIST format): big-endian magic 0x0000 08 <ndim>, dims, then uint8 data."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        data = fh.read()
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] != 0x08:
        raise DatasetError(f"{path}: not an idx file of unsigned bytes (magic {data[:4].hex() or 'empty'}, "
                           f"expected 000008 followed by the number of dimensions)")
    ndim = data[3]
    header = 4 + 4 * ndim
    dims = struct.unpack(f">{ndim}I", data[4:header])
    expected = int(np.prod(dims))
    if len(data) - header != expected:
        raise DatasetError(f"{path}: idx header says {dims} = {expected} bytes of data, file holds "
                           f"{len(data) - header}; the file is truncated or corrupt")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _find(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def read_mnist(path: Path | None, options: dict[str, Any]) -> RawSource:
    assert path is not None
    npz = path if path.suffix == ".npz" else path / "mnist.npz"
    if npz.is_file():
        with np.load(npz, allow_pickle=False) as f:
            keys = {"x_train", "y_train", "x_test", "y_test"}
            if not keys <= set(f.files):
                raise DatasetError(f"{npz}: expected arrays {sorted(keys)} (Keras' mnist.npz), found {sorted(f.files)}")
            arrays = {k: f[k] for k in keys}
        source = str(npz)
    else:
        folder = path if path.is_dir() or not path.suffix else path.parent
        found = [_find(folder, stem) for stem in MNIST_IDX]
        if any(f is None for f in found):
            raise missing("MNIST", folder, ["mnist.npz", "or: " + ", ".join(s + "[.gz]" for s in MNIST_IDX)], MNIST_FROM)
        arrays = dict(zip(("x_train", "y_train", "x_test", "y_test"), (read_idx(f) for f in found)))  # type: ignore[arg-type]
        source = str(folder)
    for split in ("train", "test"):
        if len(arrays[f"x_{split}"]) != len(arrays[f"y_{split}"]) or arrays[f"x_{split}"].ndim != 3:
            raise DatasetError(f"{source}: MNIST {split} images {arrays[f'x_{split}'].shape} and labels "
                               f"{arrays[f'y_{split}'].shape} do not match (expected [N, 28, 28] and [N])")
    return RawSource(arrays["x_train"], arrays["y_train"].astype(np.int64), arrays["x_test"],
                     arrays["y_test"].astype(np.int64), tuple(str(i) for i in range(10)), source)


# --- CIFAR-10 -----------------------------------------------------------------------------

def _unpickle(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            data = restricted_load(fh)
    except (pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise DatasetError(f"{path}: not a CIFAR-10 python batch ({exc})") from None
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: expected a pickled dict (CIFAR-10 python batch), got {type(data).__name__}")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in data.items()}


def read_cifar10(path: Path | None, options: dict[str, Any]) -> RawSource:
    assert path is not None
    folder = path / "cifar-10-batches-py" if (path / "cifar-10-batches-py").is_dir() else path
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    if not all((folder / n).is_file() for n in names):
        raise missing("CIFAR-10", folder, names + ["batches.meta (optional: class names)"], CIFAR_FROM)

    def batch(name: str) -> tuple[np.ndarray, np.ndarray]:
        d = _unpickle(folder / name)
        if "data" not in d or "labels" not in d:
            raise DatasetError(f"{folder / name}: expected keys data and labels, found {sorted(map(str, d))}")
        x = np.asarray(d["data"], dtype=np.uint8)
        if x.ndim != 2 or x.shape[1] != 3072:
            raise DatasetError(f"{folder / name}: data has shape {x.shape}, expected [N, 3072] (32x32x3, channel-major)")
        return x.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), np.asarray(d["labels"], dtype=np.int64)

    train = [batch(n) for n in names[:5]]
    x_test, y_test = batch("test_batch")
    class_names = tuple(str(i) for i in range(10))
    if (folder / "batches.meta").is_file():
        meta = _unpickle(folder / "batches.meta")
        if "label_names" in meta:
            class_names = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in meta["label_names"])
    return RawSource(np.concatenate([b[0] for b in train]), np.concatenate([b[1] for b in train]),
                     x_test, y_test, class_names, str(folder))


# --- image folders ------------------------------------------------------------------------

def _class_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _read_folder(root: Path, class_names: tuple[str, ...], options: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    images, labels, shapes = [], [], set()
    mode = {1: "L", 3: "RGB", None: "RGB"}[options["channels"]]
    for label, name in enumerate(class_names):
        folder = root / name
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) if folder.is_dir() else []
        for f in files:
            try:
                with Image.open(f) as opened:
                    img = opened.convert(mode)
                    if options["image_size"] is not None:
                        img = img.resize((options["image_size"],) * 2, Image.Resampling.BILINEAR)
                    arr = np.asarray(img, dtype=np.uint8)
            except OSError as exc:
                raise DatasetError(f"{f}: not a readable image ({exc})") from None
            shapes.add(arr.shape)
            images.append(arr)
            labels.append(label)
    if len(shapes) > 1:
        raise DatasetError(f"{root}: images have different sizes {sorted(shapes)[:4]}; set the dataset option "
                           f"image_size to resize them all")
    if not images:
        raise DatasetError(f"{root}: no images ({', '.join(IMAGE_SUFFIXES)}) in the class folders {list(class_names)}")
    return np.stack(images), np.asarray(labels, dtype=np.int64)


def read_image_folder(path: Path | None, options: dict[str, Any]) -> RawSource:
    assert path is not None
    if not path.is_dir():
        raise missing("image folder", path, ["<class name>/<image files>", "or train/<class>/... and test/<class>/..."],
                      "one sub-folder per class")
    split = (path / "train").is_dir() and (path / "test").is_dir()
    train_root = path / "train" if split else path
    class_names = tuple(p.name for p in _class_folders(train_root))
    if len(class_names) < 2:
        raise DatasetError(f"{train_root}: found {len(class_names)} class folder(s) {list(class_names)}; "
                           f"an image-folder dataset needs one sub-folder per class, at least 2")
    x_train, y_train = _read_folder(train_root, class_names, options)
    x_test = y_test = None
    if split:
        extra = sorted({p.name for p in _class_folders(path / "test")} - set(class_names))
        if extra:
            raise DatasetError(f"{path / 'test'}: class folders {extra} do not exist in {train_root}")
        x_test, y_test = _read_folder(path / "test", class_names, options)
    return RawSource(x_train, y_train, x_test, y_test, class_names, str(path))


# --- built-in: scikit-learn digits --------------------------------------------------------

def read_digits(path: Path | None, options: dict[str, Any]) -> RawSource:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DatasetError("the built-in 'digits' dataset comes with scikit-learn: pip install 'edgebench[train]'") from None
    d = load_digits()  # shipped inside scikit-learn: offline
    x = (d.images / 16.0).astype(np.float32)  # 8x8, values 0..16
    return RawSource(x, d.target.astype(np.int64), None, None, tuple(str(i) for i in range(10)),
                     "scikit-learn load_digits (8x8 handwritten digits, bundled with scikit-learn)")


register(LoaderDef("mnist", "image", "MNIST: a folder with mnist.npz or the four idx files", True,
                   IMAGE_OPTIONS, read_mnist, finish_images))
register(LoaderDef("cifar10", "image", "CIFAR-10 python batches: a folder with cifar-10-batches-py/", True,
                   IMAGE_OPTIONS, read_cifar10, finish_images))
register(LoaderDef("image_folder", "image", "a folder with one sub-folder of images per class "
                   "(optionally split into train/ and test/)", True, IMAGE_OPTIONS, read_image_folder, finish_images))
register(LoaderDef("digits", "image", "built-in: scikit-learn's 1797 8x8 digits (offline)", False,
                   IMAGE_OPTIONS, read_digits, finish_images))
