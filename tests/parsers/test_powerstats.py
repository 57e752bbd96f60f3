"""ODPM rails: `dumpsys powerstats` channels and the iio `energy_value` files.

The inputs below are WRITTEN from the documented formats (AOSP PowerStatsService's dump rows
"ChannelId: %d, ChannelName: %s, ChannelSubsystem: %s" / "EnergyConsumerId: .., Ordinal: ..,
Type: .., Name: ..", and the Pixel ODPM driver's "t=<ms>" + "CH<i>(T=<ms>)[<rail>], <uWs>"),
not captured from a phone: the project has no Pixel capture.
"""
from __future__ import annotations

import pytest

from edgebench.errors import ParseError
from edgebench.inspect import inspect_file
from edgebench.parsers import parse_dumpsys_powerstats, parse_odpm_energy_value

POWERSTATS = (
    "PowerStatsService dumpsys: available PowerEntities\n"
    "  PowerEntityId: 0, PowerEntityName: AOC\n"
    "    StateId: 0, StateName: AWAKE\n"
    "PowerStatsService dumpsys: available Channels\n"
    "  ChannelId: 0, ChannelName: S4M_VDD_CPUCL0, ChannelSubsystem: CPU(LITTLE)\n"
    "  ChannelId: 1, ChannelName: S2S_VDD_G3D, ChannelSubsystem: GPU\n"
    "  ChannelId: 8, ChannelName: VSYS_PWR_DISPLAY, ChannelSubsystem: Display\n"
    "PowerStatsService dumpsys: available EnergyConsumers\n"
    "  EnergyConsumerId: 0, Ordinal: 0, Type: CPU_CLUSTER, Name: CPUCL0\n"
    "  EnergyConsumerId: 3, Ordinal: 0, Type: 3, Name: DISPLAY\n"
    "PowerStatsService dumpsys: PowerStatsLogger stats\n"
    "  PowerStats Meter Data:\n"
)

# Two meter chips, as on Pixel 6+: each file numbers its own channels from 0.
IIO0 = "t=358356\nCH0(T=358356)[S10M_VDD_TPU], 3598924\nCH1(T=358356)[S2M_VDD_CPUCL2], 91234567\n"
IIO1 = "t=358360\nCH0(T=358360)[VSYS_PWR_MODEM], 1200\nCH1(T=358359)[S2S_VDD_G3D], 50000\n"


def test_channels_and_energy_consumers():
    dump = parse_dumpsys_powerstats(POWERSTATS)
    assert dump.channels_listed and dump.has_rails
    assert [(c.id, c.name, c.subsystem) for c in dump.channels] == [
        (0, "S4M_VDD_CPUCL0", "CPU(LITTLE)"), (1, "S2S_VDD_G3D", "GPU"), (8, "VSYS_PWR_DISPLAY", "Display")]
    first, second = dump.energy_consumers
    assert (first.id, first.ordinal, first.type, first.type_name, first.name) == (0, 0, "CPU_CLUSTER", "CPU_CLUSTER",
                                                                                   "CPUCL0")
    assert (second.type, second.type_name) == ("3", "DISPLAY")  # numeric Type as newer releases print it


def test_crlf_no_indent_and_unknown_fields_are_tolerated():
    text = ("PowerStatsService dumpsys: available Channels\r\n"
            "ChannelId: 0, ChannelName: S4M_VDD_CPUCL0, ChannelSubsystem: CPU(LITTLE), SamplingRate: 1000\r\n"
            "\r\n   ChannelId: 1, ChannelName: L2S_VDD_NPU\r\n")
    dump = parse_dumpsys_powerstats(text)
    assert dump.channels[0].extras == {"SamplingRate": "1000"}
    assert (dump.channels[1].name, dump.channels[1].subsystem) == ("L2S_VDD_NPU", None)


def test_empty_channel_section_means_no_rails():
    dump = parse_dumpsys_powerstats("PowerStatsService dumpsys: available PowerEntities\n"
                                    "PowerStatsService dumpsys: available Channels\n"
                                    "PowerStatsService dumpsys: available EnergyConsumers\n")
    assert dump.channels_listed and not dump.has_rails and dump.channels == ()


@pytest.mark.parametrize("text, line_number", [
    ("PowerStatsService dumpsys: available Channels\n  ChannelId: x, ChannelName: A, ChannelSubsystem: CPU\n", 2),
    ("PowerStatsService dumpsys: available Channels\n  ChannelId: 0, ChannelName: A\n  garbage here\n", 3),
    ("PowerStatsService dumpsys: available Channels\n  ChannelId: 0, ChannelSubsystem: CPU\n", 2),
    ("  ChannelId: 0, ChannelName: A, ChannelSubsystem: CPU\n", 1),  # rows before any header
])
def test_malformed_rows_name_their_line(text, line_number):
    with pytest.raises(ParseError) as err:
        parse_dumpsys_powerstats(text)
    assert err.value.line_number == line_number


def test_not_powerstats_output():
    with pytest.raises(ParseError, match="PowerStatsService"):
        parse_dumpsys_powerstats("Can't find service: powerstats\n")


def test_two_iio_devices_each_parse_with_their_own_channel_numbers():
    first, second = parse_odpm_energy_value(IIO0), parse_odpm_energy_value(IIO1)
    assert first.t_ms == 358356 and second.t_ms == 358360
    assert [(r.channel, r.t_ms, r.name, r.energy_uws) for r in first.rails] == [
        (0, 358356, "S10M_VDD_TPU", 3598924), (1, 358356, "S2M_VDD_CPUCL2", 91234567)]
    assert [(r.channel, r.t_ms, r.name) for r in second.rails] == [(0, 358360, "VSYS_PWR_MODEM"),
                                                                   (1, 358359, "S2S_VDD_G3D")]


def test_energy_value_crlf_and_leading_spaces():
    parsed = parse_odpm_energy_value("t=10\r\n  CH0(T=10)[S4M_VDD_CPUCL0], 7\r\n\r\n")
    assert parsed.t_ms == 10 and parsed.rails[0].energy_uws == 7


def test_energy_value_without_t_line():
    assert parse_odpm_energy_value("CH0(T=5)[A], 1\n").t_ms is None


@pytest.mark.parametrize("text, line_number", [
    ("t=10\nCH0(T=10)[S4M_VDD_CPUCL0], 7\nCH1(T=10)[S3M_VDD_CPUCL1] 9\n", 3),  # no comma
    ("t=10\nCH0(T=10)[S4M_VDD_CPUCL0], -x\n", 2),
    ("t=ten\nCH0(T=10)[A], 1\n", 1),
    ("CH0(T=10)[A], 1\nt=10\n", 2),  # t= after the rows
])
def test_malformed_energy_value_lines(text, line_number):
    with pytest.raises(ParseError) as err:
        parse_odpm_energy_value(text)
    assert err.value.line_number == line_number


def test_empty_energy_value_is_an_error():
    with pytest.raises(ParseError, match="no 'CH"):
        parse_odpm_energy_value("t=10\n")


def test_inspect_recognises_both(tmp_path):
    dump = tmp_path / "dump.txt"
    dump.write_text(POWERSTATS)
    assert inspect_file(dump).format == "dumpsys_powerstats"
    energy = tmp_path / "iio_device1.txt"
    energy.write_text(IIO1)
    result = inspect_file(energy)
    assert result.format == "odpm_energy_value" and result.data.rails[1].name == "S2S_VDD_G3D"
