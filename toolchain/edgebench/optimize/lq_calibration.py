"""Calibration data for static litert-quantizer recipes: `auto`, a folder of .npy, or an .npz.

    calibration = load_calibration("auto" | DIR | FILE.npz, model_bytes)

`auto` is seeded random inputs (agreement.seeded_inputs, within each input's dtype range): it
makes a variant that runs, not one calibrated for real data, and the variant's record says so.
A folder holds `<input name>.npy` per model input; an .npz holds one array per input name. Each
array is [N, *input shape without its batch of 1] or [N, *input shape]: N samples. The data hash
(sha256 over names, dtypes, shapes and bytes in name order) goes into the variant's lineage.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgebench.errors import UsageError
from edgebench.optimize.agreement import InputSpec, input_specs, seeded_inputs

AUTO_SAMPLES = 16
AUTO_SEED = 0


@dataclass(frozen=True)
class Calibration:
    source: str  # "auto (16 seeded random samples, seed 0)" or the path given
    samples: tuple[dict[str, np.ndarray], ...]
    data_sha256: str
    automatic: bool


def samples_sha256(samples: list[dict[str, np.ndarray]]) -> str:
    h = hashlib.sha256()
    for sample in samples:
        for name in sorted(sample):
            a = np.ascontiguousarray(sample[name])
            h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
            h.update(a.tobytes())
    return h.hexdigest()


def _split(name: str, array: np.ndarray, spec: InputSpec, where: str) -> list[np.ndarray]:
    if array.dtype != np.dtype(spec.dtype):
        raise UsageError(f"{where}: input {name!r} is {array.dtype}, the model takes {spec.dtype}; "
                         f"save it as {spec.dtype} (e.g. array.astype(np.{spec.dtype}))")
    shape = spec.shape
    if array.shape[1:] == shape:  # [N, *shape]
        return [a for a in array]
    if shape and shape[0] == 1 and array.shape[1:] == shape[1:]:  # [N, *shape[1:]] for a batch of 1
        return [a[None, ...] for a in array]
    raise UsageError(f"{where}: input {name!r} has shape {list(array.shape)}; expected [N, "
                     f"{', '.join(map(str, shape))}] (N samples of the input shape {list(shape)})")


def load_calibration(source: str, model: bytes) -> Calibration:
    specs = {s.name: s for s in input_specs(model)}
    if source == "auto":
        samples = seeded_inputs(model, samples=AUTO_SAMPLES, seed=AUTO_SEED)
        return Calibration(f"auto ({AUTO_SAMPLES} seeded random samples, seed {AUTO_SEED}, not real data)",
                           tuple(samples), samples_sha256(samples), True)
    path = Path(source)
    arrays: dict[str, np.ndarray] = {}
    if path.is_dir():
        arrays = {f.stem: np.load(f, allow_pickle=False) for f in sorted(path.glob("*.npy"))}
    elif path.is_file() and path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    else:
        raise UsageError(f"--calibration {source!r}: expected 'auto', a folder of <input name>.npy files or an .npz "
                         f"file with one array per input name")
    missing = sorted(set(specs) - set(arrays))
    if missing:
        raise UsageError(f"calibration data {path}: no array for input(s) {', '.join(map(repr, missing))}; "
                         f"the model's inputs are {', '.join(map(repr, specs))}, the data has "
                         f"{', '.join(map(repr, arrays)) or 'none'}")
    extra = sorted(set(arrays) - set(specs))
    if extra:
        raise UsageError(f"calibration data {path}: {', '.join(map(repr, extra))} is not an input of the model; "
                         f"its inputs are {', '.join(map(repr, specs))}")
    split = {name: _split(name, arrays[name], specs[name], str(path)) for name in specs}
    counts = {name: len(v) for name, v in split.items()}
    if len(set(counts.values())) != 1 or not next(iter(counts.values())):
        raise UsageError(f"calibration data {path}: every input needs the same number of samples (at least 1), "
                         f"got {counts}")
    n = next(iter(counts.values()))
    samples = [{name: split[name][i] for name in specs} for i in range(n)]
    return Calibration(str(path), tuple(samples), samples_sha256(samples), False)
