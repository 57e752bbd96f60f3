from __future__ import annotations

import pytest

from edgebench.errors import ParseError
from edgebench.parsers import (parse_available_frequencies, parse_cpu_capacity,
                               parse_cpufreq_value, parse_time_in_state)


@pytest.mark.parametrize("name, khz", [
    ("galaxy_s9_us_cpu0_cpuinfo_max_freq.txt", 1766400),
    ("galaxy_s9_us_cpu4_cpuinfo_max_freq.txt", 2803200),
    ("huawei_mate20_cpu0_cpuinfo_max_freq.txt", 1805000),
    ("huawei_mate20_cpu4_cpuinfo_max_freq.txt", 1901000),
    ("huawei_mate20_cpu6_cpuinfo_max_freq.txt", 2600000),
])
def test_max_freq_captures(real, name, khz):
    assert parse_cpufreq_value(real("f_", name)).freq_khz == khz


@pytest.mark.parametrize("name, count, lowest, highest", [
    ("asus_tf201_tegra3_cpufreq_available_frequencies.txt", 12, 102000, 1400000),
    ("galaxy_s9_us_cpu0_scaling_available_frequencies.txt", 18, 300000, 1766400),
    ("galaxy_s9_us_cpu4_scaling_available_frequencies.txt", 23, 825600, 2649600),
    ("huawei_mate20_cpu0_scaling_available_frequencies.txt", 11, 830000, 1805000),
    ("huawei_mate20_cpu4_scaling_available_frequencies.txt", 12, 826000, 1901000),
    ("huawei_mate20_cpu6_scaling_available_frequencies.txt", 13, 1460000, 2600000),
])
def test_available_frequency_captures(real, name, count, lowest, highest):
    result = parse_available_frequencies(real("f_", name))  # trailing space, CRLF for TF201
    assert len(result.frequencies_khz) == count
    assert result.frequencies_khz[0] == lowest and result.frequencies_khz[-1] == highest
    assert (result.min_khz, result.max_khz) == (lowest, highest)


def test_galaxy_s9_big_cluster_table_stops_below_max_freq(real):
    # The S9's cpu4 table tops at 2649600 while cpuinfo_max_freq says 2803200: the two files
    # are different facts, and each parser reports its own.
    table = parse_available_frequencies(real("f_", "galaxy_s9_us_cpu4_scaling_available_frequencies.txt"))
    assert table.max_khz == 2649600
    assert parse_cpufreq_value(real("f_", "galaxy_s9_us_cpu4_cpuinfo_max_freq.txt")).freq_khz == 2803200


def test_unknown_current_frequency_is_none():
    assert parse_cpufreq_value("<unknown>\n").freq_khz is None


def test_time_in_state():
    result = parse_time_in_state("300000 1200\r\n576000 34\n1766400 0\n")
    assert [(r.freq_khz, r.time_10ms) for r in result.residencies] == [
        (300000, 1200), (576000, 34), (1766400, 0)]
    assert result.total_time_10ms == 1234


def test_cpu_capacity():
    assert parse_cpu_capacity("1024\n").capacity_per_1024 == 1024
    assert parse_cpu_capacity("  389 \r\n").capacity_per_1024 == 389


@pytest.mark.parametrize("parser, text, fragment", [
    (parse_cpufreq_value, "", "empty"),
    (parse_cpufreq_value, "1766400 1800000\n", "expected one frequency"),
    (parse_cpufreq_value, "fast\n", "decimal integer"),
    (parse_cpufreq_value, "-5\n", "negative"),
    (parse_available_frequencies, "300000 abc\n", "decimal integer"),
    (parse_available_frequencies, "300000 0\n", "positive"),
    (parse_available_frequencies, "\n\n", "empty"),
    (parse_time_in_state, "300000\n", "two integers"),
    (parse_time_in_state, "300000 1 2\n", "two integers"),
    (parse_time_in_state, "300000 -1\n", "not negative"),
    (parse_time_in_state, "", "no `FREQ_KHZ TIME` lines"),
    (parse_cpu_capacity, "2048\n", "0..1024"),
    (parse_cpu_capacity, "512 512\n", "one capacity value"),
    (parse_cpu_capacity, "", "empty"),
])
def test_malformed_input_raises_parse_error(parser, text, fragment):
    with pytest.raises(ParseError) as info:
        parser(text)
    assert fragment in str(info.value)
