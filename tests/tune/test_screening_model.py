"""A saved performance model read by tuning: loaded with perfmodel.saved, fed a trial's model features and
tune's run options, its unit converted to µs, its feature space checked, a unitless measure refused."""
from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.errors import UsageError
from edgebench.perfmodel import features, saved
from edgebench.tune.objectives import FigureSource
from edgebench.tune.screening import FigureModel

MODELS = Path(__file__).resolve().parents[2] / "fixtures" / "models"
FILES = ["eb_gather_vocab10.tflite", "eb_uint8_image_mean.tflite", "eb_float16_input.tflite",
         "eb_dynamic_image_conv.tflite", "eb_mixed_int32_int64_bool.tflite"]  # 0.9 to 1.4 kB


def _fit(tmp_path: Path, measure: str) -> Path:
    import pandas as pd

    from edgebench.perfmodel.table import table_from_frame

    rows = []
    for name in FILES:
        size = features.model_features(MODELS / name)["size_bytes"]
        for threads in (1, 2, 4):  # generated: 1 ms + 1 ms per 10 kB, divided among the threads
            rows.append({"size_bytes": size, "threads": float(threads), measure: (1 + size / 1e4) / threads})
    table = table_from_frame(pd.DataFrame(rows), options=["size_bytes", "threads"], measure=measure, source="generated")
    return saved.save_model(saved.fit_model(table, "forest", seed=0, trees=32), tmp_path / "model").path


def test_a_saved_latency_model_predicts_a_trial_in_microseconds_and_flags_what_it_never_saw(tmp_path):
    model = FigureModel.load(FigureSource("model", _fit(tmp_path, "latency_median_ms")), "latency", "local")
    assert model.scale == 1e3 and model.margin == pytest.approx(model.model.cv_mape_pct / 100)
    known = MODELS / FILES[1]
    value, outside = model.predict_file(known)  # tune times a trial at 1 thread
    expected_us = (1 + known.stat().st_size / 1e4) * 1e3
    assert outside == () and value == pytest.approx(expected_us, rel=0.25)
    bigger = MODELS / "eb_lstm_unrolled.tflite"  # 21 kB
    _, outside = model.predict_file(bigger)
    assert any("size_bytes" in reason and "above the fitted range" in reason for reason in outside)


def test_a_model_whose_measure_has_no_unit_is_refused(tmp_path):
    with pytest.raises(UsageError, match="predicts 'latency'.*latency_median_ms"):
        FigureModel.load(FigureSource("model", _fit(tmp_path, "latency")), "latency", "local")
    with pytest.raises(UsageError, match="expected a energy measure"):
        FigureModel.load(FigureSource("model", _fit(tmp_path, "latency_median_ms")), "energy", "local")
