"""The policy's rule on a synthetic variant table with known answers (tests/policy/synthetic.py)."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from edgebench.errors import UsageError
from edgebench.policy.decide import State, choose, table_row
from edgebench.policy.export import BatteryLife, Thresholds, build_policy, policy_differences, policy_paths
from edgebench.policy.measured import DeviceFacts, MeasuredVariant, ThermalLatency, measured_variants

from . import synthetic


def _policy(allow: bool = False, thresholds: Thresholds = synthetic.THRESHOLDS) -> dict[str, Any]:
    variants, excluded, device = measured_variants(synthetic.table(), "Phone X", synthetic.RUNS, synthetic.DEVICES,
                                                   allow_other_device_model=allow)
    return build_policy(variants, excluded, device, thresholds, {"test": True})


@pytest.mark.parametrize(("level", "charging", "thermal", "expected", "outcome"), [
    (80, False, 0, "big", "met"),    # budget 7.5 mJ: big (5 mJ, 30 ms) is the most accurate that fits
    (35, False, 0, "mid", "met"),    # band 20-50: budget 3.5 mJ, big's 5 mJ misses
    (100, False, 3, "mid", "met"),   # big measured at 60 ms at thermal 3 (a throttled run counts)
    # not measured at 1: big's status-0 30 ms is only a lower bound (not known); mid's status-3 14 ms bounds it
    # from above within 40 ms: mid is known to meet the budget, big is not
    (100, False, 1, "mid", "met"),
    # big's status-3 60 ms bounds it from below: a miss; mid's 14 ms is only a lower bound: not known
    (100, False, 5, "mid", "not_checked"),
    (5, True, 0, "big", "met"),      # charging lifts the energy budget
])
def test_each_state_gets_the_expected_variant(level: float, charging: bool, thermal: int, expected: str,
                                              outcome: str) -> None:
    policy = _policy()
    choice = choose(policy, State(level, charging, thermal))
    assert (choice.name, choice.outcome, choice.met) == (expected, outcome, outcome == "met")
    row = table_row(policy, State(level, charging, thermal))  # the table says the same
    assert (row["name"], row["outcome"], row["met"]) == (expected, outcome, outcome == "met")


def test_latency_basis_says_how_an_unmeasured_status_was_filled() -> None:
    policy = _policy()
    assert choose(policy, State(100, False, 0)).latency_basis == "measured at thermal status 0"
    assert choose(policy, State(100, False, 3)).latency_basis == "measured at thermal status 3"
    at_1 = choose(policy, State(100, False, 1))
    assert at_1.latency_basis == "not measured at 1: status 0's figure, a lower bound (status 3's 14 ms is an upper bound)"
    assert at_1.latency_p90_ms == 12.0
    at_5 = choose(policy, State(100, False, 5))
    assert at_5.reason.startswith("not_checked (fastest of those not known to miss): no variant is known to meet")
    assert "mid: p90 at thermal status 5 not known (never measured there; at least 14 ms (status 3))" in at_5.reason
    assert "big: p90 at least 60 ms (status 3's figure) > budget 40 ms" in at_5.reason


def test_unmeetable_constraints_give_the_lowest_energy_with_the_reason() -> None:
    choice = choose(_policy(), State(10, False, 0))  # band 0-20 %: budget from 10 %, 1 mJ
    assert (choice.name, choice.met, choice.outcome) == ("small", False, "fallback")
    assert choice.reason.startswith("fallback (lowest energy): no variant meets the constraints")
    assert "big: energy 5 mJ > budget 1 mJ" in choice.reason
    assert "small: accuracy 0.8 < floor 0.85" in choice.reason
    row = table_row(_policy(), State(10, False, 0))
    assert (row["met"], row["name"], row["battery_min_pct"], row["battery_max_pct"]) == (False, "small", 0, 20)


def test_decision_table_covers_every_state_once_and_matches_choose() -> None:
    policy = _policy()
    rows = policy["decision_table"]
    assert len(rows) == 3 * 2 * 7
    for level in range(101):
        for charging in (False, True):
            for thermal in range(7):
                state = State(level, charging, thermal)
                assert table_row(policy, state)["variant"] == choose(policy, state).sha256


def test_variants_carry_identity_energy_interval_and_provenance() -> None:
    policy = _policy()
    json.dumps(policy, allow_nan=False)  # no NaN reaches the file
    assert policy["schema_version"] == 2 and policy["device"]["model"] == "Phone X"
    assert policy["device"]["device_ids"] == ["x1", "x2"]
    big = next(v for v in policy["variants"] if v["name"] == "big")
    assert big["sha256"] == synthetic.SHA["big"] and big["file"] == "big.tflite"
    assert big["latency_by_thermal_status"] == {
        "0": {"p50_ms": 24.0, "p90_ms": 30.0, "runs": 2, "thermal_status_recorded": True},
        "3": {"p50_ms": 48.0, "p90_ms": 60.0, "runs": 1, "thermal_status_recorded": True}}
    assert big["energy_mj"] == {"median": 5.0, "runs": 3, "source": "measured", "ci_low": 4.8, "ci_high": 5.2,
                                "ci_level": 0.75}
    mid = next(v for v in policy["variants"] if v["name"] == "mid")
    assert list(mid["latency_by_thermal_status"]) == ["0", "3"] and mid["latency_by_thermal_status"]["0"]["p90_ms"] == 12.0
    assert any("mid-bad invalid: output_consistency" in n for n in mid["notes"])
    small = next(v for v in policy["variants"] if v["name"] == "small")
    assert small["latency_by_thermal_status"]["0"]["thermal_status_recorded"] is False
    assert small["energy_mj"]["ci_low"] is None  # one run: no interval, never a zero-width one
    assert small["indicative"] and policy["indicative"] and policy["indicative_reason"].startswith(
        "1 of 3 variant(s) measured with a shortened (smoke) protocol")
    assert not big["indicative"] and not mid["indicative"]


def test_a_variant_of_another_device_model_is_refused_unless_allowed() -> None:
    refused = _policy()
    assert "other" not in [v["name"] for v in refused["variants"]]
    assert refused["excluded"] == [{"name": "other", "sha256": synthetic.SHA["other"],
                                    "reason": "measured only on Phone Y, not on Phone X (--allow-other-device-model to use it)"}]
    allowed = _policy(allow=True)
    other = next(v for v in allowed["variants"] if v["name"] == "other")
    assert other["measured_on"] == "Phone Y" and "allowed by --allow-other-device-model" in other["notes"][0]
    assert choose(allowed, State(80, False, 0)).name == "other"


def test_an_unknown_device_is_an_error_listing_the_devices() -> None:
    with pytest.raises(UsageError, match=r"no runs on device 'Phone Z'.*Phone X \(x1\)"):
        measured_variants(synthetic.table(), "Phone Z", synthetic.RUNS, synthetic.DEVICES)


def test_a_device_id_selects_its_model() -> None:
    _, _, device = measured_variants(synthetic.table(), "x2", synthetic.RUNS, synthetic.DEVICES)
    assert device.model == "Phone X" and device.details["soc"] == "SoC 1"


def test_a_fixed_energy_budget_and_no_constraints() -> None:
    fixed = _policy(thresholds=Thresholds(energy_budget_mj=3.0))
    assert {r["name"] for r in fixed["decision_table"] if not r["charging"] and r["thermal_status"] == 0} == {"mid"}
    free = _policy(thresholds=Thresholds())
    assert {r["name"] for r in free["decision_table"]} == {"big"}  # the most accurate everywhere


def test_bad_thresholds_are_refused() -> None:
    with pytest.raises(UsageError, match="either an energy budget"):
        Thresholds(energy_budget_mj=1.0, battery_life=synthetic.THRESHOLDS.battery_life)
    with pytest.raises(UsageError, match="band edges"):
        Thresholds(battery_bands_pct=(0.0, 50.0))


def test_device_models_that_choose_differently_are_named() -> None:
    base = _policy()
    other = json.loads(json.dumps(base))
    other["decision_table"][0]["name"] = "small-other"
    lines = policy_differences({"Phone X": base, "Phone Y": other})
    assert lines[0] == "Phone X and Phone Y differ in 1 of 42 states:"
    assert lines[1] == "  small vs small-other (1): battery 0-20 %; discharging; thermal 0"
    for row in other["decision_table"][:7]:  # band 0-20 %, discharging, every thermal status
        row["name"] = "small-other"
    other["decision_table"][8]["name"] = "x"  # band 0-20 %, charging, thermal 1
    assert policy_differences({"Phone X": base, "Phone Y": other})[1:] == [
        "  small vs small-other (7): battery 0-20 %; discharging; thermal 0,1,2,3,4,5,6",
        "  mid vs x (1): battery 0-20 %; charging; thermal 1"]
    assert policy_differences({"A": base, "B": base}) == ["A and B choose the same variant in all 42 states"]


def test_the_rule_imports_no_pandas_numpy_or_sklearn() -> None:
    import subprocess
    import sys

    code = ("import sys, edgebench.policy.decide; heavy = {'pandas', 'numpy', 'sklearn', 'scipy'} & set(sys.modules);"
            " print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _measured(name: str, accuracy: float, p90_by_status: dict[int, float], energy_mj: float | None) -> MeasuredVariant:
    return MeasuredVariant(
        name=name, sha256=name[0] * 64, file_name=f"{name}.tflite", config="cpu/1t", size_bytes=1000.0,
        accuracy=accuracy, latency=tuple(ThermalLatency(s, p90 * 0.8, p90, 3, True) for s, p90 in p90_by_status.items()),
        energy_median_mj=math.nan if energy_mj is None else energy_mj, energy_ci_mj=None, energy_runs=3,
        energy_source="measured", latency_source="measured", device_model="Phone T", indicative=False)


def _built(variants: list[MeasuredVariant], thresholds: Thresholds) -> dict[str, Any]:
    return build_policy(variants, [], DeviceFacts("Phone T", ("t1",)), thresholds, {})


def test_a_lower_bound_within_the_budget_is_not_known_never_met() -> None:
    """Measured only at thermal 0 (38 ms) with a 40 ms budget: at a hotter status its p90 is at least 38 ms,
    which cannot show that it meets 40 ms."""
    solo = _built([_measured("solo", 0.9, {0: 38.0}, 1.0)], Thresholds(latency_budget_p90_ms=40.0))
    assert choose(solo, State(80, False, 0)).outcome == "met"
    for status in (4, 6):
        choice = choose(solo, State(80, False, status))
        assert (choice.name, choice.met, choice.outcome) == ("solo", False, "not_checked")
        assert f"p90 at thermal status {status} not known (never measured there; at least 38 ms (status 0))" in choice.reason
        row = table_row(solo, State(80, False, status))
        assert (row["met"], row["outcome"]) == (False, "not_checked")


def test_variants_measured_at_or_above_the_status_are_preferred() -> None:
    both = _built([_measured("accurate", 0.95, {0: 38.0}, 1.0), _measured("cool", 0.90, {0: 10.0, 4: 20.0}, 1.0)],
                  Thresholds(latency_budget_p90_ms=40.0))
    assert choose(both, State(80, False, 0)).name == "accurate"  # measured there: the most accurate
    at_4 = choose(both, State(80, False, 4))
    assert (at_4.name, at_4.outcome, at_4.reason) == ("cool", "met", "most accurate of 1 variant(s) meeting the constraints")
    at_2 = choose(both, State(80, False, 2))  # cool's status-4 figure is an upper bound within 40 ms
    assert (at_2.name, at_2.outcome) == ("cool", "met")
    at_6 = choose(both, State(80, False, 6))  # both only bounded from below: the fastest, not known
    assert (at_6.name, at_6.outcome) == ("cool", "not_checked")
    hot_only = _built([_measured("hot", 0.9, {3: 50.0}, 1.0)], Thresholds(latency_budget_p90_ms=40.0))
    assert choose(hot_only, State(80, False, 0)).outcome == "not_checked"  # an upper bound above the budget


# 240 000 mJ, 10 h at 1/s: budget = 240 000 x level % / 36 000 s: bands 0-15, 15-30, 30-50, 50-100 give
# 0.5, 1.5, 2.67, 5 mJ at their middles (7.5, 22.5, 40, 75 %).
LIFE = Thresholds(battery_life=BatteryLife(hours=10.0, rate_hz=1.0, capacity_mj=240_000.0, capacity_source="test"))
QUICK_FRUGAL = [_measured("quick", 0.92, {0: 5.0}, 3.0), _measured("frugal", 0.90, {0: 20.0}, 1.0)]


def test_a_missed_energy_budget_falls_back_to_the_lowest_energy_not_the_fastest() -> None:
    policy = _built(QUICK_FRUGAL, LIFE)
    low = choose(policy, State(5, False, 0))  # budget 0.5 mJ: both miss it
    assert (low.name, low.outcome, low.energy_budget_mj) == ("frugal", "fallback", pytest.approx(0.5))
    assert low.reason.startswith("fallback (lowest energy): no variant meets the constraints")
    assert choose(policy, State(20, False, 0)).name == "frugal"  # 1.5 mJ: frugal meets it, quick does not
    assert choose(policy, State(80, False, 0)).name == "quick"   # 5 mJ: both meet it, quick is more accurate
    # no energy budget missed (only the accuracy floor): the fallback is the fastest
    floor = _built(QUICK_FRUGAL, Thresholds(accuracy_floor=0.99))
    assert choose(floor, State(5, False, 0)).reason.startswith("fallback (fastest)")
    assert choose(floor, State(5, False, 0)).name == "quick"


def test_the_battery_life_budget_comes_from_the_bands_middle_and_version_1_is_still_read() -> None:
    policy = _built(QUICK_FRUGAL, LIFE)
    budget = policy["thresholds"]["energy_budget"]
    assert budget["band_level"] == "middle" and "band_level_pct = (battery_min_pct" in budget["formula"]
    budgets = {r["battery_min_pct"]: r["energy_budget_mj"] for r in policy["decision_table"] if not r["charging"]}
    assert budgets == pytest.approx({0: 0.5, 15: 1.5, 30: 240_000 * 0.4 / 36_000, 50: 5.0})
    old = json.loads(json.dumps(policy))
    old["schema_version"] = 1  # a document written before the band level was recorded: its band minimum
    del old["thresholds"]["energy_budget"]["band_level"]
    assert choose(old, State(20, False, 0)).energy_budget_mj == pytest.approx(240_000 * 0.15 / 36_000)
    old["schema_version"] = 3
    with pytest.raises(ValueError, match="schema version 3 is not one of 1, 2"):
        choose(old, State(20, False, 0))


def test_device_models_that_would_share_a_file_are_an_error(tmp_path: Path) -> None:
    assert policy_paths(tmp_path, ["Pixel 7", "Phone X"]) == {"Pixel 7": tmp_path / "policy-Pixel-7.json",
                                                              "Phone X": tmp_path / "policy-Phone-X.json"}
    with pytest.raises(UsageError, match=r"device models 'Pixel 7', 'Pixel/7' would all be written to .*policy-Pixel-7.json"):
        policy_paths(tmp_path, ["Pixel 7", "Pixel/7"])
