"""The virtual device's log buffers (what logd holds on a phone) and logcat's text formats.

Entries live in memory, one byte-bounded ring per buffer (main, system, crash, radio, events,
kernel), like logd's: the oldest entries go when a buffer is full, and everything is forgotten on
a reboot. Writers are the device's `log` applet (through the log daemon, logd.py) and the
device's own services on the host (battery gauge, thermal, injected faults), which call `write`
from their threads. Formats follow AOSP liblog's logprint (brief, process, tag, thread, raw, time,
threadtime, long; modifiers year, epoch, usec, UTC, uid): every line of a multi-line message gets
the prefix, except in `long`, which wraps the whole message.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

BUFFERS = ("main", "radio", "events", "system", "crash", "kernel")
DEFAULT_BUFFERS = ("main", "system", "crash")
BUFFER_BYTES = 256 * 1024  # logd's default ring size per buffer
ENTRY_HEADER_BYTES = 28  # logger_entry header, counted against the ring as logd does
MAX_PAYLOAD_BYTES = 4068  # LOGGER_ENTRY_MAX_PAYLOAD: longer messages are cut
PRIORITIES = "  VDIWEFS"  # index = android_LogPriority (2 = VERBOSE ... 7 = FATAL, 8 = SILENT)
FORMATS = ("brief", "process", "tag", "thread", "raw", "time", "threadtime", "long")
MODIFIERS = ("color", "descriptive", "epoch", "monotonic", "printable", "uid", "usec", "UTC", "year", "zone")


def priority_of(letter: str) -> int | None:
    """'V'..'F', 'S' (either case) or '*' (VERBOSE) -> android_LogPriority; None if not one."""
    if letter == "*":
        return 2
    index = PRIORITIES.find(letter.upper()) if len(letter) == 1 and letter.strip() else -1
    return index if index >= 2 else None


@dataclass(frozen=True)
class LogEntry:
    seq: int  # order of arrival in this boot
    buffer: str
    time_ns: int  # CLOCK_REALTIME, as logd stamps entries
    pid: int
    tid: int
    uid: int
    priority: int  # 2 VERBOSE .. 7 FATAL
    tag: str
    message: str

    @property
    def size_bytes(self) -> int:
        return ENTRY_HEADER_BYTES + len(self.tag.encode()) + len(self.message.encode()) + 3


class LogBuffers:
    """Thread-safe rings of log entries; `write` from any thread, `read_after` to follow."""

    def __init__(self, capacity_bytes: int = BUFFER_BYTES) -> None:
        self.capacity_bytes = capacity_bytes
        self._lock = threading.Lock()
        self._rings: dict[str, deque[LogEntry]] = {name: deque() for name in BUFFERS}
        self._used: dict[str, int] = {name: 0 for name in BUFFERS}
        self._seq = 0

    def write(self, buffer: str, priority: int, tag: str, message: str, *, pid: int = 0, tid: int | None = None,
              uid: int = 0, time_ns: int | None = None) -> LogEntry:
        if buffer not in self._rings:
            raise ValueError(f"unknown log buffer {buffer!r}; expected one of {', '.join(BUFFERS)}")
        # Cut as liblog does: the payload (priority, tag, NUL, message, NUL) is at most 4068 bytes.
        room = MAX_PAYLOAD_BYTES - 3 - len(tag.encode())
        data = message.encode()
        if len(data) > room:
            message = data[:max(room, 0)].decode(errors="ignore")
        with self._lock:
            self._seq += 1
            entry = LogEntry(self._seq, buffer, time.time_ns() if time_ns is None else time_ns, pid,
                             pid if tid is None else tid, uid, priority, tag, message)
            ring = self._rings[buffer]
            ring.append(entry)
            self._used[buffer] += entry.size_bytes
            while self._used[buffer] > self.capacity_bytes and len(ring) > 1:
                self._used[buffer] -= ring.popleft().size_bytes
        return entry

    def clear(self, buffers: tuple[str, ...] = BUFFERS) -> None:
        with self._lock:
            for name in buffers:
                self._rings[name].clear()
                self._used[name] = 0

    def entries(self, buffers: tuple[str, ...], after_seq: int = 0) -> list[LogEntry]:
        """Entries of `buffers` newer than `after_seq`, merged in time (then arrival) order."""
        with self._lock:
            picked = [e for name in buffers for e in self._rings[name] if e.seq > after_seq]
        return sorted(picked, key=lambda e: (e.time_ns, e.seq))

    def used_bytes(self, buffer: str) -> int:
        with self._lock:
            return self._used[buffer]


@dataclass(frozen=True)
class LineFormat:
    """`-v` choices: one format and its modifiers."""
    name: str = "threadtime"
    year: bool = False
    epoch: bool = False
    usec: bool = False
    uid: bool = False

    def stamp(self, entry: LogEntry) -> str:
        seconds, ns = divmod(entry.time_ns, 1_000_000_000)
        fraction = f".{ns // 1000:06d}" if self.usec else f".{ns // 1_000_000:03d}"
        if self.epoch:
            return f"{seconds:5d}{fraction}"
        # The device's time zone is UTC (no tzdata on it), so local time and UTC agree.
        return time.strftime("%Y-%m-%d %H:%M:%S" if self.year else "%m-%d %H:%M:%S", time.gmtime(seconds)) + fraction

    def render(self, entry: LogEntry) -> str:
        p = PRIORITIES[entry.priority] if 2 <= entry.priority <= 7 else "?"
        tag, pid, tid = entry.tag, entry.pid, entry.tid
        owner = f"{entry.uid:>5} " if self.uid else ""
        if self.name == "long":
            return f"[ {self.stamp(entry)} {owner}{pid:5d}:{tid:5d} {p}/{tag:<8} ]\n{entry.message}\n\n"
        prefixes = {
            "brief": f"{p}/{tag:<8}({owner}{pid:5d}): ",
            "process": f"{p}({owner}{pid:5d}) ",
            "tag": f"{p}/{tag:<8}: ",
            "thread": f"{p}({owner}{pid:5d}:{tid:5d}) ",
            "raw": "",
            "time": f"{self.stamp(entry)} {p}/{tag:<8}({owner}{pid:5d}): ",
            "threadtime": f"{self.stamp(entry)} {owner}{pid:5d} {tid:5d} {p} {tag:<8}: ",
        }
        prefix = prefixes[self.name]
        suffix = f"  ({tag})\n" if self.name == "process" else "\n"
        lines = entry.message.split("\n")
        if len(lines) > 1 and lines[-1] == "":
            lines.pop()  # a trailing newline ends the last line, it does not start another
        return "".join(f"{prefix}{line}{suffix}" for line in lines)


@dataclass(frozen=True)
class TagFilter:
    """logcat filterspecs (`TAG:P`, `*:S`): the lowest priority shown per tag, and the default."""
    default_priority: int = 2
    by_tag: tuple[tuple[str, int], ...] = ()

    def shows(self, entry: LogEntry) -> bool:
        minimum = self.default_priority
        for tag, priority in self.by_tag:
            if tag == entry.tag:
                minimum = priority
        return entry.priority >= minimum
