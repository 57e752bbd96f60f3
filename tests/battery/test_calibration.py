from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from edgebench.battery import Calibration, CalibrationError, calibrate, sample_period_s
from edgebench.errors import EdgebenchError

from .synth import GaugeSpec, idle_recording, with_columns

COMBOS = [("uA", False), ("uA", True), ("mA", False), ("mA", True)]


@pytest.mark.parametrize("unit,discharge_positive", COMBOS)
def test_calibration_recovers_scale_and_sign(unit: str, discharge_positive: bool) -> None:
    spec = GaugeSpec(unit=unit, discharge_positive=discharge_positive)
    cal = calibrate(idle_recording(spec), source="600 s idle, synthetic")
    assert cal.scale_to_ua == (1000.0 if unit == "mA" else 1.0)
    assert cal.discharge_sign == (1 if discharge_positive else -1)
    assert cal.agreement < 0.02
    assert cal.charge_quantum_uah == 500.0
    # Idle at 350 mW and ~3.9 V is ~90 mA of discharge; the calibrated current says the same.
    assert cal.counter_discharge_ua == pytest.approx(90_000, rel=0.03)
    # 100 mA of discharge as this device prints it comes out as +100 000 µA.
    printed = (100.0 if unit == "mA" else 100_000.0) * (1 if discharge_positive else -1)
    assert cal.discharge_current_ua(np.array([printed, np.nan])).tolist()[0] == pytest.approx(100_000.0)


def test_update_period_is_measured_from_value_changes() -> None:
    cal = calibrate(idle_recording(GaugeSpec(unit="uA")), source="s")
    assert cal.update_period_s == pytest.approx(0.1758, rel=0.02)
    # A mA gauge repeats a value now and then (1 mA resolution, 3 mA noise): the estimate is an upper bound.
    cal_ma = calibrate(idle_recording(GaugeSpec(unit="mA")), source="s")
    assert 0.1758 <= cal_ma.update_period_s < 0.1758 * 1.15
    assert sample_period_s(cal) == pytest.approx(0.1)  # 100 ms floor (§4.1)
    assert sample_period_s(replace(cal, update_period_s=1.0)) == pytest.approx(0.5)
    assert sample_period_s(None) == pytest.approx(0.1)


def test_a_flat_charge_counter_is_refused() -> None:
    series = idle_recording()
    flat = with_columns(series, charge_counter_uah=np.where(np.isnan(series.charge_counter_uah), np.nan, 2_000_000.0))
    with pytest.raises(CalibrationError, match="did not move"):
        calibrate(flat, source="s")


def test_a_missing_charge_counter_is_refused() -> None:
    series = idle_recording()
    with pytest.raises(CalibrationError, match="charge_counter is missing"):
        calibrate(with_columns(series, charge_counter_uah=np.full(len(series), np.nan)), source="s")


def test_a_counter_that_barely_moved_is_refused() -> None:
    series = idle_recording(seconds=30.0)  # ~0.75 mAh: one or two 0.5 mAh steps
    with pytest.raises(CalibrationError, match="calibration needs ≥ 3 steps"):
        calibrate(series, source="s")
    assert issubclass(CalibrationError, EdgebenchError)


def test_a_unit_that_matches_no_scale_is_refused_with_the_ratio() -> None:
    series = idle_recording()
    odd = with_columns(series, current_raw=series.current_raw / 10.0)  # a gauge printing 10 µA units
    with pytest.raises(CalibrationError, match=r"no \(scale, sign\).*ratio"):
        calibrate(odd, source="s")


def test_a_counter_rising_while_discharging_is_refused() -> None:
    series = idle_recording()
    q0 = np.nanmax(series.charge_counter_uah)
    rising = 2 * q0 - series.charge_counter_uah  # counts charge consumed instead of charge remaining
    with pytest.raises(CalibrationError, match="rose .* while status read 'Discharging'"):
        calibrate(with_columns(series, charge_counter_uah=rising), source="s")


def test_calibration_survives_a_json_round_trip() -> None:
    cal = calibrate(idle_recording(GaugeSpec(unit="mA", discharge_positive=True)), source="run abc")
    text = json.dumps(cal.to_json())
    back = Calibration.from_json(json.loads(text))
    assert back == cal
    reused = Calibration.from_json(json.loads(text), source="reused from profiles/x.json")
    assert reused.source == "reused from profiles/x.json" and reused.scale_to_ua == 1000.0


@pytest.mark.parametrize("change,match", [
    ({"kind": "other"}, "kind="),
    ({"version": 99}, "version 99"),
    ({"scale_to_ua": 10}, "scale_to_ua must be 1"),
    ({"discharge_sign": 0}, "discharge_sign must be"),
    ({"agreement": "small"}, "'agreement' must be a finite number"),
    ({"source": None}, "'source' must be text"),
])
def test_malformed_stored_calibrations_are_refused(change: dict, match: str) -> None:
    data = Calibration(1.0, -1, 0.1758, 500.0, 0.01, "s").to_json() | change
    with pytest.raises(CalibrationError, match=match):
        Calibration.from_json(data)
