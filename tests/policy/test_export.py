"""The policy's rule on a synthetic variant table with known answers (tests/policy/synthetic.py)."""
from __future__ import annotations

import json
from typing import Any

import pytest

from edgebench.errors import UsageError
from edgebench.policy.decide import State, choose, table_row
from edgebench.policy.export import Thresholds, build_policy, policy_differences
from edgebench.policy.measured import measured_variants

from . import synthetic


def _policy(allow: bool = False, thresholds: Thresholds = synthetic.THRESHOLDS) -> dict[str, Any]:
    variants, excluded, device = measured_variants(synthetic.table(), "Phone X", synthetic.RUNS, synthetic.DEVICES,
                                                   allow_other_device_model=allow)
    return build_policy(variants, excluded, device, thresholds, {"test": True})


@pytest.mark.parametrize(("level", "charging", "thermal", "expected"), [
    (80, False, 0, "big"),    # budget 10 mJ: big (5 mJ, 30 ms) is the most accurate that fits
    (35, False, 0, "mid"),    # band 20-50: budget 4 mJ, big's 5 mJ misses
    (100, False, 3, "mid"),   # big measured at 60 ms at thermal 3 (a throttled run counts)
    (100, False, 1, "big"),   # not measured at 1: status 0's 30 ms as a lower bound, within 40
    (100, False, 5, "mid"),   # big's status-3 figure (60 ms) bounds it from below; mid's 12 ms carried over
    (5, True, 0, "big"),      # charging lifts the energy budget
])
def test_each_state_gets_the_expected_variant(level: float, charging: bool, thermal: int, expected: str) -> None:
    policy = _policy()
    choice = choose(policy, State(level, charging, thermal))
    assert choice.name == expected and choice.met
    assert table_row(policy, State(level, charging, thermal))["name"] == expected  # the table says the same


def test_latency_basis_says_how_an_unmeasured_status_was_filled() -> None:
    policy = _policy()
    assert choose(policy, State(100, False, 0)).latency_basis == "measured at thermal status 0"
    assert choose(policy, State(100, False, 3)).latency_basis == "not measured at 3: status 0's figure, a lower bound"
    assert "status 0's figure, a lower bound" in choose(policy, State(100, False, 1)).latency_basis
    assert choose(policy, State(100, False, 1)).latency_p90_ms == 30.0


def test_unmeetable_constraints_give_the_fastest_with_the_reason() -> None:
    choice = choose(_policy(), State(10, False, 0))  # band 0-20 %: an energy budget of 0 mJ
    assert (choice.name, choice.met) == ("small", False)
    assert choice.reason.startswith("fallback (fastest): no variant meets the constraints")
    assert "big: energy 5 mJ > budget 0 mJ" in choice.reason
    assert "small: accuracy 0.8 < floor 0.85, energy 0.8 mJ > budget 0 mJ" in choice.reason
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
    assert policy["schema_version"] == 1 and policy["device"]["model"] == "Phone X"
    assert policy["device"]["device_ids"] == ["x1", "x2"]
    big = next(v for v in policy["variants"] if v["name"] == "big")
    assert big["sha256"] == synthetic.SHA["big"] and big["file"] == "big.tflite"
    assert big["latency_by_thermal_status"] == {
        "0": {"p50_ms": 24.0, "p90_ms": 30.0, "runs": 2, "thermal_status_recorded": True},
        "3": {"p50_ms": 48.0, "p90_ms": 60.0, "runs": 1, "thermal_status_recorded": True}}
    assert big["energy_mj"] == {"median": 5.0, "runs": 3, "source": "measured", "ci_low": 4.8, "ci_high": 5.2,
                                "ci_level": 0.75}
    mid = next(v for v in policy["variants"] if v["name"] == "mid")
    assert list(mid["latency_by_thermal_status"]) == ["0"] and mid["latency_by_thermal_status"]["0"]["p90_ms"] == 12.0
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
        "  big vs x (1): battery 0-20 %; charging; thermal 1"]
    assert policy_differences({"A": base, "B": base}) == ["A and B choose the same variant in all 42 states"]


def test_the_rule_imports_no_pandas_numpy_or_sklearn() -> None:
    import subprocess
    import sys

    code = ("import sys, edgebench.policy.decide; heavy = {'pandas', 'numpy', 'sklearn', 'scipy'} & set(sys.modules);"
            " print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
