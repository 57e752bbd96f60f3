"""The set-up checks: preconditions that cannot be read are not_checked, the power path sees a charger
online, and the calibration in use is re-fitted on each run's own charge counter."""
from __future__ import annotations

import numpy as np
import pytest

from edgebench.battery import Calibration, GaugeSeries
from edgebench.battery import setup_checks as C

from .synth import WINDOWS, GaugeSpec, clean_run, with_columns

M0, M1 = WINDOWS.measured


@pytest.mark.parametrize("text,outcome", [
    ("80\n", "pass"), ("80\r\n", "pass"), (" 50", "pass"), ("90", "pass"), ("95", "fail"), ("42", "fail"),
    ("", "not_checked"), (None, "not_checked"), ("cat: capacity: Permission denied", "not_checked"),
    ("-1", "not_checked"), ("250", "not_checked"),
])
def test_battery_level_precondition(text: str | None, outcome: str) -> None:
    found = C.battery_level_start(text, "`cat /sys/class/power_supply/battery/capacity` (exit 0)")
    assert found.outcome == outcome and found.reason
    if outcome == "not_checked":
        assert "not a percentage" in found.reason and "cat /sys/class/power_supply/battery/capacity" in found.reason


def test_thermal_precondition() -> None:
    assert C.thermal_start(0, "x").outcome == "pass"
    assert C.thermal_start(2, "x").outcome == "fail"
    found = C.thermal_start(None, "`dumpsys thermalservice` printed no Thermal Status line")
    assert found.outcome == "not_checked" and "Thermal Status" in found.reason


def test_charger_online_fails_when_usb_supplies_power_without_suspended_input() -> None:
    online = {"/sys/class/power_supply/usb/online": [(10.0, "0"), (10.1, "1"), (10.2, "1")],
              "/sys/class/power_supply/ac/online": [(10.0, "0")]}
    found = C.charger_online(online, input_suspended=False)
    assert found.outcome == "fail" and "/sys/class/power_supply/usb/online read 1 in 2 of 3" in found.reason
    off = {k: [(t, "0") for t, _ in v] for k, v in online.items()}
    assert C.charger_online(off, input_suspended=False).outcome == "pass"
    assert C.charger_online(online, input_suspended=True).outcome == "not_checked"
    assert C.charger_online({}, input_suspended=False).outcome == "not_checked"
    assert C.charger_online({"/sys/class/power_supply/usb/online": [(1.0, None)]}, False).outcome == "not_checked"


# -- calibration: the check re-fits the unit and sign on the run's own counter ----------------------

def test_the_calibration_in_use_is_rechecked_against_the_runs_charge_counter(clean: GaugeSeries,
                                                                             cal: Calibration) -> None:
    run = clean.between(*WINDOWS.span)
    found = C.calibration(cal, run)
    assert found.outcome == "pass" and "off this run's charge counter" in found.reason
    # Stale: the gauge now prints mA (an OS update), the stored calibration still says µA.
    stale_unit = C.calibration(cal, clean_run(GaugeSpec(unit="mA"))[0].between(*WINDOWS.span))
    assert stale_unit.outcome == "fail" and "stale calibration" in stale_unit.reason and "×1000" in stale_unit.reason
    # Stale: the sign convention flipped.
    flipped = C.calibration(cal, clean_run(GaugeSpec(discharge_positive=True))[0].between(*WINDOWS.span))
    assert flipped.outcome == "fail" and "stale calibration" in flipped.reason and "sign +1" in flipped.reason


def test_a_calibration_inconsistent_with_the_counter_fails(clean: GaugeSeries, cal: Calibration) -> None:
    # current_now reads 30 % low against the counter, in every unit and sign: no pair fits.
    skewed = with_columns(clean, current_raw=clean.current_raw * 0.7).between(*WINDOWS.span)
    found = C.calibration(cal, skewed)
    assert found.outcome == "fail" and "disagree" in found.reason
    # A stored calibration that never agreed with its own counter is no calibration.
    bad = Calibration(cal.scale_to_ua, cal.discharge_sign, cal.update_period_s, cal.charge_quantum_uah, 0.3, "file")
    assert C.calibration(bad, clean.between(*WINDOWS.span)).outcome == "fail"


def test_the_calibration_check_is_not_checked_when_it_cannot_be_evaluated(clean: GaugeSeries,
                                                                        cal: Calibration) -> None:
    assert C.calibration(None, clean).outcome == "not_checked"
    no_counter = with_columns(clean, charge_counter_uah=np.full(len(clean), np.nan))
    found = C.calibration(cal, no_counter)
    assert found.outcome == "not_checked" and "charge_counter is missing" in found.reason
    # 10 s of run: the counter steps once or twice, too few to re-fit anything.
    short = clean.between(M0, M0 + 10)
    found = C.calibration(cal, short)
    assert found.outcome == "not_checked" and "cannot re-check" in found.reason
