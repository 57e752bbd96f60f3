"""Small helpers every device-info parser shares: line splitting, strict numbers, sysfs name hints.

Numbers are matched with ASCII-only patterns on purpose: `str.isdigit()` accepts characters such
as '²' that `int()` then rejects, and `\\d` accepts non-ASCII digits no device ever prints.
"""
from __future__ import annotations

import math
import os
import re

from edgebench.errors import ParseError

_INT_RE = re.compile(r"[+-]?[0-9]{1,30}", re.ASCII)
_HEX_RE = re.compile(r"0[xX][0-9a-fA-F]{1,16}", re.ASCII)
# Java's Float/Double.toString forms too: 1.0E-4, NaN, Infinity.
_FLOAT_RE = re.compile(
    r"[+-]?(?:[0-9]{1,30}(?:\.[0-9]{0,30})?|\.[0-9]{1,30})(?:[eE][+-]?[0-9]{1,4})?", re.ASCII)
_SPECIAL_FLOATS = {"nan": math.nan, "+nan": math.nan, "-nan": math.nan,
                   "infinity": math.inf, "+infinity": math.inf, "-infinity": -math.inf,
                   "inf": math.inf, "+inf": math.inf, "-inf": -math.inf}

# Largest amount of text a sniffer looks at: sniffing must stay cheap on big files.
SNIFF_LIMIT_CHARS = 64 * 1024


def text_lines(text: str) -> list[str]:
    """Lines of `text` without their LF / CRLF (or CR CR LF from old adb PTYs) endings.

    A lone CR inside a line is kept: no device format here uses CR alone as a line break.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = [line.rstrip("\r") for line in text.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def sniff_sample(text: str) -> list[str]:
    """The first lines of `text`, enough for a sniffer to decide, never the whole of a huge file."""
    return text_lines(text[:SNIFF_LIMIT_CHARS])


def parse_int(value: str, *, what: str, source: str | None = None,
              line_number: int | None = None, line: str | None = None) -> int:
    """A decimal integer, or ParseError naming what was expected and what came."""
    text = value.strip()
    if not _INT_RE.fullmatch(text):
        raise ParseError(f"{what}: expected a decimal integer, got {value!r}",
                         source=source, line_number=line_number, line=line)
    return int(text)


def parse_int_or_hex(value: str, *, what: str, source: str | None = None,
                     line_number: int | None = None, line: str | None = None) -> int:
    """`0x41` or `65` (the kernel prints CPU ids in hex, revisions in decimal)."""
    text = value.strip()
    if _HEX_RE.fullmatch(text):
        return int(text, 16)
    if _INT_RE.fullmatch(text):
        return int(text)
    raise ParseError(f"{what}: expected a hex (0x..) or decimal integer, got {value!r}",
                     source=source, line_number=line_number, line=line)


def parse_float(value: str, *, what: str, source: str | None = None,
                line_number: int | None = None, line: str | None = None) -> float:
    """A decimal float (also NaN/Infinity as Java prints them), or ParseError."""
    text = value.strip()
    special = _SPECIAL_FLOATS.get(text.lower())
    if special is not None:
        return special
    if not _FLOAT_RE.fullmatch(text):
        raise ParseError(f"{what}: expected a number, got {value!r}",
                         source=source, line_number=line_number, line=line)
    return float(text)


def is_int_text(value: str) -> bool:
    return bool(_INT_RE.fullmatch(value.strip()))


def parse_bool(value: str, *, what: str, source: str | None = None,
               line_number: int | None = None, line: str | None = None) -> bool:
    """Java's `true`/`false` as dumpsys prints them."""
    text = value.strip()
    if text == "true":
        return True
    if text == "false":
        return False
    raise ParseError(f"{what}: expected 'true' or 'false', got {value!r}",
                     source=source, line_number=line_number, line=line)


def none_if_nan(value: float) -> float | None:
    """HALs report 'not available' as NaN; a result field says that with None."""
    return None if math.isnan(value) else value


# sysfs file names whose content alone is ambiguous (one number, a list of numbers). The LONGEST
# name contained in a file's name wins, so `cpuinfo_max_freq` beats `cpuinfo` and `cpu_capacity`
# beats `capacity`. Names listed with no format stop a shorter name from claiming the file.
SYSFS_NAME_FORMATS: dict[str, str | None] = {
    "cpuinfo_max_freq": "cpufreq_value",
    "cpuinfo_min_freq": "cpufreq_value",
    "cpuinfo_cur_freq": "cpufreq_value",
    "scaling_cur_freq": "cpufreq_value",
    "scaling_max_freq": "cpufreq_value",
    "scaling_min_freq": "cpufreq_value",
    "scaling_setspeed": "cpufreq_value",
    "scaling_available_frequencies": "cpufreq_available_frequencies",
    "available_frequencies": "cpufreq_available_frequencies",
    "time_in_state": "cpufreq_time_in_state",
    "cpu_capacity": "cpu_capacity",
    "uevent": "power_supply_uevent",
    "cpuinfo": "proc_cpuinfo",
    "getprop": "getprop",
    "adb_devices": "adb_devices",
    "thermalservice": "dumpsys_thermalservice",
    "dumpsys_battery": "dumpsys_battery",
    "thermal_zone": "thermal_zone_types",
    "healthd": "healthd_log",
    # Claimed by no parser here: they keep a shorter name above from matching.
    "cpuinfo_transition_latency": None,
    "scaling_available_governors": None,
    "scaling_governor": None,
    "batterystats": None,
    "dumpsys_batterystats": None,
    "capacity": None,
    "temp": None,
}


def _longest_known_name(file_name: str) -> str | None:
    base = os.path.basename(file_name or "").lower()
    best: str | None = None
    for name in SYSFS_NAME_FORMATS:
        if name in base and (best is None or len(name) > len(best)):
            best = name
    return best


def sysfs_name_hint(file_name: str) -> str | None:
    """The format the longest known sysfs/tool name inside `file_name` points to (None if none)."""
    best = _longest_known_name(file_name)
    return SYSFS_NAME_FORMATS[best] if best is not None else None


def name_says_other(file_name: str, fmt: str) -> bool:
    """True when the file's name is a known sysfs/tool name that is NOT `fmt`'s: a sniffer whose
    content test is weak (one number) must then stand back (`thermal_zone0_temp`, `capacity`)."""
    best = _longest_known_name(file_name)
    return best is not None and SYSFS_NAME_FORMATS[best] != fmt


NAME_HINT_SCORE = 40
