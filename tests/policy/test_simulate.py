"""Replaying a trace: hand-computed energy, accuracy and latency for the policy and both baselines."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edgebench.errors import UsageError
from edgebench.policy.export import build_policy
from edgebench.policy.measured import measured_variants
from edgebench.policy.simulate import simulate, simulation_json, weighted_percentile
from edgebench.policy.trace import Trace, TracePoint, read_csv_trace

from . import synthetic

# 100 s in each of: band 50+ discharging (big), band 20-50 (mid), band 0-20 (fallback: small), charging (big).
TRACE = ("time_s,battery_pct,charging,thermal_status\n"
         "0,80,false,0\n100,40,false,0\n200,10,false,0\n300,10,true,0\n400,12,true,0\n")


@pytest.fixture()
def policy() -> dict[str, Any]:
    variants, excluded, device = measured_variants(synthetic.table(), "Phone X", synthetic.RUNS, synthetic.DEVICES)
    return build_policy(variants, excluded, device, synthetic.THRESHOLDS, {})


def _trace(tmp_path: Path, text: str = TRACE) -> Trace:
    path = tmp_path / "trace.csv"
    path.write_bytes(text.encode())
    return read_csv_trace(path)


def test_energy_accuracy_and_latency_match_the_hand_computation(policy: dict[str, Any], tmp_path: Path) -> None:
    sim = simulate(policy, _trace(tmp_path), rate_hz=2.0)  # 200 inferences per 100 s span
    mine, accurate, fastest = sim.result("policy"), sim.result("most_accurate"), sim.result("fastest")
    assert [s.variant for s in mine.spans] == ["big", "mid", "small", "big"]
    assert mine.energy_mj == pytest.approx(200 * 5.0 + 200 * 2.0 + 200 * 0.8 + 200 * 5.0)  # 2560 mJ
    assert accurate.energy_mj == pytest.approx(800 * 5.0) and accurate.label == "always most accurate (big)"
    assert fastest.energy_mj == pytest.approx(800 * 0.8) and fastest.label == "always fastest (small)"
    assert mine.mean_accuracy == pytest.approx((0.95 + 0.90 + 0.80 + 0.95) / 4)
    assert mine.latency_p90_ms == 30.0 and mine.worst_latency_p90_ms == 30.0 and fastest.latency_p90_ms == 5.0
    assert mine.switches == 3 and mine.time_by_variant_s == {"big": 200.0, "mid": 100.0, "small": 100.0}
    assert [s.cumulative_energy_mj for s in mine.spans] == pytest.approx([1000, 1400, 1560, 2560])
    assert mine.energy_basis.startswith("predicted: energy per inference (measured)")
    assert simulation_json(sim)["energy_is"] == "predicted"


def test_a_variant_without_energy_makes_the_total_unknown_not_zero(policy: dict[str, Any], tmp_path: Path) -> None:
    for variant in policy["variants"]:
        if variant["name"] == "mid":
            variant["energy_mj"] = None
    policy["thresholds"]["energy_budget"] = None  # else mid could not be chosen
    policy["thresholds"]["latency_budget_p90_ms"] = 20.0  # big misses: mid everywhere
    sim = simulate(policy, _trace(tmp_path), rate_hz=1.0)
    assert sim.result("policy").energy_mj is None and sim.result("most_accurate").energy_mj == pytest.approx(2000.0)
    assert sim.result("policy").energy_basis == "not known: no energy per inference for mid (measure it with profile-battery)"


def test_the_timeline_plot_is_written(policy: dict[str, Any], tmp_path: Path) -> None:
    from edgebench.policy.plot import plot_timeline

    plot_timeline(simulate(policy, _trace(tmp_path), rate_hz=1.0), tmp_path / "t.png")
    assert (tmp_path / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_csv_dialects_read_alike(tmp_path: Path) -> None:
    plain = _trace(tmp_path).points
    crlf_bom = "\ufeff" + TRACE.replace("\n", "\r\n")
    semicolon = ("# a trace from a German locale\nt_s;level;battery_status;thermal\n0,0;80;Discharging;0\n100;40;Discharging;0\n"
                 "200;10;Not charging;0\n300;10;Charging;0\n400;12;Full;0\n")
    assert _trace(tmp_path, crlf_bom).points == plain
    assert _trace(tmp_path, semicolon).points == plain


@pytest.mark.parametrize(("text", "message"), [
    ("time_s,battery_pct,charging\n0,50,false\n1,50,false\n", "no thermal_status column"),
    ("time_s,battery_pct,charging,thermal_status\n0,50,false,7\n1,50,false,0\n", "line 2: thermal status must be an integer 0..6"),
    ("time_s,battery_pct,charging,thermal_status\n0,150,false,0\n1,50,false,0\n", "line 2: battery level must be 0..100"),
    ("time_s,battery_pct,charging,thermal_status\n0,50,maybe,0\n1,50,false,0\n", "line 2: charging must be"),
    ("time_s,battery_pct,charging,thermal_status\n5,50,false,0\n1,50,false,0\n", "time goes backwards"),
    ("time_s,battery_pct,charging,thermal_status\n0,50,false,0\n", "at least two rows"),
])
def test_bad_traces_say_what_was_expected(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        _trace(tmp_path, text)


def test_weighted_percentile() -> None:
    assert weighted_percentile([5.0, 30.0, 12.0], [1.0, 1.0, 8.0], 0.9) == 12.0
    assert weighted_percentile([5.0, 30.0], [9.0, 1.0], 0.9) == 5.0


def test_rate_and_short_traces_are_checked(policy: dict[str, Any]) -> None:
    one = Trace((TracePoint(0.0, 50.0, False, 0),), "one point")
    with pytest.raises(UsageError, match="at least two points"):
        simulate(policy, one, 1.0)
    with pytest.raises(UsageError, match="--rate must be > 0"):
        simulate(policy, Trace((TracePoint(0.0, 50.0, False, 0),) * 2, "t"), 0.0)


def test_the_fastest_baseline_is_the_fallbacks_fastest_lowest_p90_at_each_status(tmp_path: Path) -> None:
    """spiky has the lower p50 but the higher p90 at thermal 0; at thermal 3 steady is slower than spiky."""
    from edgebench.policy.decide import State, choose
    from edgebench.policy.export import Thresholds
    from edgebench.policy.measured import DeviceFacts, MeasuredVariant, ThermalLatency

    def variant(name: str, figures: dict[int, tuple[float, float]]) -> MeasuredVariant:
        return MeasuredVariant(
            name=name, sha256=name[:2] * 32, file_name=f"{name}.tflite", config="cpu/1t", size_bytes=1.0,
            accuracy=0.9, latency=tuple(ThermalLatency(s, p50, p90, 3, True) for s, (p50, p90) in figures.items()),
            energy_median_mj=1.0, energy_ci_mj=None, energy_runs=3, energy_source="measured",
            latency_source="measured", device_model="T", indicative=False)

    variants = [variant("spiky", {0: (4.0, 30.0), 3: (5.0, 31.0)}), variant("steady", {0: (6.0, 8.0), 3: (40.0, 50.0)})]
    policy = build_policy(variants, [], DeviceFacts("T", ("t",)), Thresholds(accuracy_floor=0.99), {})
    assert choose(policy, State(80, False, 0)).reason.startswith("fallback (fastest)")
    assert choose(policy, State(80, False, 0)).name == "steady" and choose(policy, State(80, False, 3)).name == "spiky"
    sim = simulate(policy, _trace(tmp_path, "time_s,battery_pct,charging,thermal_status\n0,80,false,0\n"
                                            "10,80,false,3\n30,80,false,3\n"), rate_hz=1.0)
    fastest = sim.result("fastest")
    assert [s.variant for s in fastest.spans] == ["steady", "spiky"]
    assert [s.variant for s in fastest.spans] == [s.variant for s in sim.result("policy").spans]
    assert fastest.label == "always fastest (lowest p90 at each thermal status: steady, spiky)"
