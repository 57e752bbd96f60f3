"""Numbers, durations and uids as `dumpsys batterystats` prints them, shared by its parsers.

Charge values come from makemAh/formatCharge: Locale.ENGLISH on current releases, the device
locale on Android 5.0-5.1, so a decimal comma ("12,3") is read as well. Durations come from
formatTimeMs ("1d 2h 3m 4s 5ms") or formatTimeMsNoSpace ("+1m05s270ms"). Uids print as
UserHandle.formatUid does: `1000`, `u0a123` (= 10123), `u10s1000` (= 1001000), `u0i5`
(isolated, 99005), `u0ai3` (app zygote, 90003).
"""
from __future__ import annotations

import re

from edgebench.errors import ParseError

UNUM = r"[0-9]{1,30}(?:[.,][0-9]{1,30})?(?:[eE][+-]?[0-9]{1,4})?"
NUM = rf"-?{UNUM}"
_NUM_RE = re.compile(NUM, re.ASCII)
# formatTimeMs ("1d 2h 3m 4s 5ms") and formatTimeMsNoSpace ("+1m05s270ms", "1h2m3s").
_DURATION_RE = re.compile(
    r"([+-])?(?:([0-9]{1,9})d)? ?(?:([0-9]{1,9})h)? ?(?:([0-9]{1,9})m)? ?(?:([0-9]{1,9})s)? ?"
    r"(?:([0-9]{1,12})ms)?", re.ASCII)
_UID_RE = re.compile(r"u([0-9]{1,5})(a|s|i|ai)([0-9]{1,6})", re.ASCII)
PER_USER_RANGE = 100_000


def parse_number(text: str, *, what: str, source: str | None, line_number: int | None,
                 line: str | None) -> float:
    """A mAh-style number as makemAh/formatCharge print it, decimal comma allowed."""
    value = text.strip()
    if not _NUM_RE.fullmatch(value):
        raise ParseError(f"{what}: expected a number such as 12.3 (or 12,3), got {text!r}",
                         source=source, line_number=line_number, line=line)
    return float(value.replace(",", "."))


def parse_duration_ms(text: str, *, what: str, source: str | None, line_number: int | None,
                      line: str | None) -> int:
    """Milliseconds from `1d 2h 3m 4s 5ms`, `+1m05s270ms` or `-3s2ms`."""
    value = text.strip()
    match = _DURATION_RE.fullmatch(value)
    if value in ("", "+", "-") or match is None or not any(match.groups()[1:]):
        raise ParseError(f"{what}: expected a duration such as '1h 2m 3s 456ms', got {text!r}",
                         source=source, line_number=line_number, line=line)
    sign, days, hours, minutes, seconds, millis = match.groups()
    total = ((int(days or 0) * 24 + int(hours or 0)) * 60 + int(minutes or 0)) * 60
    total = (total + int(seconds or 0)) * 1000 + int(millis or 0)
    return -total if sign == "-" else total


def uid_number(text: str) -> int | None:
    """The numeric uid behind UserHandle.formatUid text (`u0a123` -> 10123); None if not a uid."""
    if text.isascii() and text.isdigit() and len(text) <= 12:
        return int(text)
    match = _UID_RE.fullmatch(text)
    if match is None:
        return None
    user, kind, number = int(match.group(1)), match.group(2), int(match.group(3))
    app_id = {"a": 10_000 + number, "s": number, "i": 99_000 + number, "ai": 90_000 + number}[kind]
    return user * PER_USER_RANGE + app_id
