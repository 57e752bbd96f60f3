"""Pickled dataset files (CIFAR-10 python batches, Keras' imdb.npz object arrays) loaded without running code.

A pickle can name any importable callable (`os.system`, `builtins.exec`) and call it on load, so
a user-supplied file is read by an unpickler that resolves only numpy's array reconstruction
(ndarray, dtype, scalars) and `_codecs.encode` (how protocol-2 pickles spell bytes). Lists, dicts,
ints and strings need no lookup at all. Anything else is refused with a DatasetError.
"""
from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np

from edgebench.datasets.base import DatasetError


class ArrayUnpickler(pickle.Unpickler):
    """Allows numpy arrays and plain containers, nothing else."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset file "
                                     "(only numpy arrays and plain lists/numbers are accepted)")


def restricted_load(fh: IO[bytes], *, encoding: str = "bytes") -> Any:
    return ArrayUnpickler(fh, encoding=encoding).load()


def _read_npy(fh: IO[bytes], where: str) -> np.ndarray:
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        _, _, dtype = np.lib.format.read_array_header_1_0(fh)
    elif version == (2, 0):
        _, _, dtype = np.lib.format.read_array_header_2_0(fh)
    else:
        raise DatasetError(f"{where}: .npy format {version[0]}.{version[1]} is not supported (expected 1.0 or 2.0, "
                           "as numpy.savez writes)")
    if not dtype.hasobject:
        fh.seek(0)
        return np.lib.format.read_array(fh, allow_pickle=False)
    try:  # numpy writes an object array as one pickle of the whole array after the header
        array = restricted_load(fh, encoding="latin1")  # latin1: what numpy needs for Python 2 pickles
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as exc:
        raise DatasetError(f"{where}: not a plain numpy object array ({exc})") from None
    if not isinstance(array, np.ndarray):
        raise DatasetError(f"{where}: expected a numpy array, the pickle holds a {type(array).__name__}")
    return array


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of an .npz; object arrays through the restricted unpickler, never numpy's own."""
    try:
        with zipfile.ZipFile(path) as archive:
            arrays = {}
            for member in archive.namelist():
                if member.endswith(".npy"):
                    with archive.open(member) as fh:
                        arrays[member[:-4]] = _read_npy(fh, f"{path}: array {member[:-4]}")
            return arrays
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DatasetError(f"{path}: not a readable .npz archive ({exc}); expected a file written by "
                           "numpy.savez") from None
