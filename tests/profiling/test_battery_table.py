"""profile-battery's table and --json: the CI's level, and 'unresolved' instead of a point value."""
from __future__ import annotations

import json

from rich.console import Console

from edgebench.battery import summarize_repeats
from edgebench.profiling.session import BatteryModelResult
from edgebench.profiling.table import battery_table
from tests.battery.test_summary import run


def _result(values: list[float]) -> BatteryModelResult:
    s = summarize_repeats([run(v, seconds=30.0) for v in values])
    return BatteryModelResult(
        model="m.tflite", target="S", run_ids=tuple(f"r{i}" for i in range(len(values))),
        energy_per_inference_mj=s.headline_mj, ci_low_mj=s.ci_low_mj, ci_high_mj=s.ci_high_mj, idle_power_mw=351.0,
        active_power_mw=352.0, inferences=30_000, valid=True, checks={}, check_reasons={}, device_kind="virtual",
        energy_source="simulated", energy_summary=s)


def _text(results) -> str:  # type: ignore[no-untyped-def]
    console = Console(width=300, record=True)
    console.print(battery_table(results, title="t"))
    return console.export_text()


def test_unresolved_energy_is_no_point_value() -> None:
    r = _result([0.004, -0.001, 0.003])
    text = _text([r])
    assert "unresolved (CI includes 0): ≥ " in text and " repeats or ≥ " in text and "(95%)" in text
    energy = json.loads(json.dumps(r.to_json()))["energy_per_inference_mj"]
    assert energy["value"] is None and energy["resolved"] is False and energy["mean"] > 0
    assert energy["repeats_to_resolve"] > 3 and energy["measured_seconds_to_resolve"] > 30.0
    assert energy["ci_low"] <= 0 < energy["ci_high"] and energy["ci_level"] == 0.95


def test_resolved_energy_has_its_value_and_level() -> None:
    r = _result([20.0, 20.5, 19.8])
    assert "20.1 mJ" in _text([r]) and "(95%)" in _text([r])
    energy = r.to_json()["energy_per_inference_mj"]
    assert energy["value"] == energy["mean"] and energy["resolved"] is True and energy["repeats_to_resolve"] is None
