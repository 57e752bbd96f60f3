"""Which runs count, and at which thermal status (policy/measured.py), and carrying latency across statuses."""
from __future__ import annotations

import pytest

from edgebench.policy.decide import latency_at
from edgebench.policy.measured import run_thermal_status, thermal_latencies
from edgebench.records import Check

from .synthetic import run


@pytest.mark.parametrize(("checks", "status", "expected"), [
    ((Check("thermal", "pass"),), "ok", (0, True, None)),
    ((Check("thermal", "fail", "thermal status reached 4"),), "invalid", (4, True, None)),
    # profile-battery's wording (battery/checks.py)
    ((Check("thermal", "fail", "thermal status 2 (≥ 1 = throttling) at the run's start, 0 at its end"),
      Check("cooling", "fail", "a cooling device reached cur_state 3")), "invalid", (2, True, None)),
    ((Check("thermal", "not_checked", "target exposes no thermal status"),), "ok", (0, False, None)),
    ((), "ok", (0, False, None)),
])
def test_the_status_a_run_counts_at(checks: tuple[Check, ...], status: str,
                                    expected: tuple[int | None, bool, str | None]) -> None:
    assert run_thermal_status(run("r", "big", "x1", 10.0, status=status, checks=checks)) == expected


def test_runs_that_do_not_count_say_why() -> None:
    cooling_only = run("c", "big", "x1", 10.0, status="invalid", checks=(
        Check("thermal", "not_checked", "no status"), Check("cooling", "fail", "cur_state 2")))
    assert run_thermal_status(cooling_only) == (None, False, "run c throttled (cooling device) with no thermal status recorded")
    other = run("o", "big", "x1", 10.0, status="invalid", checks=(Check("thermal", "fail", "thermal status reached 2"),
                                                                 Check("warmup", "fail", "drifting")))
    assert run_thermal_status(other) == (None, False, "run o invalid: thermal, warmup")
    failed = run("f", "big", "x1", 10.0, status="failed")
    assert run_thermal_status(failed) == (None, False, None)


def test_latency_per_status_is_the_median_of_the_runs() -> None:
    runs = [run("a", "big", "x1", 10.0), run("b", "big", "x1", 14.0), run("c", "big", "x1", 12.0),
            run("h", "big", "x1", 30.0, status="invalid", checks=(Check("thermal", "fail", "thermal status reached 2"),))]
    figures, notes = thermal_latencies(runs)
    assert [(f.thermal_status, f.p90_ms, f.runs) for f in figures] == [(0, 12.0, 3), (2, 30.0, 1)]
    assert notes == []


def test_a_status_below_every_measured_one_takes_an_upper_bound() -> None:
    variant = {"name": "v", "latency_by_thermal_status": {
        "2": {"p50_ms": 8.0, "p90_ms": 10.0, "thermal_status_recorded": True},
        "4": {"p50_ms": 16.0, "p90_ms": 20.0, "thermal_status_recorded": True}}}
    assert latency_at(variant, 0) == (8.0, 10.0, "not measured at 0: status 2's figure, an upper bound")
    assert latency_at(variant, 3) == (8.0, 10.0, "not measured at 3: status 2's figure, a lower bound"
                                                 " (status 4's 20 ms is an upper bound)")
    assert latency_at(variant, 4) == (16.0, 20.0, "measured at thermal status 4")
    assert latency_at(variant, 6)[2] == "not measured at 6: status 4's figure, a lower bound"


def test_a_run_throttled_only_by_a_cooling_device_counts_at_the_status_it_recorded() -> None:
    """The bench and profile-battery checks say the framework status they read (0) next to the cooling device
    that failed them, and the run counts there; with no status read it still cannot be placed."""
    from edgebench.battery import checks as battery_checks
    from edgebench.battery.checks import ThermalEvidence
    from edgebench.bench.checks import telemetry_checks
    from edgebench.harness.samples import Telemetry

    def bench(status: int | None) -> Check:
        return telemetry_checks(Telemetry(thermal_status_max=status, cooling_states=(("cooling_device0", 2),)))[0]

    def placed(*checks: Check) -> tuple[int | None, bool, str | None]:
        return run_thermal_status(run("r", "big", "x1", 10.0, status="invalid", checks=checks))

    assert bench(0).outcome == "fail" and placed(bench(0)) == (0, True, None)
    assert bench(2).reason == "thermal status reached 2; cooling device cooling_device0 at state 2"
    assert placed(bench(2)) == (2, True, None)
    assert placed(bench(None))[:2] == (None, False)
    window = ("cooling_device1", 3, 12.5)
    battery = battery_checks.thermal(ThermalEvidence(0, 0, 120, window))
    assert placed(battery, battery_checks.cooling(3)) == (0, True, None)
    assert placed(battery_checks.thermal(ThermalEvidence(0, None, 120, window)), battery_checks.cooling(3)) == (0, True, None)
    unread = battery_checks.thermal(ThermalEvidence(None, None, 120, window))
    assert placed(unread, battery_checks.cooling(3))[:2] == (None, False)
    # status 0 read at both ends, no cooling reading inside the window, a cooling device active around it
    no_window = battery_checks.thermal(ThermalEvidence(0, 0, 0, None))
    assert no_window.outcome == "not_checked" and placed(no_window, battery_checks.cooling(2)) == (0, True, None)
