"""The checks of a battery run's set-up (docs/measurement-methodology.md §4.1): the preconditions, the power
path and the calibration in use. Like checks.py: `fail` with the reason, `not_checked` with the reason when
the input could not be read, never a pass by default. A failing precondition refuses the session (the caller
raises); the rest are recorded on every run beside estimate_run's checks.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

from edgebench.battery.calibration import AGREEMENT_LIMIT, Calibration, CalibrationError, fit_unit_sign
from edgebench.battery.gauge import GaugeSeries
from edgebench.records import Check

BATTERY_START_PCT = (50.0, 90.0)  # §4.1 precondition 2
RECHECK_TOLERANCE_MAX = 0.5  # beyond this the run's counter steps are too close in time to judge a (scale, sign)


def calibration(cal: Calibration | None, run: GaugeSeries) -> Check:
    """The calibration in use must still describe this gauge: re-fit (scale, sign) on this run's counter.

    A stored calibration goes stale when the OS build or the gauge driver changes the unit or sign;
    a wrong pair is 1000× or sign-flipped, so even a few counter steps tell the pairs apart. The
    tolerance is the calibration's own 10 % plus the timing error of the first and last step (each
    known to one counter sampling interval).
    """
    if cal is None:
        return Check("calibration", "not_checked", "no calibration of current_now's unit and sign")
    if cal.agreement > AGREEMENT_LIMIT:
        return Check("calibration", "fail", f"the calibration in use ({cal.source}) agreed with its own charge "
                     f"counter only within {cal.agreement:.0%} (> {AGREEMENT_LIMIT:.0%}): not a usable calibration; "
                     "delete it from the device profile and recalibrate")
    try:
        fit = fit_unit_sign(run, min_span_s=0.0, too_few_steps_advice="A longer run gives the counter more steps.")
    except CalibrationError as exc:
        return Check("calibration", "not_checked", f"this run's charge counter cannot re-check the calibration "
                     f"({cal.source}): {exc}")
    q_t = run.t_s[np.isfinite(run.charge_counter_uah)]
    counter_interval_s = float(np.median(np.diff(q_t)))
    tolerance = AGREEMENT_LIMIT + 2.0 * counter_interval_s / fit.span_s
    in_use = f"×{cal.scale_to_ua:g} sign {cal.discharge_sign:+d}"
    if tolerance > RECHECK_TOLERANCE_MAX:
        return Check("calibration", "not_checked", f"this run's {fit.steps} charge-counter steps span only "
                     f"{fit.span_s:.1f} s (sampled every {counter_interval_s:.1f} s): too short to re-check {in_use} "
                     f"({cal.source})")
    stored = next(a for a, scale, sign in fit.tried if (scale, sign) == (cal.scale_to_ua, cal.discharge_sign))
    text = (f"{in_use} ({cal.source}) is {stored:.1%} off this run's charge counter over {fit.span_s:.0f} s "
            f"(allowed {tolerance:.0%})")
    if (fit.scale_to_ua, fit.discharge_sign) != (cal.scale_to_ua, cal.discharge_sign) and fit.agreement <= tolerance:
        return Check("calibration", "fail", f"stale calibration: {text}, while ×{fit.scale_to_ua:g} sign "
                     f"{fit.discharge_sign:+d} fits within {fit.agreement:.1%}; the gauge's unit or sign changed "
                     "(OS or driver update?): delete the device profile's calibration and recalibrate")
    if stored > tolerance:
        return Check("calibration", "fail", f"{text}: current_now and charge_counter disagree (tried "
                     f"{fit.listing()}); recalibrate, or do not trust this gauge")
    return Check("calibration", "pass", text)




def battery_level_start(capacity_text: str | None, source: str) -> Check:
    """§4.1 precondition 2: the battery between 50 % and 90 % at the start (a fail aborts the session)."""
    text = (capacity_text or "").strip()
    try:
        level = float(text)
    except ValueError:
        level = math.nan
    low, high = BATTERY_START_PCT
    if not math.isfinite(level) or not 0.0 <= level <= 100.0:
        return Check("battery_level_start", "not_checked", f"{source} gave {capacity_text!r}, not a percentage: "
                     f"whether the battery starts between {low:g}% and {high:g}% is unknown")
    if not low <= level <= high:
        return Check("battery_level_start", "fail", f"battery at {level:g}% ({source}): a battery run starts "
                     f"between {low:g}% and {high:g}% (§4.1). Charge or discharge the device first.")
    return Check("battery_level_start", "pass", f"battery at {level:g}% at the session's start")


def thermal_start(status: int | None, unreadable_reason: str) -> Check:
    """§4.1 precondition 3: thermal status 0 at the start (a fail aborts the session)."""
    if status is None:
        return Check("thermal_start", "not_checked", unreadable_reason)
    if status != 0:
        return Check("thermal_start", "fail", f"thermal status is {status}, not 0 (`dumpsys thermalservice`): let "
                     "the device cool down first.")
    return Check("thermal_start", "pass", "thermal status 0 at the session's start")


def charger_online(online: Mapping[str, Sequence[tuple[float, str | None]]], input_suspended: bool | None) -> Check:
    """With the cable cut (or Wi-Fi adb), no charger may be online: a weak charger that cannot carry
    the load still lets the battery read Discharging, while it supplies part of the device's power."""
    if input_suspended:
        return Check("charger_online", "not_checked", "charge input suspended: a charger stays online with VBUS "
                     "present, so `online` says nothing here (`discharging` and `current_direction` judge it)")
    readable = {path: [(t, v) for t, v in rows if v is not None and v.strip().lstrip("-").isdigit()]
                for path, rows in online.items()}
    readable = {path: rows for path, rows in readable.items() if rows}
    if not readable:
        return Check("charger_online", "not_checked", "no power supply other than the battery has a readable "
                     "`online` node in the run's samples")
    for path, rows in sorted(readable.items()):
        on = [(t, v) for t, v in rows if int(v.strip()) != 0]
        if on:
            return Check("charger_online", "fail", f"{path} read {on[0][1]} in {len(on)} of {len(rows)} "
                         f"samples (first at t={on[0][0]:.1f} s) while the battery was meant to be the only source: "
                         "a charger supplied part of the load (a weak charger can leave status Discharging)")
    names = ", ".join("/".join(p.rsplit("/", 2)[-2:]) for p in sorted(readable))
    return Check("charger_online", "pass", f"{names} 0 in every sample")
