"""`edgebench inspect` picks the batterystats formats by content, and whatever text arrives the two
batterystats parsers return a record or raise ParseError, never another exception."""
from __future__ import annotations

import functools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgebench.errors import ParseError
from edgebench.inspect import inspect_file
from edgebench.inspect.registry import to_jsonable
from edgebench.parsers import parse_batterystats_checkin, parse_dumpsys_batterystats
from edgebench.parsers.batterystats import sniff_dumpsys_batterystats
from edgebench.parsers.batterystats_checkin import sniff_batterystats_checkin

from .conftest import REAL_DEVICE
from .test_batterystats_checkin import MADE_UP_CURRENT

CAPTURES = sorted(p for p in (REAL_DEVICE).glob("c_*/*.txt"))
PARSERS = pytest.mark.parametrize("parse", [parse_dumpsys_batterystats,
                                            parse_batterystats_checkin],
                                  ids=["human", "checkin"])
FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
_ALPHABET = st.sampled_from(
    list(" \t\r\n:,()=+-.%0123456789abhimsux") +
    ["Statistics since last charge:\n", "Battery History (1% used):\n", "  ", "    ",
     "Estimated power use (mAh):\n", "Capacity: ", ", Computed drain: ", ", actual drain: ",
     "Global\n", "Uid u0a1: ", "UID ", "User 10: ", "( cpu=", "Including smearing: ",
     "Excluded from smearing", "apps: ", "duration: ", "Time on battery: ", " realtime",
     "Screen on: ", "Discharge: ", " mAh", "1h 2m 3s 456ms", "+1m05s270ms", "0 (2) 100 ",
     "current=-5", "9,0,l,pwi,uid,", "9,0,i,vers,", "9,h,", "9,0,l,bt,", "N/A", "\ufeff"])
STRUCTURED = st.lists(_ALPHABET, max_size=80).map("".join)


def test_the_three_captures_are_there():
    assert len(CAPTURES) == 3


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_inspect_picks_batterystats_by_content(path, tmp_path):
    result = inspect_file(path)
    assert result.format == "dumpsys_batterystats"
    json.dumps(to_jsonable(result.data))  # inspect prints records as JSON
    # Content decides, not the name: the same text under a neutral name is still recognised.
    plain = tmp_path / "capture.txt"
    plain.write_bytes(path.read_bytes())
    assert inspect_file(plain).format == "dumpsys_batterystats"


def test_inspect_picks_checkin_by_content(tmp_path):
    path = tmp_path / "stats.csv"
    path.write_text(MADE_UP_CURRENT)  # made up, see test_batterystats_checkin
    result = inspect_file(path)
    assert result.format == "dumpsys_batterystats_checkin"
    assert result.data.capacity_mah == 4410
    json.dumps(to_jsonable(result.data))


def test_sniffers_tell_the_two_formats_apart():
    human = CAPTURES[0].read_text(encoding="utf-8")
    assert sniff_dumpsys_batterystats(human, "x.txt") > sniff_batterystats_checkin(human, "x.txt")
    assert sniff_batterystats_checkin(MADE_UP_CURRENT, "x") > sniff_dumpsys_batterystats(
        MADE_UP_CURRENT, "x")
    assert sniff_dumpsys_batterystats("", "") == sniff_batterystats_checkin("", "") == 0
    assert sniff_dumpsys_batterystats("", "dumpsys_batterystats.txt") == 40
    assert sniff_batterystats_checkin("", "batterystats_checkin.txt") == 40


def _parse_or_parse_error(parse, text: str) -> None:
    try:
        parse(text)
    except ParseError:
        pass


@PARSERS
@FAST
@given(text=st.text(max_size=400))
def test_arbitrary_text_only_raises_parse_error(parse, text):
    _parse_or_parse_error(parse, text)
    assert 0 <= sniff_dumpsys_batterystats(text, "x") <= 100
    assert 0 <= sniff_batterystats_checkin(text, "x") <= 100


@PARSERS
@FAST
@given(text=STRUCTURED)
def test_batterystats_like_text_only_raises_parse_error(parse, text):
    _parse_or_parse_error(parse, text)
    assert 0 <= sniff_dumpsys_batterystats(text, "batterystats.txt") <= 100


@functools.cache
def _capture_text(index: int) -> str:
    return CAPTURES[index].read_text(encoding="utf-8")


@FAST
@given(index=st.integers(0, 2), cut=st.integers(0, 1_000_000), width=st.integers(0, 60),
       insert=st.text(max_size=8))
def test_damaged_captures_only_raise_parse_error(index, cut, width, insert):
    text = _capture_text(index)
    cut = cut % (len(text) + 1)
    damaged = text[:cut] + insert + text[cut + width:]
    _parse_or_parse_error(parse_dumpsys_batterystats, damaged)
    assert 0 <= sniff_dumpsys_batterystats(damaged, "x") <= 100


@FAST
@given(cut=st.integers(0, 5_000), width=st.integers(0, 20), insert=st.text(max_size=6))
def test_damaged_checkin_only_raises_parse_error(cut, width, insert):
    cut = cut % (len(MADE_UP_CURRENT) + 1)
    damaged = MADE_UP_CURRENT[:cut] + insert + MADE_UP_CURRENT[cut + width:]
    _parse_or_parse_error(parse_batterystats_checkin, damaged)
