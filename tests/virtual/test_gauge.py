"""The battery/fuel-gauge model: units, sign, quantisation, charging physics, drift."""
from __future__ import annotations

import dataclasses

import pytest

from edgebench.virtual.gauge import BatteryModel
from edgebench.virtual.profiles import load_profile

PERIOD_S = 0.1758


def model(profile: str = "pixel-8-like", **overrides: object) -> BatteryModel:
    p = load_profile(profile)
    spec = dataclasses.replace(p.battery, **overrides)
    b = p.power_supply["battery"]
    return BatteryModel(spec, capacity_pct=b["capacity"], voltage_uv=b["voltage_now"], temp_decic=b["temp"], seed="t")


def run(m: BatteryModel, seconds: float, power_mw: float, **kw: bool):  # type: ignore[no-untyped-def]
    readings = []
    for _ in range(int(seconds / PERIOD_S)):
        readings.append(m.step(PERIOD_S, power_mw, charger_online=kw.get("usb", True),
                               input_suspended=kw.get("suspended", False)))
    return readings


def test_units_and_sign_follow_the_profile() -> None:
    quiet = dict(noise_sd_ma=0.0, gain_error=0.0, offset_ma=0.0, offset_drift_ma_per_hour=0.0)
    for unit, sign, expect in (("uA", "charging_positive", -1000), ("mA", "charging_positive", -1),
                               ("uA", "discharging_positive", 1000), ("mA", "discharging_positive", 1)):
        m = model(current_unit=unit, sign=sign, **quiet)
        r = run(m, 1.0, 1000.0, suspended=True)[-1]  # discharging at 1 W
        amps = 1.0 / (r.true_voltage_uv / 1e6)
        assert r.status == "Discharging"
        assert r.current_now == pytest.approx(expect * amps * 1000, rel=0.02, abs=1)
        charging = run(model(current_unit=unit, sign=sign, **quiet), 1.0, 100.0)[-1]
        assert charging.status == "Charging" and (charging.current_now > 0) == (sign == "charging_positive")


def test_the_mate_20_profile_prints_milliamps_positive_while_discharging() -> None:
    r = run(model("huawei-mate-20-like"), 2.0, 1500.0, suspended=True)[-1]
    assert 250 < r.current_now < 700  # ~1.5 W / 3.8 V = ~390 mA, printed as mA, + = discharging


def test_charge_counter_moves_in_quantum_steps_and_agrees_with_the_current() -> None:
    m = model(noise_sd_ma=0.0)
    readings = run(m, 60.0, 3000.0, suspended=True)
    counters = [r.charge_counter_uah for r in readings]
    assert all(c % 500 == 0 for c in counters)
    steps = {a - b for a, b in zip(counters, counters[1:]) if a != b}
    assert steps == {500}  # one quantum at a time: the counter only steps
    mean_ua = sum(r.current_now for r in readings) / len(readings)
    drop_uah = counters[0] - counters[-1]
    assert drop_uah == pytest.approx(-mean_ua * 60 / 3600, abs=1000)  # within two quanta


def test_usb_charges_unless_input_is_suspended_or_vbus_is_cut() -> None:
    assert run(model(), 1.0, 500.0)[-1].status == "Charging"
    assert run(model(), 1.0, 500.0, suspended=True)[-1].status == "Discharging"
    assert run(model(), 1.0, 500.0, usb=False)[-1].status == "Discharging"
    full = model()
    full.set_level(100)
    r = run(full, 1.0, 500.0)[-1]
    assert (r.status, r.capacity_pct, r.true_current_ua) == ("Full", 100, 0.0)


def test_more_power_means_more_discharge_and_a_lower_voltage() -> None:
    idle = run(model(), 3.0, 400.0, suspended=True)[-1]
    busy = run(model(), 3.0, 2400.0, suspended=True)[-1]
    assert busy.current_now < idle.current_now - 300_000  # uA, charging positive: more negative
    assert busy.voltage_now_uv < idle.voltage_now_uv
    assert busy.voltage_now_uv % 625 == 0


def test_gain_and_offset_errors_show_in_the_reading_not_in_the_truth() -> None:
    m = model(noise_sd_ma=0.0, gain_error=0.10, offset_ma=0.0, offset_drift_ma_per_hour=0.0,
              current_now_filter_ms=0.0)  # no low-pass: the reading is this period's conversion
    r = run(m, 1.0, 1000.0, suspended=True)[-1]
    assert r.current_now == pytest.approx(r.true_current_ua * 1.10, rel=1e-3)


def test_state_round_trips_so_a_restart_keeps_the_charge() -> None:
    m = model()
    m.set_level(42)
    run(m, 1.0, 1000.0, suspended=True)
    again = model()
    again.load_state(m.state())
    assert again.charge_true_uah == m.charge_true_uah and again.soc == pytest.approx(0.42, abs=0.01)


def test_a_weak_charger_leaves_the_battery_discharging_while_it_supplies_part_of_the_load() -> None:
    quiet = dict(noise_sd_ma=0.0, gain_error=0.0, offset_ma=0.0, offset_drift_ma_per_hour=0.0)
    full = run(model(**quiet), 1.0, 2000.0)[-1]
    alone = [model(**quiet).step(PERIOD_S, 2000.0, charger_online=False, input_suspended=False) for _ in range(6)][-1]
    weak = [model(**quiet).step(PERIOD_S, 2000.0, charger_online=True, input_suspended=False,
                                charger_limit_ua=150_000.0) for _ in range(6)][-1]
    assert full.status == "Charging"
    assert weak.status == "Discharging" and alone.status == "Discharging"
    # The charger carries 150 mA of the ~520 mA load: the battery delivers only the rest.
    assert -alone.true_current_ua - (-weak.true_current_ua) == pytest.approx(150_000.0, rel=0.02)
    # With charge input suspended the weak charger supplies nothing.
    suspended = [model(**quiet).step(PERIOD_S, 2000.0, charger_online=True, input_suspended=True,
                                     charger_limit_ua=150_000.0) for _ in range(6)][-1]
    assert suspended.true_current_ua == pytest.approx(alone.true_current_ua, rel=0.01)
    # A light load below the limit: the weak charger still charges.
    light = model(**quiet).step(PERIOD_S, 100.0, charger_online=True, input_suspended=False,
                                charger_limit_ua=150_000.0)
    assert light.status == "Charging"


def test_current_now_lags_a_step_in_load_while_the_counter_does_not() -> None:
    m = model(noise_sd_ma=0.0, gain_error=0.0, offset_ma=0.0, offset_drift_ma_per_hour=0.0)
    before = run(m, 3.0, 500.0, suspended=True)[-1]
    counter_before = m.charge_gauge_uah
    first = run(m, PERIOD_S, 3000.0, suspended=True)[0]  # one period after the load steps up
    # The gauge's low-pass (300 ms) shows less than half of the step in the first period...
    step_ua = first.true_current_ua - before.true_current_ua
    assert abs(first.current_now - before.current_now) < 0.5 * abs(step_ua)
    # ...while its coulomb counter integrates the conversion itself, unfiltered.
    assert counter_before - m.charge_gauge_uah == pytest.approx(-first.true_current_ua * PERIOD_S / 3600, rel=1e-6)
    settled = run(m, 2.0, 3000.0, suspended=True)[-1]  # > 5 time constants later
    assert settled.current_now == pytest.approx(settled.true_current_ua, rel=0.02)


def test_usb_online_discharges_when_the_load_exceeds_what_the_charger_supplies() -> None:
    m = model(noise_sd_ma=0.0, offset_ma=0.0, offset_drift_ma_per_hour=0.0)
    light = run(m, 1.0, 1000.0)[-1]
    assert light.status == "Charging" and light.current_now > 0
    heavy = run(m, 2.0, 4000.0)[-1]  # 4 W against a 2.25 W USB supply: the battery makes up the rest
    assert heavy.status == "Discharging" and heavy.current_now < 0
    volts = heavy.true_voltage_uv / 1e6
    assert -heavy.true_current_ua == pytest.approx((4000.0 - m.spec.usb_input_power_mw) / volts * 1000, rel=0.05)
