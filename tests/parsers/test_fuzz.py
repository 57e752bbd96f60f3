"""Whatever text arrives, a parser either returns a record or raises ParseError: never another
exception. Sniffers never raise and stay within 0..100."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgebench.errors import ParseError
from edgebench.inspect.device_formats import DEVICE_FORMATS

from .conftest import REAL_DEVICE

FORMATS = pytest.mark.parametrize("fmt", DEVICE_FORMATS, ids=lambda f: f.name)
FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

# Text made of the characters these formats are built from, so that the fuzzer reaches deep
# into the parsers instead of failing on the first character.
_ALPHABET = st.sampled_from(list("[]:=.,-_ \t\r\n{}()<>$#/0123456789xXaelmNTv") +
                            ["processor", "level", "POWER_SUPPLY_", "Temperature{mValue=",
                             "healthd: battery ", "thermal_zone1/type", "device", "0x41",
                             "NaN", "true", "\u00b2", "\ufeff", "\x00"])
STRUCTURED = st.lists(_ALPHABET, max_size=80).map("".join)
_CAPTURES = sorted(p for p in REAL_DEVICE.glob("[bdef]_*/*") if p.is_file())


def _parse_or_parse_error(fmt, text: str) -> None:
    try:
        fmt.parse(text)
    except ParseError:
        pass


@FORMATS
@FAST
@given(text=st.text(max_size=400))
def test_arbitrary_text_only_raises_parse_error(fmt, text):
    _parse_or_parse_error(fmt, text)
    assert 0 <= fmt.sniff(text, "x.txt") <= 100


@FORMATS
@FAST
@given(text=STRUCTURED)
def test_format_like_text_only_raises_parse_error(fmt, text):
    _parse_or_parse_error(fmt, text)
    assert 0 <= fmt.sniff(text, "cpu0_scaling_available_frequencies") <= 100


@FORMATS
@FAST
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_decoded_only_raise_parse_error(fmt, data):
    for text in (data.decode("utf-8", errors="replace"), data.decode("latin-1")):
        _parse_or_parse_error(fmt, text)
        assert 0 <= fmt.sniff(text, "uevent") <= 100


@FORMATS
@FAST
@given(capture=st.sampled_from(_CAPTURES), cut=st.integers(0, 10_000), width=st.integers(0, 40),
       insert=st.text(max_size=6))
def test_damaged_real_captures_only_raise_parse_error(fmt, capture, cut, width, insert):
    text = capture.read_text(encoding="utf-8")
    cut = cut % (len(text) + 1)
    damaged = text[:cut] + insert + text[cut + width:]
    _parse_or_parse_error(fmt, damaged)
    assert 0 <= fmt.sniff(damaged, capture.name) <= 100
