"""Fronts, frontier, hypervolume and contributions: against a brute-force check and hand-computed cases."""
from __future__ import annotations

import itertools

import moocore
import numpy as np
import pandas as pd
import pytest

from edgebench.analyze import Objective, parse_objectives, pareto
from edgebench.analyze.fronts import default_reference, fronts, hypervolume_contributions, on_frontier
from edgebench.errors import UsageError


def dominates(a: np.ndarray, b: np.ndarray, maximize: list[bool]) -> bool:
    """a is no worse than b everywhere and better somewhere (maximized objectives negated)."""
    sign = np.where(maximize, -1.0, 1.0)
    a, b = a * sign, b * sign
    return bool(np.all(a <= b) and np.any(a < b))


def brute_force_fronts(points: np.ndarray, maximize: list[bool]) -> np.ndarray:
    """O(n²) per layer: peel off the rows no remaining row dominates."""
    front = np.zeros(len(points), dtype=int)
    remaining = set(range(len(points)))
    layer = 0
    while remaining:
        layer += 1
        peeled = {i for i in remaining if not any(dominates(points[j], points[i], maximize) for j in remaining)}
        for i in peeled:
            front[i] = layer
        remaining -= peeled
    return front


@pytest.mark.parametrize("seed", range(10))
def test_fronts_and_frontier_equal_brute_force_with_mixed_directions_and_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_objectives = 2 + seed % 5  # 2 to 6
    points = rng.integers(0, 6, size=(60, n_objectives)).astype(float)  # a small range: many ties
    maximize = [bool(v) for v in rng.integers(0, 2, size=n_objectives)]
    maximize[0], maximize[-1] = True, False
    objectives = [Objective(f"o{i}", m) for i, m in enumerate(maximize)]
    expected = brute_force_fronts(points, maximize)
    assert fronts(points, objectives).tolist() == expected.tolist()
    assert on_frontier(points, objectives).tolist() == (expected == 1).tolist()
    table = pd.DataFrame(points, columns=[o.name for o in objectives])
    result = pareto(table, [o.spec() for o in objectives]).rows
    assert result["front"].tolist() == expected.tolist()
    assert result["on_frontier"].tolist() == (expected == 1).tolist()


def test_equal_rows_share_the_frontier() -> None:
    table = pd.DataFrame({"lat": [1.0, 1.0, 2.0, 3.0], "acc": [0.5, 0.5, 0.4, 0.9]})
    rows = pareto(table, "lat:min,acc:max").rows
    assert rows["on_frontier"].tolist() == [True, True, False, True]
    assert rows["front"].tolist() == [1, 1, 2, 1]


def test_hypervolume_2d_by_hand_with_a_maximized_objective() -> None:
    # latency minimized, accuracy maximized, reference (4, 0): staircase 1*3 + 1*2 + 1*1 = 6;
    # d = (3.5, 0.5) is dominated by c = (3, 3) and adds nothing
    table = pd.DataFrame({"lat": [1.0, 2.0, 3.0, 3.5], "acc": [1.0, 2.0, 3.0, 0.5]})
    assert pareto(table, "lat:min,acc:max", reference=[4.0, 0.0]).hypervolume == pytest.approx(6.0)


def test_hypervolume_2d_staircase() -> None:
    table = pd.DataFrame({"lat": [1.0, 2.0, 3.0], "acc": [1.0, 2.0, 3.0]})
    assert pareto(table, "lat:min,acc:max", reference=[4.0, 0.0]).hypervolume == pytest.approx(3 + 2 + 1)


def test_hypervolume_3d_by_hand() -> None:
    # c maximized against -1, so both boxes are 2 high: [1,3]x[2,3] (area 2) and [2,3]x[1,3] (area 2),
    # overlapping in [2,3]x[2,3] (area 1): (2 + 2 - 1) * 2 = 6. The third row's box [2.5,3]^2 x [-1,0.5]
    # lies inside the first one and adds nothing.
    table = pd.DataFrame({"a": [1.0, 2.0, 2.5], "b": [2.0, 1.0, 2.5], "c": [1.0, 1.0, 0.5]})
    assert pareto(table, "a:min,b:min,c:max", reference=[3.0, 3.0, -1.0]).hypervolume == pytest.approx(6.0)
    # all minimized against (1, 1, 0): [0,1]^2 x [-1,0] (1) and [0.5,1]^2 x [-2,0] (0.5) overlap in
    # [0.5,1]^2 x [-1,0] (0.25): 1.25
    corner = pd.DataFrame({"a": [0.0, 0.5], "b": [0.0, 0.5], "c": [-1.0, -2.0]})
    assert pareto(corner, "a:min,b:min,c:min", reference=[1.0, 1.0, 0.0]).hypervolume == pytest.approx(1.25)


def test_hypervolume_equals_moocore_on_the_minimization_form() -> None:
    rng = np.random.default_rng(7)
    table = pd.DataFrame(rng.random((200, 3)), columns=["x", "y", "z"])
    analysis = pareto(table, "x:min,y:max,z:max")
    ref = np.array(analysis.reference)
    flipped = table.to_numpy() * np.array([1, -1, -1])
    assert analysis.hypervolume == pytest.approx(moocore.hypervolume(flipped, ref=ref * np.array([1, -1, -1])))


@pytest.mark.parametrize("seed", [0, 1])
def test_hypervolume_equals_optunas_independent_implementation(seed: int) -> None:
    # Optuna's WFG hypervolume (minimization) is a second, independent implementation; mixed directions
    # enter it negated.
    optuna_hv = pytest.importorskip("optuna._hypervolume").compute_hypervolume
    rng = np.random.default_rng(seed)
    points = rng.uniform(0, 1, size=(40, 3))
    objectives = parse_objectives("a:min,b:max,c:min")
    reference = np.array([1.1, -0.1, 1.1])
    sign = np.array([1.0, -1.0, 1.0])
    ours = pareto(pd.DataFrame(points, columns=["a", "b", "c"]), objectives, reference=reference.tolist()).hypervolume
    assert ours == pytest.approx(optuna_hv(points * sign, reference * sign), rel=1e-12)


def test_exclusive_contributions_by_hand_and_by_removal() -> None:
    # (1,3), (2,2), (3,1) against (4,4): each owns a 1 x 1 square; (3,3) is dominated and owns nothing
    points = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [3.0, 3.0]])
    objectives = parse_objectives("a:min,b:min")
    assert hypervolume_contributions(points, objectives, np.array([4.0, 4.0])).tolist() == [1.0, 1.0, 1.0, 0.0]
    rng = np.random.default_rng(3)
    points = rng.random((30, 3))
    objectives = parse_objectives("a:min,b:max,c:min")
    ref = default_reference(points, objectives)
    flip = np.array([1.0, -1.0, 1.0])
    total = moocore.hypervolume(points * flip, ref=ref * flip)
    removal = [total - moocore.hypervolume(np.delete(points, i, axis=0) * flip, ref=ref * flip) for i in range(30)]
    assert hypervolume_contributions(points, objectives, ref) == pytest.approx(removal, abs=1e-12)


def test_default_reference_is_the_worst_value_plus_a_tenth_of_the_range() -> None:
    table = pd.DataFrame({"lat": [10.0, 20.0, 30.0], "acc": [0.5, 0.9, 0.7]})
    analysis = pareto(table, "lat:min,acc:max")
    assert analysis.reference == pytest.approx((32.0, 0.46))
    assert not analysis.reference_given
    assert pareto(table, "lat:min,acc:max", reference=[40, 0]).reference_given


@pytest.mark.parametrize("spec, message", [
    ("lat", "expected NAME:min or NAME:max"),
    ("lat:fast,acc:max", "expected NAME:min or NAME:max"),
    ("lat:min", "expected 2 to 6 objectives, got 1"),
    (",".join(f"o{i}:min" for i in range(7)), "expected 2 to 6 objectives, got 7"),
    ("lat:min,lat:max", "given twice"),
])
def test_bad_objective_specs(spec: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_objectives(spec)


def test_errors_name_what_is_wrong() -> None:
    table = pd.DataFrame({"lat": [1.0, 2.0, 3.0], "acc": ["0.5", "oops", "0.7"], "size": [4.0, 4.0, 4.0]})
    with pytest.raises(UsageError, match=r"'accuracy' is not a column of the table; its columns are: lat, acc, size"):
        pareto(table, "lat:min,accuracy:max")
    with pytest.raises(UsageError, match=r"row 2, column 'acc': expected a finite number, got 'oops'"):
        pareto(table, "lat:min,acc:max")
    with pytest.raises(UsageError, match=r"objective 'size' is constant \(4 in every row\)"):
        pareto(table, "lat:min,size:min")
    with pytest.raises(UsageError, match="expected at least 2 rows to compare, got 1"):
        pareto(table.iloc[:1], "lat:min,size:min")
    with pytest.raises(UsageError, match="reference .*expected 2 finite numbers"):
        pareto(table.assign(acc=[1.0, 2.0, 3.0]), "lat:min,acc:max", reference=[1.0])
    with pytest.raises(UsageError, match="objective 'front' has the name of a result column"):
        pareto(table.rename(columns={"lat": "front"}), "front:min,size:min")
    with pytest.raises(UsageError, match="row 3, column 'lat': expected a finite number, got an empty cell"):
        pareto(pd.DataFrame({"lat": [1.0, 2.0, None], "acc": [1.0, 2.0, 3.0]}), "lat:min,acc:max")


def test_id_column_and_input_order() -> None:
    table = pd.DataFrame({"name": ["x", "y", "z"], "lat": [3.0, 1.0, 2.0], "acc": [1.0, 2.0, 3.0]})
    rows = pareto(table, "lat:min,acc:max", id_col="name").rows
    assert rows["id"].tolist() == ["x", "y", "z"]
    assert pareto(table, "lat:min,acc:max").rows["id"].tolist() == [1, 2, 3]
    for a, b in itertools.combinations(range(3), 2):
        assert rows.index[a] < rows.index[b]
