"""cpufreq sysfs files: one kHz value, the available-frequency list, time_in_state, cpu_capacity.

Content alone cannot tell `cpuinfo_max_freq` from `scaling_cur_freq` (both one kHz integer),
so the result says what the number is, not which file it came from; the sniffers use the sysfs
name inside the file name for that. Frequencies are kHz, as the kernel prints them.
"""
from __future__ import annotations

from dataclasses import dataclass

from edgebench.errors import ParseError
from edgebench.parsers._common import (NAME_HINT_SCORE, is_int_text, name_says_other, parse_int,
                                        sniff_sample, sysfs_name_hint, text_lines)

# A CPU clock in kHz lies between 10 MHz and 10 GHz; devfreq (GPU) lists are in Hz, far above.
KHZ_PLAUSIBLE = range(10_000, 10_000_001)
# SCHED_CAPACITY_SCALE: the biggest core of the system has capacity 1024.
CAPACITY_SCALE = 1024


@dataclass(frozen=True)
class CpuFreqValue:
    """One of cpuinfo_{max,min,cur}_freq / scaling_{cur,max,min}_freq. `freq_khz` is None when
    the kernel printed `<unknown>` (e.g. an offline CPU or a driver that cannot read the clock)."""

    freq_khz: int | None


@dataclass(frozen=True)
class AvailableFrequencies:
    frequencies_khz: tuple[int, ...]  # as listed (the kernel lists them ascending)
    min_khz: int
    max_khz: int


@dataclass(frozen=True)
class FreqResidency:
    freq_khz: int
    time_10ms: int  # time_in_state counts USER_HZ ticks: 10 ms each on Linux/Android


@dataclass(frozen=True)
class TimeInState:
    residencies: tuple[FreqResidency, ...]
    total_time_10ms: int


@dataclass(frozen=True)
class CpuCapacity:
    capacity_per_1024: int  # relative compute capacity; the biggest core is 1024


def _tokens(text: str, src: str | None, what: str) -> list[tuple[str, int, str]]:
    tokens: list[tuple[str, int, str]] = []
    for number, line in enumerate(text_lines(text), start=1):
        tokens.extend((token, number, line) for token in line.split())
    if not tokens:
        raise ParseError(f"the file is empty; expected {what}", source=src)
    return tokens


def parse_cpufreq_value(text: str, *, source: str | None = None) -> CpuFreqValue:
    src = source
    tokens = _tokens(text, src, "one frequency in kHz")
    if len(tokens) != 1:
        _, number, line = tokens[1]
        raise ParseError(f"expected one frequency in kHz, got {len(tokens)} values; is this "
                         "scaling_available_frequencies or time_in_state?",
                         source=src, line_number=number, line=line)
    token, number, line = tokens[0]
    if token == "<unknown>":
        return CpuFreqValue(freq_khz=None)
    value = parse_int(token, what="frequency (kHz)", source=src, line_number=number, line=line)
    if value < 0:
        raise ParseError(f"a frequency cannot be negative, got {value}", source=src,
                         line_number=number, line=line)
    return CpuFreqValue(freq_khz=value)


def parse_available_frequencies(text: str, *, source: str | None = None) -> AvailableFrequencies:
    src = source
    values = []
    for token, number, line in _tokens(text, src, "a list of frequencies in kHz"):
        value = parse_int(token, what="frequency (kHz)", source=src, line_number=number,
                          line=line)
        if value <= 0:
            raise ParseError(f"an available frequency must be positive, got {value}",
                             source=src, line_number=number, line=line)
        values.append(value)
    return AvailableFrequencies(frequencies_khz=tuple(values), min_khz=min(values),
                                max_khz=max(values))


def parse_time_in_state(text: str, *, source: str | None = None) -> TimeInState:
    src = source
    rows = []
    for number, line in enumerate(text_lines(text), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2:
            raise ParseError("expected `FREQ_KHZ TIME` (two integers) per line",
                             source=src, line_number=number, line=line)
        freq = parse_int(parts[0], what="frequency (kHz)", source=src, line_number=number,
                         line=line)
        ticks = parse_int(parts[1], what="time (10 ms ticks)", source=src, line_number=number,
                          line=line)
        if freq <= 0 or ticks < 0:
            raise ParseError("frequency must be positive and time not negative",
                             source=src, line_number=number, line=line)
        rows.append(FreqResidency(freq_khz=freq, time_10ms=ticks))
    if not rows:
        raise ParseError("no `FREQ_KHZ TIME` lines; expected a cpufreq time_in_state file",
                         source=src)
    return TimeInState(residencies=tuple(rows), total_time_10ms=sum(r.time_10ms for r in rows))


def parse_cpu_capacity(text: str, *, source: str | None = None) -> CpuCapacity:
    src = source
    tokens = _tokens(text, src, "one capacity value (0..1024)")
    token, number, line = tokens[0]
    if len(tokens) != 1:
        raise ParseError(f"expected one capacity value, got {len(tokens)} values",
                         source=src, line_number=number, line=line)
    value = parse_int(token, what="cpu_capacity", source=src, line_number=number, line=line)
    if not 0 <= value <= CAPACITY_SCALE:
        raise ParseError(f"cpu_capacity must be within 0..{CAPACITY_SCALE}, got {value}",
                         source=src, line_number=number, line=line)
    return CpuCapacity(capacity_per_1024=value)


# --- sniffers: content first; the sysfs name in the file name decides only ambiguous content.

def _numbers(text: str) -> list[list[str]] | None:
    """Non-blank lines split into integer tokens, or None if anything is not an integer."""
    rows = []
    for line in sniff_sample(text):
        parts = line.split()
        if not parts:
            continue
        if not all(is_int_text(p) for p in parts):
            return None
        rows.append(parts)
    return rows


def sniff_cpufreq_value(text: str, file_name: str) -> int:
    hinted = sysfs_name_hint(file_name) == "cpufreq_value"
    rows = _numbers(text)
    if rows is None:
        return NAME_HINT_SCORE if hinted and text.strip() == "<unknown>" else 0
    if len(rows) != 1 or len(rows[0]) != 1:
        return 0
    if hinted:
        return NAME_HINT_SCORE
    if name_says_other(file_name, "cpufreq_value"):
        return 0
    return 25 if int(rows[0][0]) in KHZ_PLAUSIBLE else 0


def sniff_cpu_capacity(text: str, file_name: str) -> int:
    rows = _numbers(text)
    if rows is None or len(rows) != 1 or len(rows[0]) != 1:
        return 0
    if not 0 <= int(rows[0][0]) <= CAPACITY_SCALE or name_says_other(file_name, "cpu_capacity"):
        return 0
    return NAME_HINT_SCORE if sysfs_name_hint(file_name) == "cpu_capacity" else 20


def sniff_available_frequencies(text: str, file_name: str) -> int:
    rows = _numbers(text)
    if not rows:
        return 0
    values = [int(v) for row in rows for v in row]
    hinted = sysfs_name_hint(file_name) == "cpufreq_available_frequencies"
    if len(rows) == 1 and len(values) >= 2 and all(v in KHZ_PLAUSIBLE for v in values):
        return 80 if values == sorted(values) else 60
    if len(values) == 1 and hinted:
        return NAME_HINT_SCORE  # a one-frequency CPU: only the name can tell
    return 0


def sniff_time_in_state(text: str, file_name: str) -> int:
    rows = _numbers(text)
    if not rows or any(len(row) != 2 for row in rows):
        return 0
    if not all(int(row[0]) in KHZ_PLAUSIBLE for row in rows):
        return 0
    hinted = sysfs_name_hint(file_name) == "cpufreq_time_in_state"
    if hinted:
        return 90
    return 75 if len(rows) >= 2 else 35
