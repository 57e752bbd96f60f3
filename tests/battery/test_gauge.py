from __future__ import annotations

import math

import numpy as np
import pytest

from edgebench.battery import GaugeSeries, voltage_to_uv
from edgebench.battery.gauge import change_times_s, longest_hold_s
from edgebench.errors import ParseError
from edgebench.store import DeviceSample

BAT = "/sys/class/power_supply/battery"


def rows(t_ns: int, current: str | None = "-250000", voltage: str | None = "3850000", counter: str | None = "2000000",
         status: str | None = "Discharging", temp: str | None = "301", capacity: str | None = "70"
         ) -> list[tuple[int, str, str | None]]:
    values = {"current_now": current, "voltage_now": voltage, "charge_counter": counter, "status": status,
              "temp": temp, "capacity": capacity}
    return [(t_ns, f"{BAT}/{node}", text) for node, text in values.items()]


def test_from_samples_builds_one_row_per_time_in_order_and_ignores_other_channels() -> None:
    samples = rows(2_000_000_000, current="-300000") + rows(1_000_000_000) + [
        (1_000_000_000, "/sys/class/thermal/thermal_zone0/temp", "41000"),
        (1_500_000_000, "/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "1800000"),
    ]
    s = GaugeSeries.from_samples(samples, BAT + "/")
    assert s.t_s.tolist() == [1.0, 2.0]  # the cpufreq-only time is not a gauge row
    assert s.current_raw.tolist() == [-250000.0, -300000.0]
    assert s.voltage_uv.tolist() == [3850000.0, 3850000.0] and s.voltage_source_unit == "uV"
    assert s.status == ("Discharging", "Discharging")
    assert s.temp_decic[0] == 301 and s.capacity_pct[0] == 70 and s.charge_counter_uah[0] == 2_000_000
    assert s.battery_dir == BAT


def test_from_samples_accepts_store_rows() -> None:
    samples = [DeviceSample(t, c, v) for t, c, v in rows(1_000_000_000) + rows(1_100_000_000)]
    assert len(GaugeSeries.from_samples(samples, BAT)) == 2


def test_missing_and_unreadable_values_are_nan_never_zero() -> None:
    samples = rows(1_000_000_000, counter=None, temp="", status=None) + [(1_100_000_000, f"{BAT}/current_now", "-1")]
    s = GaugeSeries.from_samples(samples, BAT)
    assert math.isnan(s.charge_counter_uah[0]) and math.isnan(s.temp_decic[0])
    assert s.status == (None, None)
    # The second time has only current_now: every other column is missing there.
    assert math.isnan(s.voltage_uv[1]) and math.isnan(s.capacity_pct[1]) and s.current_raw[1] == -1


def test_millivolt_voltage_is_detected_and_converted() -> None:
    s = GaugeSeries.from_samples(rows(1_000_000_000, voltage="3850") + rows(2_000_000_000, voltage="3849"), BAT)
    assert s.voltage_source_unit == "mV"
    assert s.voltage_uv.tolist() == [3_850_000.0, 3_849_000.0]


def test_voltage_in_volts_is_refused_not_guessed() -> None:
    with pytest.raises(ParseError, match="neither µV .* nor mV"):
        voltage_to_uv(np.array([3.85, 3.84]))
    assert voltage_to_uv(np.array([np.nan]))[1] is None


def test_garbage_text_is_a_parse_error_naming_the_channel() -> None:
    with pytest.raises(ParseError, match="current_now.*expected a number"):
        GaugeSeries.from_samples(rows(1_000_000_000, current="n/a"), BAT)


def test_two_different_values_for_one_channel_at_one_time_are_refused() -> None:
    samples = rows(1_000_000_000) + [(1_000_000_000, f"{BAT}/current_now", "-1")]
    with pytest.raises(ParseError, match="two different values"):
        GaugeSeries.from_samples(samples, BAT)


def test_wrong_battery_dir_says_what_channels_were_seen() -> None:
    with pytest.raises(ParseError, match="channels seen include .*battery/current_now"):
        GaugeSeries.from_samples(rows(1_000_000_000), "/sys/class/power_supply/bms")


def test_series_is_immutable_and_validated() -> None:
    s = GaugeSeries.from_samples(rows(1_000_000_000) + rows(2_000_000_000), BAT)
    with pytest.raises(ValueError):
        s.current_raw[0] = 5
    with pytest.raises(ValueError, match="strictly increasing"):
        GaugeSeries(t_s=np.array([2.0, 1.0]), current_raw=np.zeros(2), voltage_uv=np.zeros(2),
                    charge_counter_uah=np.zeros(2), status=(None, None), temp_decic=np.zeros(2),
                    capacity_pct=np.zeros(2))
    with pytest.raises(ValueError, match="current_raw has shape"):
        GaugeSeries(t_s=np.array([1.0, 2.0]), current_raw=np.zeros(3), voltage_uv=np.zeros(2),
                    charge_counter_uah=np.zeros(2), status=(None, None), temp_decic=np.zeros(2),
                    capacity_pct=np.zeros(2))


def test_between_keeps_rows_in_the_closed_window() -> None:
    samples = [r for i in range(10) for r in rows(i * 1_000_000_000, current=str(-i))]
    s = GaugeSeries.from_samples(samples, BAT).between(2.0, 4.0)
    assert s.t_s.tolist() == [2.0, 3.0, 4.0] and s.current_raw.tolist() == [-2.0, -3.0, -4.0]


def test_change_times_and_longest_hold_skip_unreadable_samples() -> None:
    t = np.arange(8, dtype=float)
    v = np.array([1, 1, np.nan, 1, 2, 2, 3, 3], dtype=float)
    assert change_times_s(t, v).tolist() == [4.0, 6.0]
    assert longest_hold_s(t, v) == (4.0, 0.0)  # value 1 from t=0 until 2 shows at t=4
    assert longest_hold_s(t, np.full(8, np.nan)) is None
