"""A made-up variant table with known answers (numbers chosen so every decision can be worked out by hand).

Device "Phone X" (ids x1, x2), constraints of `THRESHOLDS`: p90 <= 40 ms, accuracy >= 0.85, battery life
10 h at 1 inference/s from a 360 000 mJ battery, bands 0-20-50-100 % -> energy budget from each band's middle
(10, 35, 75 %): 1, 3.5, 7.5 mJ.

    big    accuracy 0.95  p90 30 ms at thermal 0 (x1), 60 ms at 3 (a run invalid only by throttling)   5.0 mJ
    mid    accuracy 0.90  p90 12 ms at 0 (x2), 14 ms at 3 (throttled), + a run invalid for another
                          reason (ignored: p90 999)                                                    2.0 mJ
    small  accuracy 0.80  p90  5 ms at 0 (a smoke run; thermal check not evaluated: taken as 0)       0.8 mJ
    other  accuracy 0.99  p90  2 ms, measured only on "Phone Y"                                        0.1 mJ
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from edgebench.policy.export import BatteryLife, Thresholds
from edgebench.records import Check, LatencyStats, Provenance, RunConfig, RunRecord

SHA = {name: name[0] * 64 for name in ("big", "mid", "small", "other")}
THRESHOLDS = Thresholds(latency_budget_p90_ms=40.0, accuracy_floor=0.85,
                        battery_life=BatteryLife(hours=10.0, rate_hz=1.0, capacity_mj=360_000.0,
                                                 capacity_source="test"), battery_bands_pct=(20.0, 50.0))


def run(run_id: str, name: str, device: str, p90_ms: float, *, status: str = "ok",
        checks: tuple[Check, ...] = (Check("thermal", "pass"),), protocol: str = "standard") -> RunRecord:
    stats = LatencyStats(count=100, min_us=p90_ms * 500, p10_us=p90_ms * 600, median_us=p90_ms * 800,
                         p90_us=p90_ms * 1000, p99_us=p90_ms * 1100, max_us=p90_ms * 1200, mean_us=p90_ms * 820,
                         std_us=1.0)
    return RunRecord(run_id=run_id, run_key=run_id, session="s", model=f"{name}.tflite", model_sha256=SHA[name],
                     model_size_bytes=1000, target=device, device_id=device, config=RunConfig(1, "cpu"),
                     protocol=protocol, repeat=0, status=status, checks=checks,  # type: ignore[arg-type]
                     provenance=Provenance("phone"), latency=stats)


RUNS = {r.run_id: r for r in (
    run("big-0", "big", "x1", 30.0), run("big-1", "big", "x1", 30.0),
    run("big-hot", "big", "x1", 60.0, status="invalid",
        checks=(Check("thermal", "fail", "thermal status reached 3"),)),
    run("mid-0", "mid", "x2", 12.0),
    run("mid-hot", "mid", "x2", 14.0, status="invalid", checks=(Check("thermal", "fail", "thermal status reached 3"),)),
    run("mid-bad", "mid", "x2", 999.0, status="invalid",
        checks=(Check("thermal", "pass"), Check("output_consistency", "fail", "outputs differ"))),
    run("small-0", "small", "x1", 5.0, checks=(Check("thermal", "not_checked", "no thermal status"),), protocol="smoke"),
    run("other-0", "other", "y1", 2.0),
)}
DEVICES = {"x1": {"device_kind": "phone", "model": "Phone X", "soc": "SoC 1"},
           "x2": {"device_kind": "phone", "model": "Phone X"}, "y1": {"device_kind": "phone", "model": "Phone Y"}}


def _row(name: str, device: str, model: str, accuracy: float, energy: list[float], run_ids: list[str]) -> dict[str, Any]:
    return {"source": "", "variant": name, "tflite_sha256": SHA[name], "device_id": device, "device_model": model,
            "config": "cpu/1t", "accuracy": accuracy, "size_bytes": 1000.0, "energy_samples_mj": energy,
            "energy_source": "measured" if energy else "none", "latency_source": "measured",
            "run_ids": run_ids}


def table() -> pd.DataFrame:
    return pd.DataFrame([
        _row("big", "x1", "Phone X", 0.95, [4.8, 5.0, 5.2], ["big-0", "big-1", "big-hot"]),
        _row("mid", "x2", "Phone X", 0.90, [1.9, 2.0, 2.1], ["mid-0", "mid-hot", "mid-bad"]),
        _row("small", "x1", "Phone X", 0.80, [0.8], ["small-0"]),
        _row("other", "y1", "Phone Y", 0.99, [0.1], ["other-0"]),
        {**_row("big", "y1", "Phone Y", 0.95, [], []), "device_id": None, "tflite_sha256": None},  # a build failure
    ])
