"""The policy as the device's driver evaluates it (policy/device_table.py), and the driver call of a policy run
(bench/invocation.policy_invocation)."""
from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.bench.invocation import Invocation, PolicySegments, policy_invocation
from edgebench.errors import ParseError, UsageError
from edgebench.policy.decide import State, choose
from edgebench.policy.device_table import flat_table, read_choices
from edgebench.policy.export import Thresholds, build_policy
from edgebench.policy.measured import measured_variants
from edgebench.profiling.battery_run import as_resolved
from edgebench.profiling.protocol import BatteryProtocol

from . import synthetic


def _policy(bands: tuple[float, ...]) -> dict:  # type: ignore[type-arg]
    variants, excluded, device = measured_variants(synthetic.table(), "Phone X", synthetic.RUNS, synthetic.DEVICES)
    thresholds = Thresholds(latency_budget_p90_ms=synthetic.THRESHOLDS.latency_budget_p90_ms,
                            accuracy_floor=synthetic.THRESHOLDS.accuracy_floor,
                            battery_life=synthetic.THRESHOLDS.battery_life, battery_bands_pct=bands)
    return build_policy(variants, excluded, device, thresholds, {"test": True})


def _shell_lookup(table: str, level: int, charging: bool, thermal: int) -> str | None:
    """What driver.sh's policy_lookup does with integer arithmetic: the first row holding the state."""
    for line in table.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        low, high, charge, status, model = line.split()
        if int(low) <= level < int(high) and charge == str(int(charging)) and int(status) == thermal:
            return model
    return None


@pytest.mark.parametrize("bands", [(20.0, 50.0), (15.5, 30.25, 49.9)])
def test_the_flat_table_gives_choose_s_answer_for_every_level_a_device_reports(bands: tuple[float, ...]) -> None:
    # Fractional band edges: a whole-percent level must land in the band choose() puts it in.
    policy = _policy(bands)
    paths = {str(v["sha256"]): f"/data/local/tmp/edgebench/models/{v['name']}.tflite" for v in policy["variants"]}
    table = flat_table(policy, paths)
    for level in range(101):
        for charging in (False, True):
            for thermal in range(7):
                expected = choose(policy, State(level, charging, thermal))
                assert _shell_lookup(table, level, charging, thermal) == paths[expected.sha256], (level, charging, thermal)


def test_a_variant_not_deployed_or_a_path_with_spaces_is_refused() -> None:
    policy = _policy((20.0, 50.0))
    with pytest.raises(UsageError, match="not among the files deployed"):
        flat_table(policy, {})
    with pytest.raises(UsageError, match="white space"):
        flat_table(policy, {str(v["sha256"]): "/data/my models/x.tflite" for v in policy["variants"]})


def test_the_driver_s_choices_are_read_and_bad_lines_named(tmp_path: Path) -> None:
    path = tmp_path / "policy.txt"
    path.write_text("0\t100.25\t80\t0\t0\tsysfs\tdumpsys\t/d/models/a.tflite\n"
                    "1\t103.5\t40\t1\t2\tdumpsys\tnone\t/d/models/b.tflite\r\n")
    first, second = read_choices(path)
    assert (first.segment, first.uptime_s, first.state, first.model_path) == (0, 100.25, State(80, False, 0),
                                                                              "/d/models/a.tflite")
    assert (second.state, second.battery_source, second.thermal_source) == (State(40, True, 2), "dumpsys", "none")
    path.write_text("0\t100.25\t80\t0\t0\tsysfs\tdumpsys\n")
    with pytest.raises(ParseError, match="SEGMENT UPTIME_S LEVEL"):
        read_choices(path)
    path.write_text("1\t100.25\t80\t0\t0\tsysfs\tdumpsys\t/m.tflite\n")
    with pytest.raises(ParseError, match="expected segment 0"):
        read_choices(path)
    with pytest.raises(ParseError, match="no policy.txt"):
        read_choices(tmp_path / "absent.txt")


def test_a_policy_invocation_drops_the_model_and_times_every_segment() -> None:
    protocol = as_resolved(BatteryProtocol(warmup_s=2, duration_s=10, idle_s=5, repeats=1))
    base = Invocation(("--model", "/d/models/a.tflite", "--lib", "/d/lib/libLiteRt.so", "--runs", "1"),
                      {"EDGEBENCH_IDLE_S": "5"}, 100.0)
    call = policy_invocation(base, PolicySegments("/d/policy/t.txt", 4, 60.0), protocol)
    assert call.args == ("--lib", "/d/lib/libLiteRt.so", "--runs", "1")
    assert call.env == {"EDGEBENCH_IDLE_S": "5", "EDGEBENCH_POLICY": "/d/policy/t.txt", "EDGEBENCH_POLICY_SEGMENTS": "4"}
    assert call.timeout_s == 100.0 + 3 * (2 + 10 * 1.5 + 60.0)
    with pytest.raises(ValueError, match="at least one segment"):
        policy_invocation(base, PolicySegments("/d/policy/t.txt", 0, 60.0), protocol)


def test_the_text_report_shows_states_switches_and_what_is_not_known(capsys: pytest.CaptureFixture[str]) -> None:
    from edgebench.cli.policy_run_cmd import _print

    segment = {"t_s": 0.0, "battery_pct": 80.0, "charging": False, "thermal_status": 0, "thermal_source": "dumpsys",
               "variant": "big", "switched_from": None, "status": "ok", "energy_per_inference_mj": 1.25,
               "energy_source": "simulated", "agrees": True, "expected_variant": "big"}
    report = {"session": "s1", "policy": "p.json", "error": "the driver exited 2 after 2 segment(s): no row",
              "device": {"same_device_model": False, "policy_measured_on": "Phone X", "model": "Phone Y"},
              "segments": [segment, {**segment, "t_s": 4.0, "battery_pct": 40.0, "thermal_source": "none",
                                     "variant": "small", "switched_from": "big", "energy_per_inference_mj": None,
                                     "agrees": False}],
              "switches": [{"segment": 1}], "disagreements": [1],
              "variants": [{"model": "big.tflite", "run_ids": ["r1"], "energy_per_inference_mj": {"value": 1.25},
                            "simulated": True}]}
    _print(report)
    out = capsys.readouterr().out
    assert "measured on 'Phone X', this is 'Phone Y'" in out
    assert "battery 80 %, discharging, thermal 0: big  ok, 1.25 mJ/inference (simulated)" in out
    assert "thermal 0 (not readable: 0): small  (switch)  ok, energy not known  ≠ policy's big" in out
    assert "1 switch(es)" in out and "big.tflite: 1 segment(s), energy per inference 1.25 mJ (simulated)" in out
    assert "stopped early: the driver exited 2" in out and "disagree in segment(s) [1]" in out
