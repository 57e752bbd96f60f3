"""Python twin of the runner's seeded input generator (PROTOCOL.md, "Seeded inputs").

Lets the host rebuild exactly the bytes the runner fed, e.g. to check the runner's output checksum
against the Python interpreter. numpy only; no TensorFlow.
"""
from __future__ import annotations

import numpy as np

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def _splitmix64(count: int, state: int) -> np.ndarray:
    """`count` successive splitmix64 outputs starting from `state` (vectorised)."""
    steps = (np.arange(1, count + 1, dtype=np.uint64) * np.uint64(_GOLDEN)) + np.uint64(state & _MASK)
    z = steps
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def seeded_input(seed: int, index: int, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    """The array the runner feeds to input `index` for `--input-seed seed`."""
    n = int(np.prod(shape, dtype=np.int64)) if shape else 1
    with np.errstate(over="ignore"):
        r = _splitmix64(n, (seed * 1000003 + index) & _MASK)
    out: np.ndarray
    if dtype == "float32":
        out = ((r >> np.uint64(40)).astype(np.float64) / 8388608.0 - 1.0).astype(np.float32)
    elif dtype == "float64":
        out = (r >> np.uint64(11)).astype(np.float64) / 4503599627370496.0 - 1.0
    elif dtype == "float16":
        out = ((r >> np.uint64(53)).astype(np.float64) / 1024.0 - 1.0).astype(np.float16)
    elif dtype in ("int8", "uint8"):
        out = (r >> np.uint64(56)).astype(np.uint8).view(np.int8 if dtype == "int8" else np.uint8)
    elif dtype == "bool":
        out = (r >> np.uint64(63)).astype(np.bool_)
    elif dtype in ("int16", "uint16"):
        out = (r >> np.uint64(48)).astype(np.uint16).view(np.int16 if dtype == "int16" else np.uint16)
    elif dtype in ("int32", "uint32"):
        out = ((r >> np.uint64(32)) % np.uint64(100)).astype(np.int32 if dtype == "int32" else np.uint32)
    elif dtype in ("int64", "uint64"):
        out = ((r >> np.uint64(32)) % np.uint64(100)).astype(np.int64 if dtype == "int64" else np.uint64)
    else:
        raise ValueError(f"no seeded recipe for dtype {dtype!r}")
    return out.reshape(shape)


def fnv1a64(data: bytes, start: int = 0xCBF29CE484222325) -> int:
    """FNV-1a 64, as in the runner's output checksums."""
    h = start
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & _MASK
    return h
