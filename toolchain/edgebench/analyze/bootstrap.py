"""Two-stage (hierarchical) bootstrap of a latency median over repeats.

A measurement is a few repeats (separate runs, each with its own warm-up, thermal state and scheduling)
of many inferences. Resampling the inferences alone treats drift between repeats as if it were noise
that averages out and gives intervals far too narrow; resampling repeats first and then inferences
within each drawn repeat lets that drift widen the interval, as it should.

    hierarchical_medians(repeats, draws, rng) -> array of `draws` bootstrap values of the statistic
    "median of the per-repeat medians" (the figure edgebench's tables show).
    hierarchical_repeat_medians(repeats, draws, rng) -> (draws x repeats) array of the drawn repeats'
    medians, for other statistics over them.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

# Cap on the temporary (draws x samples) index block of one repeat, so 10^4-sample repeats stay small.
_MAX_BLOCK_ELEMENTS = 4_000_000


def hierarchical_medians(repeats: Sequence[Sequence[float]], draws: int,
                         rng: np.random.Generator) -> np.ndarray:
    """Bootstrap values of the median of per-repeat medians: each draw picks as many repeats as there
    are, with replacement, then resamples each picked repeat's samples with replacement."""
    return np.asarray(np.median(hierarchical_repeat_medians(repeats, draws, rng), axis=1), dtype=float)


def hierarchical_repeat_medians(repeats: Sequence[Sequence[float]], draws: int,
                                rng: np.random.Generator) -> np.ndarray:
    """The (draws x repeats) medians behind `hierarchical_medians`: row d holds the medians of the
    repeats drawn in draw d (repeats picked with replacement, each one's samples resampled), so a
    caller can form another statistic over them (compare uses their mean log)."""
    arrays = [np.asarray(r, dtype=float) for r in repeats]
    if not arrays or any(a.size == 0 for a in arrays):
        raise ValueError("hierarchical_medians needs at least one repeat and no empty repeat")
    if draws < 1:
        raise ValueError(f"draws must be >= 1, got {draws}")
    n_repeats = len(arrays)
    picks = rng.integers(0, n_repeats, size=(draws, n_repeats))
    medians = np.empty((draws, n_repeats))
    for i, samples in enumerate(arrays):
        slots = np.flatnonzero(picks.ravel() == i)
        if slots.size == 0:
            continue
        values = np.empty(slots.size)
        chunk = max(1, _MAX_BLOCK_ELEMENTS // samples.size)
        for start in range(0, slots.size, chunk):
            count = min(chunk, slots.size - start)
            idx = rng.integers(0, samples.size, size=(count, samples.size))
            values[start:start + count] = np.median(samples[idx], axis=1)
        medians.ravel()[slots] = values
    return medians
