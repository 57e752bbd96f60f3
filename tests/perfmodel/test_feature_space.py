"""The feature space of fitted rows and why a configuration lies outside it."""
from __future__ import annotations

import pandas as pd
import pytest

from edgebench.errors import UsageError
from edgebench.perfmodel.feature_space import FeatureSpace
from edgebench.perfmodel.table import table_from_frame
from tests.perfmodel.fit_generated import latency_table


def space() -> FeatureSpace:
    return FeatureSpace.of_table(latency_table(options=("threads", "size", "junk")))


def test_discrete_options_keep_their_levels_and_continuous_ones_only_a_range():
    threads, size, junk = space().features
    assert threads.levels == (1.0, 2.0, 4.0, 8.0) and (threads.min_value, threads.max_value) == (1.0, 8.0)
    assert size.levels == (96.0, 128.0, 160.0, 224.0)
    assert junk.levels is None  # 48 distinct values in 48 rows


def test_inside_the_space_has_no_reasons():
    junk = space().features[2]
    assert space().outside([4, 160, (junk.min_value + junk.max_value) / 2]) == ()


def test_above_max_below_min_and_unseen_level_are_named():
    junk = space().features[2]
    reasons = space().outside([16, 64, junk.max_value + 1])
    assert reasons[0] == "threads = 16 is above the fitted range 1..8"
    assert reasons[1] == "size = 64 is below the fitted range 96..224"
    assert reasons[2].startswith("junk = ") and "above the fitted range" in reasons[2]
    assert space().outside([3, 128, 0.0]) == ("threads = 3 is a level never fitted (fitted levels: 1, 2, 4, 8)",)


def test_a_level_read_back_from_text_still_matches():
    frame = pd.DataFrame({"scale": [0.1, 0.1, 0.3, 0.3], "y": [1, 2, 3, 4]})
    fitted = FeatureSpace.of_table(table_from_frame(frame, options=["scale"], measure="y", source="t"))
    assert fitted.outside([float("0.1")]) == () and fitted.outside([0.1 + 0.2]) == ()


def test_json_round_trip_and_wrong_width():
    assert FeatureSpace.from_json(space().to_json()) == space()
    with pytest.raises(UsageError, match=r"expected 3 feature values \(threads, size, junk\), got 2"):
        space().outside([1, 2])


def test_a_new_models_magnitudes_inside_the_fitted_range_are_inside_however_few_models_were_fitted():
    # 5 models × threads 1/2/4: each size, FLOP and op count is seen 3 times, so by count alone they would be
    # levels, and every new trial's model would be "a level never fitted".
    sizes, flops, convs = [900, 912, 1180, 1268, 1408], [1e5, 2e5, 3e5, 4e5, 5e5], [1, 1, 2, 2, 3]
    rows = [(s, f, c, t, 1.0 + f / 1e5 / t) for s, f, c in zip(sizes, flops, convs) for t in (1, 2, 4)]
    frame = pd.DataFrame(rows, columns=["size_bytes", "flops", "op_count.CONV_2D", "threads", "ms"])
    space = FeatureSpace.of_table(table_from_frame(frame, options=["size_bytes", "flops", "op_count.CONV_2D", "threads"],
                                                   measure="ms", source="t"))
    assert space.outside([1000, 2.5e5, 2, 2]) == ()
    assert space.outside([1000, 2.5e5, 2, 3]) == ("threads = 3 is a level never fitted (fitted levels: 1, 2, 4)",)
    assert space.outside([2000, 2.5e5, 2, 2]) == ("size_bytes = 2000 is above the fitted range 900..1408",)
