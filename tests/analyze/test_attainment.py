"""Attainment surfaces (moocore's EAF over the Monte-Carlo draws' non-dominated sets) on cases checked by hand."""
from __future__ import annotations

import pandas as pd
import pytest

from edgebench.analyze.attainment import attainment_surfaces
from edgebench.errors import UsageError

# Row "a" takes latency 1 in a third of the draws and 2 otherwise (samples [1, 2, 2]), accuracy 0.9; row "b"
# is fixed at (3, 0.95). Both are non-dominated in every draw, so each draw's front is {a's draw, b}:
#   10 % surface: a at its best (1, 0.9), attained in ~1/3 >= 10 % of the draws, and b;
#   50 % and 90 %: (1, 0.9) is attained in only ~1/3 of the draws, (2, 0.9) in all of them.
TABLE = pd.DataFrame({"id": ["a", "b"], "latency_ms": [2.0, 3.0], "accuracy": [0.9, 0.95],
                      "latency_samples": [[1.0, 2.0, 2.0], [3.0]]})


def _points(surfaces: pd.DataFrame, level: float) -> list[tuple[float, float]]:
    chosen = surfaces[surfaces["level"] == level]
    return list(zip(chosen["latency_ms"], chosen["accuracy"]))


def test_surfaces_of_a_hand_checked_case() -> None:
    surfaces = attainment_surfaces(TABLE, "latency_ms:min,accuracy:max", {"latency_ms": "latency_samples"},
                                   draws=2000, seed=3)
    assert list(surfaces.columns) == ["level", "latency_ms", "accuracy"]
    assert sorted(set(surfaces["level"])) == [0.1, 0.5, 0.9]
    assert _points(surfaces, 0.1) == [(1.0, 0.9), (3.0, 0.95)]
    assert _points(surfaces, 0.5) == [(2.0, 0.9), (3.0, 0.95)]
    assert _points(surfaces, 0.9) == [(2.0, 0.9), (3.0, 0.95)]
    # a level below a third still reaches the optimistic point; one above it does not
    custom = attainment_surfaces(TABLE, "latency_ms:min,accuracy:max", {"latency_ms": "latency_samples"},
                                 levels=(0.3, 0.4), draws=2000, seed=3)
    assert _points(custom, 0.3)[0] == (1.0, 0.9) and _points(custom, 0.4)[0] == (2.0, 0.9)


def test_a_dominated_row_never_shapes_a_surface() -> None:
    table = pd.concat([TABLE, pd.DataFrame({"id": ["c"], "latency_ms": [5.0], "accuracy": [0.5],
                                            "latency_samples": [[4.0, 5.0]]})], ignore_index=True)
    surfaces = attainment_surfaces(table, "latency_ms:min,accuracy:max", {"latency_ms": "latency_samples"},
                                   draws=500, seed=1)
    assert not ((surfaces["accuracy"] == 0.5).any())


def test_same_seed_same_surfaces() -> None:
    one = attainment_surfaces(TABLE, ["latency_ms:min", "accuracy:max"], {"latency_ms": "latency_samples"},
                              draws=200, seed=9)
    two = attainment_surfaces(TABLE, ["latency_ms:min", "accuracy:max"], {"latency_ms": "latency_samples"},
                              draws=200, seed=9)
    pd.testing.assert_frame_equal(one, two)


@pytest.mark.parametrize("objectives, samples, levels, message", [
    ("latency_ms:min,accuracy:max,id2:min", {"latency_ms": "latency_samples"}, (0.5,), "for 2 objectives, got 3"),
    ("latency_ms:min,accuracy:max", {}, (0.5,), "need samples of at least one objective"),
    ("latency_ms:min,accuracy:max", {"latency_ms": "latency_samples"}, (0.0, 0.5), "expected fractions in (0, 1]"),
    ("latency_ms:min,accuracy:max", {"latency_ms": "latency_samples"}, (50,), "expected fractions in (0, 1]"),
])
def test_errors(objectives: str, samples: dict[str, str], levels: tuple[float, ...], message: str) -> None:
    table = TABLE.assign(id2=[1.0, 2.0])
    with pytest.raises(UsageError) as error:
        attainment_surfaces(table, objectives, samples, levels, draws=10)
    assert message in str(error.value)
