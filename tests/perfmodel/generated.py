"""Generated tables with known structure for the transfer, guided-sampling and suggest tests:
a full factorial of a (4 levels), b (3), c (2) and noise1 (3), measure y = 20 + 5a + 3b + 2c + 4·a·b."""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from edgebench.perfmodel.table import PerfTable, table_from_frame

OPTIONS = ("a", "b", "c", "noise1")


def factorial_frame(seed: int = 0, noise_sd: float = 0.0) -> pd.DataFrame:
    grid = np.array(list(itertools.product([0, 1, 2, 3], [1, 2, 4], [0, 1], [0, 1, 2])), dtype=float)
    frame = pd.DataFrame(grid, columns=list(OPTIONS))
    a, b, c = frame["a"], frame["b"], frame["c"]
    frame["y"] = 20 + 5 * a + 3 * b + 2 * c + 4 * a * b + np.random.default_rng(seed).normal(0, noise_sd, len(frame))
    return frame


def table(frame: pd.DataFrame, source: str = "generated", options: tuple[str, ...] = OPTIONS,
          measure: str | None = "y") -> PerfTable:
    return table_from_frame(frame, options=options, measure=measure, source=source)
