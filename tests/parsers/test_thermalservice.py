"""dumpsys thermalservice. No capture ships with the project: every text below is MADE UP by
this project in the shapes AOSP's ThermalManagerService prints (values invented)."""
from __future__ import annotations

import math

import pytest

from edgebench.errors import ParseError
from edgebench.parsers import parse_dumpsys_thermalservice

MADE_UP_AIDL = """\
IsStatusOverride: false
ThermalEventListeners:
\tcallbacks: 2
\tkilled: false
\tbroadcasts count: -1
ThermalStatusListeners:
\tcallbacks: 5
\tkilled: false
\tbroadcasts count: -1
Thermal Status: 2
Cached temperatures:
\tTemperature{mValue=38.1, mType=0, mName=cpu0-silver, mStatus=0}
\tTemperature{mValue=41.5, mType=3, mName=skin, mStatus=2}
HAL Ready: true
HAL connection:
\tThermalHAL AIDL 1  connected: yes
Current temperatures from HAL:
\tTemperature{mValue=44.8, mType=0, mName=cpu0-silver, mStatus=0}
\tTemperature{mValue=42.0, mType=3, mName=skin, mStatus=2}
\tTemperature{mValue=NaN, mType=9, mName=npu, mStatus=0}
\tTemperature{mValue=31.25, mType=2, mName=battery, mStatus=0}
Current cooling devices from HAL:
\tCoolingDevice{mValue=3, mType=2, mName=thermal-cpufreq-0}
\tCoolingDevice{mValue=0, mType=3, mName=thermal-devfreq-0}
Temperature static thresholds from HAL:
\tTemperatureThreshold{mType=3, mName=skin, mHotThrottlingThresholds=[NaN, 39.0, 41.0, 43.0, 45.0, 50.0, 55.0], mColdThrottlingThresholds=[NaN, NaN, NaN, NaN, NaN, NaN, NaN]}
Temperature headroom thresholds:
[NaN, 0.85, 0.9, 0.95, 1.0, NaN, NaN]
"""


def test_made_up_aidl_dump():
    dump = parse_dumpsys_thermalservice(MADE_UP_AIDL)
    assert dump.thermal_status == 2 and dump.thermal_status_name == "moderate"
    assert dump.is_status_override is False
    assert dump.hal_ready is True
    assert dump.hal_connection == "ThermalHAL AIDL 1" and dump.hal_connected is True
    assert dump.temperatures_source == "hal"
    assert [(t.name, t.type, t.value_c, t.status) for t in dump.temperatures] == [
        ("cpu0-silver", 0, 44.8, 0), ("skin", 3, 42.0, 2), ("npu", 9, None, 0),
        ("battery", 2, 31.25, 0)]
    assert dump.temperatures[1].type_name == "skin" and dump.temperatures[1].status_name == "moderate"
    assert [t.value_c for t in dump.cached_temperatures] == [38.1, 41.5]
    assert [(c.name, c.type, c.type_name, c.value) for c in dump.cooling_devices] == [
        ("thermal-cpufreq-0", 2, "cpu", 3), ("thermal-devfreq-0", 3, "gpu", 0)]
    (threshold,) = dump.thresholds
    assert threshold.name == "skin" and threshold.type == 3
    assert threshold.hot_thresholds_c == (None, 39.0, 41.0, 43.0, 45.0, 50.0, 55.0)
    assert threshold.cold_thresholds_c == (None,) * 7
    assert dump.headroom_thresholds == (None, 0.85, 0.9, 0.95, 1.0, None, None)
    assert dump.extras["ThermalStatusListeners/callbacks"] == "5"


# HIDL Thermal HAL 2.0, as pasted with 8-space indentation (tabs lost), empty lists.
MADE_UP_HIDL_SPACES = """\
IsStatusOverride: true
ThermalEventListeners:
        callbacks: 1
        killed: false
        broadcasts count: -1
ThermalStatusListeners:
        callbacks: 4
        killed: false
        broadcasts count: -1
Thermal Status: 4
Cached temperatures:
        Temperature{mValue=25.6, mType=0, mName=AP, mStatus=0}
HAL Ready: true
HAL connection:
        ThermalHAL 2.0 connected: yes
Current temperatures from HAL:
        Temperature{mValue=25.6, mType=0, mName=AP, mStatus=0}
        Temperature{mValue=-3.5, mType=2, mName=BAT, mStatus=0}
Current cooling devices from HAL:
Temperature static thresholds from HAL:
        {.type = SKIN, .name = skin, .hotThrottlingThresholds = [NaN, NaN, 40.0, NaN, NaN, NaN, NaN], .coldThrottlingThresholds = [NaN, NaN, NaN, NaN, NaN, NaN, NaN], .vrThrottlingThreshold = NaN}
"""


def test_made_up_hidl_dump_with_spaces_and_override():
    dump = parse_dumpsys_thermalservice(MADE_UP_HIDL_SPACES.replace("\n", "\r\n"))
    assert dump.is_status_override is True
    assert dump.thermal_status == 4 and dump.thermal_status_name == "critical"
    assert dump.hal_connection == "ThermalHAL 2.0"
    assert [t.value_c for t in dump.temperatures] == [25.6, -3.5]
    assert dump.cooling_devices == ()
    assert dump.thresholds[0].type == "SKIN"
    assert dump.thresholds[0].hot_thresholds_c[2] == 40.0
    assert dump.headroom_thresholds is None


def test_made_up_unindented_paste_is_read_by_section_headers():
    text = "\n".join(line.strip() for line in MADE_UP_AIDL.splitlines())
    dump = parse_dumpsys_thermalservice(text)
    assert len(dump.temperatures) == 4 and len(dump.cached_temperatures) == 2
    assert len(dump.cooling_devices) == 2


# Android 10 printed temperatures with String.format and no cooling devices.
MADE_UP_ANDROID10 = """\
IsStatusOverride: false
ThermalEventListeners:
\tcallbacks: 1
\tkilled: false
\tbroadcasts count: -1
ThermalStatusListeners:
\tcallbacks: 1
\tkilled: false
\tbroadcasts count: -1
Thermal Status: 0
Cached temperatures:
\tName: battery, Type: 2, Status: 0, Value: 28.000000
HAL Ready: true
HAL connection:
\tThermalHAL 1.0 connected: yes
Current temperatures from HAL:
\tName: battery, Type: 2, Status: 0, Value: 28.100000
\tName: cpu0, Type: 0, Status: 1, Value: 51.500000
"""


def test_made_up_android10_format():
    dump = parse_dumpsys_thermalservice(MADE_UP_ANDROID10)
    assert dump.thermal_status == 0 and dump.thermal_status_name == "none"
    assert [(t.name, t.value_c, t.status) for t in dump.temperatures] == [
        ("battery", 28.1, 0), ("cpu0", 51.5, 1)]
    assert dump.hal_connection == "ThermalHAL 1.0"


def test_made_up_hal_not_ready_status_unknown():
    dump = parse_dumpsys_thermalservice(
        "IsStatusOverride: false\nThermal Status: -2147483648\nCached temperatures:\n"
        "HAL Ready: false\n")
    assert dump.thermal_status is None and dump.thermal_status_raw == -2147483648
    assert dump.hal_ready is False and dump.hal_connection is None
    assert dump.temperatures == () and dump.temperatures_source == "cached"


def test_made_up_java_float_forms():
    dump = parse_dumpsys_thermalservice(
        "Thermal Status: 0\nCurrent temperatures from HAL:\n"
        "\tTemperature{mValue=1.0E-4, mType=-1, mName=odd, mStatus=0}\n"
        "\tTemperature{mValue=-Infinity, mType=0, mName=bad, mStatus=0}\n")
    odd, bad = dump.temperatures
    assert odd.value_c == pytest.approx(1e-4) and odd.type_name == "unknown"
    assert math.isinf(bad.value_c)


@pytest.mark.parametrize("text, fragment", [
    ("", "no 'Thermal Status:'"),
    ("Can't find service: thermalservice\n", "could not dump"),
    ("Thermal Status: hot\n", "decimal integer"),
    ("HAL Ready: maybe\n", "'true' or 'false'"),
    ("Thermal Status: 1\nThermal Status: 2\n", "appears twice"),
    ("Thermal Status: 1\nCurrent temperatures from HAL:\n\tTemperature{mValue=x, mType=0, mName=a, mStatus=0}\n",
     "expected a number"),
    ("Thermal Status: 1\nCurrent temperatures from HAL:\n\tTemperature{mValue=1.0, mName=a}\n",
     "without mType"),
    ("Thermal Status: 1\nCurrent cooling devices from HAL:\n\tTemperature{mValue=1.0, mType=0, mName=a, mStatus=0}\n",
     "outside its section"),
    ("Thermal Status: 1\nsomething without a colon\n", "expected a thermalservice"),
])
def test_malformed_input_raises_parse_error(text, fragment):
    with pytest.raises(ParseError) as info:
        parse_dumpsys_thermalservice(text)
    assert fragment in str(info.value)
