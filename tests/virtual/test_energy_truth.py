"""Window markers and the host-only truth records they produce."""
from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.virtual.energy_truth import EnergyPoint, WindowTracker, parse_marker, read_truth


def test_markers_parse_and_bad_ones_are_refused() -> None:
    start = parse_marker("12.34 run-7 start")
    end = parse_marker("20.00 run-7 end 1500")
    assert (start.t_s, start.run_id, start.kind) == (12.34, "run-7", "start")
    assert (end.kind, end.inferences) == ("end", 1500)
    for bad in ("", "x run start", "1.0 run stop", "1.0 run end many", "1.0 a/b start", "1.0 run start extra"):
        assert parse_marker(bad) is None


def test_a_window_yields_energy_per_inference(tmp_path: Path) -> None:
    tracker = WindowTracker(tmp_path / "energy_truth.jsonl", {"serial": "S"})

    def energy_at(t: float) -> EnergyPoint:  # 200 mW marginal (250 attributed), 1 W for the whole device
        return EnergyPoint(workload_mj=200.0 * t, workload_cpu_s=0.5 * t, device_mj=1000.0 * t, attributed_mj=250.0 * t)

    assert tracker.feed(parse_marker("10.0 r1 start"), energy_at) is None
    record = tracker.feed(parse_marker("15.0 r1 end 100"), energy_at)
    assert record["status"] == "ok" and record["window_s"] == 5.0
    assert record["workload_energy_mj"] == pytest.approx(1000.0)  # the marginal figure is the truth
    assert record["attributed_energy_mj"] == pytest.approx(1250.0)  # the other reading, named as such
    assert record["energy_per_inference_mj"] == pytest.approx(10.0)
    assert record["device_energy_mj"] == pytest.approx(5000.0)
    orphan = tracker.feed(parse_marker("16.0 r2 end 5"), energy_at)
    assert orphan["status"] == "no_start" and orphan["energy_per_inference_mj"] is None
    tracker.feed(parse_marker("17.0 r3 start"), energy_at)
    zero = tracker.feed(parse_marker("18.0 r3 end 0"), energy_at)
    assert zero["status"] == "no_inferences" and zero["energy_per_inference_mj"] is None
    assert [r["run_id"] for r in read_truth(tmp_path)] == ["r1", "r2", "r3"]


def test_the_trace_gives_the_truth_of_any_part_of_the_window(tmp_path: Path) -> None:
    # A model load of 300 mJ in the first second, then 20 mW of inferences: the estimator measures the
    # steady part only (its window starts after the warm-up), so the truth must be readable there too.
    from edgebench.virtual.energy_truth import workload_energy_between

    def energy_at(t: float) -> EnergyPoint:
        return EnergyPoint(workload_mj=300.0 * min(max(t - 10.0, 0.0), 1.0) + 20.0 * max(t - 11.0, 0.0),
                           workload_cpu_s=0.0, device_mj=0.0)

    tracker = WindowTracker(tmp_path / "energy_truth.jsonl", {})
    tracker.feed(parse_marker("10.0 r1 start"), energy_at)
    for k in range(1, 57):  # gauge periods of 175.8 ms
        t = 10.0 + k * 0.1758
        tracker.sample(t, energy_at(t))
    record = tracker.feed(parse_marker("20.0 r1 end 900"), energy_at)
    assert record["workload_energy_mj"] == pytest.approx(300.0 + 20.0 * 9)
    assert workload_energy_between(record, 12.0, 19.0) == pytest.approx(20.0 * 7, rel=1e-3)
    assert workload_energy_between(record, 10.0, 20.0) == pytest.approx(480.0, rel=1e-3)
    assert workload_energy_between(record, 9.0, 19.0) is None  # before the window: not known
    assert read_truth(tmp_path)[0]["workload_trace"][0] == [10.0, 0.0]
