"""Rank statistics computed for many bootstrap resamples at once (one row per resample), so a CI of
1,000 draws costs a few array operations instead of 1,000 scipy calls. Each equals its scipy
counterpart on a single row (tests/analyze/test_rank_statistics.py checks them against scipy):
Kendall's tau-b (`scipy.stats.kendalltau`), Spearman's rho (`scipy.stats.spearmanr`), Kruskal-Wallis H with the tie correction (`scipy.stats.kruskal`),
Wasserstein-1 between weights on shared positions (`scipy.stats.wasserstein_distance`).
"""
from __future__ import annotations

import numpy as np
from scipy import stats


def ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (1..n, ties share their mean rank) along each row."""
    return np.asarray(stats.rankdata(np.atleast_2d(values), axis=-1), dtype=float)


def pearson_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson's r of each row of a with the same row of b; NaN where either row is constant."""
    a = a - a.mean(axis=-1, keepdims=True)
    b = b - b.mean(axis=-1, keepdims=True)
    norm = np.sqrt((a * a).sum(axis=-1) * (b * b).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(norm > 0, (a * b).sum(axis=-1) / np.where(norm > 0, norm, 1.0), np.nan))


def spearman_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman's rho of each row of x with the same row of y (Pearson's r of average ranks); NaN for a
    row where either side is constant."""
    return pearson_rows(ranks(x), ranks(y))


def level_medians(codes: np.ndarray, values: np.ndarray, n_levels: int) -> np.ndarray:
    """(rows x n_levels) median of each row's values at each code 0..n_levels-1; NaN for an absent level."""
    codes, values = np.atleast_2d(codes), np.atleast_2d(values).astype(float)
    out = np.full((values.shape[0], n_levels), np.nan)
    for level in range(n_levels):
        members = codes == level
        count = members.sum(axis=-1)
        ordered = np.sort(np.where(members, values, np.inf), axis=-1)  # the level's values first, ascending
        low = np.take_along_axis(ordered, np.maximum((count - 1) // 2, 0)[:, None], axis=-1)[:, 0]
        high = np.take_along_axis(ordered, np.minimum(count // 2, values.shape[-1] - 1)[:, None], axis=-1)[:, 0]
        with np.errstate(invalid="ignore"):
            out[:, level] = np.where(count > 0, (low + high) / 2.0, np.nan)
    return out


def _tie_sums(values: np.ndarray) -> np.ndarray:
    """Per row, the sum over groups of equal values of t^3 - t (t = group size)."""
    rows, n = values.shape
    ordered = np.sort(values, axis=-1)
    new_group = np.concatenate([np.ones((rows, 1), dtype=bool), np.diff(ordered, axis=-1) != 0], axis=-1)
    group = np.cumsum(new_group, axis=-1) - 1 + (np.arange(rows) * n)[:, None]
    sizes = np.bincount(group.ravel(), minlength=rows * n).reshape(rows, n).astype(float)
    return np.asarray((sizes ** 3 - sizes).sum(axis=-1), dtype=float)


def kruskal_h_rows(codes: np.ndarray, values: np.ndarray, n_levels: int,
                   value_ranks: np.ndarray | None = None) -> np.ndarray:
    """Kruskal-Wallis H (tie-corrected) of each row's values grouped by the row's codes 0..n_levels-1;
    NaN where fewer than 2 groups are present or every value is equal. `value_ranks`: ranks(values) if
    already computed (ties in the values are ties in their average ranks)."""
    codes = np.atleast_2d(codes)
    rank = ranks(values) if value_ranks is None else np.atleast_2d(value_ranks)
    n = rank.shape[-1]
    total = np.zeros(rank.shape[0])
    groups = np.zeros(rank.shape[0], dtype=int)
    for level in range(n_levels):
        members = codes == level
        count = members.sum(axis=-1)
        rank_sum = np.where(members, rank, 0.0).sum(axis=-1)
        total += np.where(count > 0, rank_sum ** 2 / np.maximum(count, 1), 0.0)
        groups += count > 0
    h = 12.0 / (n * (n + 1)) * total - 3.0 * (n + 1)
    correction = 1.0 - _tie_sums(rank) / (n ** 3 - n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((groups >= 2) & (correction > 0), h / np.where(correction > 0, correction, 1.0), np.nan)


def wasserstein_rows(positions: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Wasserstein-1 between weights p and q (rows, each summing to 1) on the same sorted positions:
    the area between their cumulative distributions."""
    gaps = np.diff(positions)
    return np.asarray(np.abs(np.cumsum(p, axis=-1) - np.cumsum(q, axis=-1))[..., :-1] @ gaps, dtype=float)


def kendall_tau_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Kendall's tau-b of each row of x with the same row of y (ties in either ranking allowed, as
    `scipy.stats.kendalltau`'s default); NaN where either side is constant. Costs rows x n x n."""
    x, y = np.atleast_2d(x).astype(float), np.atleast_2d(y).astype(float)
    n = x.shape[-1]
    sx = np.sign(x[:, :, None] - x[:, None, :])
    sy = np.sign(y[:, :, None] - y[:, None, :])
    pairs = n * (n - 1) / 2.0
    concordance = (sx * sy).sum(axis=(1, 2)) / 2.0  # each unordered pair counted twice
    untied_x = pairs - ((sx == 0).sum(axis=(1, 2)) - n) / 2.0
    untied_y = pairs - ((sy == 0).sum(axis=(1, 2)) - n) / 2.0
    denominator = np.sqrt(untied_x * untied_y)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, concordance / np.where(denominator > 0, denominator, 1.0), np.nan)
