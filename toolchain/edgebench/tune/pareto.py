"""Simple non-dominated sorting and a Monte-Carlo-free hypervolume for small point sets."""
from __future__ import annotations

from typing import Sequence


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """`a` dominates `b` when every objective (all to be minimized) is no worse and one is better."""
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


def non_dominated(points: Sequence[Sequence[float]], maximize: Sequence[bool]) -> list[bool]:
    """For each point, whether no other point dominates it; `maximize[i]` flips objective i."""
    flipped = [[-v if m else v for v, m in zip(p, maximize)] for p in points]
    return [not any(dominates(q, p) for j, q in enumerate(flipped) if j != i) for i, p in enumerate(flipped)]


def hypervolume(points: Sequence[Sequence[float]], reference: Sequence[float]) -> float:
    """Volume dominated by `points` (all objectives minimized) and bounded by `reference`, by
    recursive slicing on the first objective; exact, fine for the tens of points a study has."""
    pts = [tuple(p) for p in points if all(x < r for x, r in zip(p, reference))]
    if not pts:
        return 0.0
    if len(reference) == 1:
        return reference[0] - min(p[0] for p in pts)
    pts.sort()
    volume = 0.0
    for i, p in enumerate(pts):
        upper = pts[i + 1][0] if i + 1 < len(pts) else reference[0]
        if upper > p[0]:
            volume += (upper - p[0]) * hypervolume([q[1:] for q in pts[: i + 1]], reference[1:])
    return volume
