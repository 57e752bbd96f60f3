from __future__ import annotations

import pytest

from edgebench.tune.pareto import hypervolume, non_dominated


def test_non_dominated_respects_directions():
    # (accuracy max, latency min)
    pts = [(0.9, 10.0), (0.8, 5.0), (0.7, 6.0), (0.9, 12.0)]
    assert non_dominated(pts, [True, False]) == [True, True, False, False]


def test_hypervolume_of_boxes():
    assert hypervolume([(1.0, 1.0)], (3.0, 3.0)) == pytest.approx(4.0)
    assert hypervolume([(1.0, 2.0), (2.0, 1.0)], (3.0, 3.0)) == pytest.approx(3.0)
    assert hypervolume([(1.0, 1.0, 1.0)], (2.0, 2.0, 2.0)) == pytest.approx(1.0)
    assert hypervolume([(5.0, 1.0)], (3.0, 3.0)) == 0.0
