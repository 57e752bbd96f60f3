"""Generated tables of configurations with known structure (project-made, no files): a latency that
depends on threads and input size with 2 % noise, and a target of pure noise that depends on nothing."""
from __future__ import annotations

import numpy as np
import pandas as pd

from edgebench.perfmodel.table import PerfTable, table_from_frame


def latency_frame(rows: int = 48, seed: int = 1, noise_sd: float = 0.02) -> pd.DataFrame:
    """threads in {1,2,4,8}, size in {96,128,160,224}, a noise column `junk`; latency_ms = 2 (size/100)² / √threads."""
    rng = np.random.default_rng(seed)
    threads = rng.choice([1, 2, 4, 8], rows)
    size = rng.choice([96, 128, 160, 224], rows)
    latency = 2.0 * (size / 100) ** 2 / np.sqrt(threads) * (1 + noise_sd * rng.normal(size=rows))
    noise_only = np.exp(0.6 * rng.normal(size=rows))  # independent of every option
    return pd.DataFrame({"threads": threads, "size": size, "junk": rng.normal(size=rows),
                         "latency_ms": latency, "noise_ms": noise_only})


def latency_table(rows: int = 48, seed: int = 1, measure: str = "latency_ms",
                  options: tuple[str, ...] = ("threads", "size")) -> PerfTable:
    return table_from_frame(latency_frame(rows, seed), options=options, measure=measure, source="generated",
                            device_ids=("dev-a",))
