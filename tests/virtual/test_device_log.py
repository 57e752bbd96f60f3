"""logcat's formats, filters and options as AOSP's logcat/liblog define them (no device needed)."""
from __future__ import annotations

import calendar

import pytest

from edgebench.virtual.device_log import LineFormat, LogBuffers, LogEntry, TagFilter
from edgebench.virtual.logcat_args import UsageFailure, parse_log, parse_logcat, parse_since

# 2024-03-05 06:07:08.123456789 UTC
T_NS = calendar.timegm((2024, 3, 5, 6, 7, 8, 0, 0, 0)) * 1_000_000_000 + 123_456_789
ENTRY = LogEntry(1, "main", T_NS, 1234, 1240, 2000, 5, "Tag", "hello")


@pytest.mark.parametrize("fmt, expected", [
    ("brief", "W/Tag     ( 1234): hello\n"),
    ("process", "W( 1234) hello  (Tag)\n"),
    ("tag", "W/Tag     : hello\n"),
    ("thread", "W( 1234: 1240) hello\n"),
    ("raw", "hello\n"),
    ("time", "03-05 06:07:08.123 W/Tag     ( 1234): hello\n"),
    ("threadtime", "03-05 06:07:08.123  1234  1240 W Tag     : hello\n"),
    ("long", "[ 03-05 06:07:08.123  1234: 1240 W/Tag      ]\nhello\n\n"),
])
def test_formats_match_logprint(fmt: str, expected: str) -> None:
    assert LineFormat(fmt).render(ENTRY) == expected


def test_modifiers_and_multi_line_messages() -> None:
    assert LineFormat("threadtime", year=True).render(ENTRY).startswith("2024-03-05 06:07:08.123 ")
    assert LineFormat("threadtime", usec=True).render(ENTRY).startswith("03-05 06:07:08.123456 ")
    assert LineFormat("time", epoch=True).render(ENTRY).startswith(f"{T_NS // 10**9}.123 W/Tag")
    two = LogEntry(2, "main", T_NS, 1, 1, 0, 4, "T", "a\nb\n")
    assert LineFormat("brief").render(two) == "I/T       (    1): a\nI/T       (    1): b\n"


def test_filterspecs_follow_liblog_rules() -> None:
    request = parse_logcat(["-s", "Tag:W", "Other"])
    assert request.tag_filter == TagFilter(8, (("Tag", 5), ("Other", 2)))
    assert parse_logcat(["*:S", "Tag:V"]).tag_filter == TagFilter(8, (("Tag", 2),))
    assert parse_logcat(["*"]).tag_filter.default_priority == 3  # a bare * means *:D
    assert parse_logcat([], "ActivityManager:I *:S").tag_filter == TagFilter(8, (("ActivityManager", 4),))
    assert TagFilter(8, (("Tag", 5),)).shows(ENTRY)
    assert not TagFilter(6).shows(ENTRY)
    with pytest.raises(UsageFailure, match="Invalid filter expression 'Tag:Z'"):
        parse_logcat(["Tag:Z"])


def test_options_as_ci_uses_them() -> None:
    request = parse_logcat(["-v", "threadtime", "-b", "main,system", "-bcrash", "-d", "-T", "5"])
    assert request.buffers == ("main", "system", "crash") and request.dump and request.since is not None
    assert request.since.count == 5 and request.line_format.name == "threadtime"
    assert parse_logcat(["-b", "all"]).buffers == ("main", "radio", "events", "system", "crash", "kernel")
    assert parse_logcat(["-t", "3"]).dump  # -t implies -d, -T does not
    assert not parse_logcat(["-T", "3"]).dump
    assert parse_logcat(["-c"]).clear and parse_logcat(["--clear"]).clear
    with pytest.raises(UsageFailure, match="unknown buffer 'bogus'"):
        parse_logcat(["-b", "bogus"])
    with pytest.raises(UsageFailure, match="not supported"):
        parse_logcat(["-f", "/sdcard/log.txt"])


def test_since_accepts_logcats_time_forms() -> None:
    assert parse_since("1709618828.123", option="-T").time_ns == 1709618828_123_000_000
    assert parse_since("2024-03-05 06:07:08.123", option="-T").time_ns == T_NS - 456_789
    assert parse_since("03-05 06:07:08.000", option="-t").time_ns is not None
    with pytest.raises(UsageFailure, match="neither a count nor a time"):
        parse_since("yesterday", option="-T")


def test_log_applet_arguments() -> None:
    request = parse_log(["-t", "Tag", "-p", "e", "a", "b"], "")
    assert (request.tag, request.priority, request.message, request.buffer) == ("Tag", 6, "a b", "main")
    assert parse_log(["-bsystem"], "from stdin\n").message == "from stdin"
    with pytest.raises(UsageFailure, match="bad priority"):
        parse_log(["-p", "x", "m"], "")


def test_ring_keeps_the_newest_entries_within_its_size() -> None:
    buffers = LogBuffers(capacity_bytes=1000)
    for i in range(100):
        buffers.write("main", 4, "T", f"message {i:03d}")
    kept = buffers.entries(("main",))
    assert kept[-1].message == "message 099" and 0 < len(kept) < 100
    assert buffers.used_bytes("main") <= 1000
    assert len(buffers.write("main", 4, "T", "x" * 10_000).message) == 4068 - 3 - 1  # cut as liblog cuts
    buffers.clear(("main",))
    assert buffers.entries(("main",)) == []
