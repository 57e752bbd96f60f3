"""Slices: many runs in one device call. The slice file the host writes, and the frames slice.sh sends back.

A slice runs each of its runs through driver.sh, one after the other, with the protocol's cool-down
decided on the device between them, and reports each finished run as a frame on its stdout:

    @@edgebench-slice start INDEX
    @@edgebench-slice cooldown INDEX
    @@edgebench-slice run INDEX EXIT_CODE WALL_CS TAR_BYTES LOG_BYTES   then TAR_BYTES + LOG_BYTES bytes
    @@edgebench-slice log BYTES                                         then BYTES bytes (logcat)
    @@edgebench-slice end RUNS

Indexes count from 1 in the order of the slice file. The reader is incremental: bytes go in as they
arrive, events come out as soon as they are whole.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import IO, Mapping, NoReturn, Sequence

from edgebench.devices.adb import command_line, quote
from edgebench.errors import DeviceError

PREFIX = b"@@edgebench-slice "
MAX_HEADER_BYTES = 256
MAX_FRAME_BYTES = 64 * 2**30  # a bound against a corrupt count, not a limit a real run reaches
SPOOL_IN_MEMORY_BYTES = 8 * 2**20  # a run's tar beyond this goes to a temporary file as it arrives
DRIVER_OUTPUT_KEPT = 64 * 1024  # of what driver.sh printed: its end
DEVICE_LOG_KEPT = 64 * 2**20  # of the slice's device log (logd's buffers are far smaller): its end
# What slice.sh keeps beside SLICE_FILE, by suffix: the file itself, its device log, and the tar and driver
# output every run rewrites (slice.sh 1.1.0). A killed slice leaves them for the host to remove.
SLICE_FILE_SUFFIXES = ("", ".log", ".run.tar", ".run.log")


@dataclass(frozen=True)
class SliceEntry:
    """One run of a slice: the driver call (as Target.run_driver takes it) and where its out/ goes."""

    run_name: str
    runner_args: Sequence[str]
    env: Mapping[str, str]
    timeout_s: float


@dataclass(frozen=True)
class DeviceCooldown:
    """The protocol's cool-down, as the device applies it between the runs of a slice (bench/cooldown.py's rule)."""

    mode: str  # "none", "fixed" or "auto"
    fixed_seconds: float = 0.0
    min_seconds: float = 0.0
    max_seconds: float = 0.0
    baseline_millidegrees: Mapping[str, int] | None = None  # thermal zone folder name -> temperature
    margin_millidegrees: int = 2000
    before_first: bool = False  # the device measured just before this slice: cool down before run 1 too

    @property
    def longest_wait_s(self) -> float:
        if self.mode == "fixed":
            return self.fixed_seconds
        if self.mode == "auto":
            return max(self.min_seconds, self.max_seconds) + 2.0  # one poll past the bound
        return 0.0


def slice_file_text(entries: Sequence[SliceEntry], *, driver: str, run_dir_of: Mapping[str, str], output: str,
                    keep: bool, cooldown: DeviceCooldown, logcat: bool, token: str = "0",
                    wait_for_go: bool = False) -> str:
    """The file slice.sh sources: settings, baselines, then one eb_run line per entry (every word quoted).

    `token`: names this slice's marks in the device log (run N is "slice-TOKEN-N"), so a mark of an earlier
    slice inside the log's one-second start never passes for one of this slice. `wait_for_go`: before each run
    after the first, slice.sh reads a line from its stdin (the local target, where the host's own work on a
    finished run would share the CPUs with the next one: the host writes the line once it is done)."""
    if not token.isalnum():
        raise ValueError(f"token must be letters and digits, received {token!r}")
    if cooldown.mode not in ("none", "fixed", "auto"):
        raise ValueError(f"cool-down mode must be none, fixed or auto, received {cooldown.mode!r}")
    if output not in ("tar", "dir"):
        raise ValueError(f"output must be tar or dir, received {output!r}")
    lines = ["# edgebench slice (sourced by slice.sh)",
             f"EB_DRIVER={quote(driver)}",
             f"EB_OUTPUT={output}",
             f"EB_KEEP={int(keep)}",
             f"EB_COOLDOWN={cooldown.mode}",
             f"EB_COOLDOWN_S={cooldown.fixed_seconds:g}",
             f"EB_COOLDOWN_MIN_S={cooldown.min_seconds:g}",
             f"EB_COOLDOWN_MAX_CS={int(round(cooldown.max_seconds * 100))}",
             f"EB_COOL_FIRST={int(cooldown.before_first)}",
             f"EB_MARGIN_MC={int(cooldown.margin_millidegrees)}",
             f"EB_LOGCAT={int(logcat)}",
             f"EB_TOKEN={token}",
             f"EB_WAIT_GO={int(wait_for_go)}"]
    for zone, millideg in sorted((cooldown.baseline_millidegrees or {}).items()):
        if not zone.replace("_", "").isalnum():
            continue  # a zone name the device would have to quote: not a sysfs thermal zone
        lines.append(f"eb_baseline {zone} {int(millideg)}")
    for entry in entries:
        words = [run_dir_of[entry.run_name], *(f"{k}={v}" for k, v in entry.env.items())]
        lines.append(f"eb_run {command_line(words)} -- {command_line(entry.runner_args)}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class RunStarted:
    index: int


@dataclass(frozen=True)
class CoolingDown:
    index: int


@dataclass(frozen=True)
class RunFinished:
    index: int
    exit_code: int
    wall_seconds: float  # on the device's boot clock, 10 ms resolution
    tar: IO[bytes] | None  # out/ as a tar, at its start (None with output "dir", or when the driver made no out/)
    driver_output: str  # what driver.sh printed (stdout and stderr; its last DRIVER_OUTPUT_KEPT bytes)


@dataclass(frozen=True)
class SliceLog:
    text: str  # the device log (logcat -v threadtime) since the slice began


@dataclass(frozen=True)
class SliceEnded:
    runs: int


SliceEvent = RunStarted | CoolingDown | RunFinished | SliceLog | SliceEnded


class FrameReader:
    """Turns slice.sh's stdout, fed in pieces of any size, into events. `where` names the device and the
    command in errors. A run's tar is written out as it arrives (memory up to SPOOL_IN_MEMORY_BYTES, then
    a temporary file): a µs model's runner output can be hundreds of MB."""

    def __init__(self, where: str, command: str) -> None:
        self._buffer = bytearray()
        self._where = where
        self._command = command
        self._pending: tuple[bytes, list[int]] | None = None  # a header waiting for its payload
        self._tar: IO[bytes] | None = None  # the pending run's tar, being written
        self._tar_left = 0
        self._log = bytearray()
        self._log_left = 0
        self._log_keep = DRIVER_OUTPUT_KEPT
        self.ended = False

    def feed(self, data: bytes) -> list[SliceEvent]:
        self._buffer += data
        events: list[SliceEvent] = []
        while True:
            event = self._next()
            if event is None:
                return events
            events.append(event)

    def _next(self) -> SliceEvent | None:
        if self._pending is None:
            newline = self._buffer.find(b"\n")
            if newline < 0:
                if len(self._buffer) > MAX_HEADER_BYTES and not self._buffer.startswith(PREFIX[:len(self._buffer)]):
                    self._bad(bytes(self._buffer[:80]))
                return None
            header = bytes(self._buffer[:newline]).rstrip(b"\r")
            del self._buffer[:newline + 1]
            if not header.startswith(PREFIX):
                self._bad(header)
            words = header[len(PREFIX):].split()
            kind, numbers = words[0] if words else b"", words[1:]
            try:
                values = [int(w) for w in numbers]
            except ValueError:
                self._bad(header)
            expected = {b"start": 1, b"cooldown": 1, b"run": 5, b"log": 1, b"end": 1}.get(kind)
            if expected is None or len(values) != expected or any(v < 0 for v in values):
                self._bad(header)
            if kind == b"start":
                return RunStarted(values[0])
            if kind == b"cooldown":
                return CoolingDown(values[0])
            if kind == b"end":
                self.ended = True
                return SliceEnded(values[0])
            if kind == b"run":
                self._tar_left, self._log_left = values[3], values[4]
                self._tar = tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY_BYTES) if self._tar_left else None
            else:
                self._tar_left, self._log_left = 0, values[0]
            self._log_keep = DRIVER_OUTPUT_KEPT if kind == b"run" else DEVICE_LOG_KEPT
            if self._tar_left > MAX_FRAME_BYTES or self._log_left > MAX_FRAME_BYTES:
                self._bad(header)
            self._log = bytearray()
            self._pending = (kind, values)
        self._take_payload()
        if self._tar_left or self._log_left:
            return None
        kind, values = self._pending
        self._pending = None
        if kind == b"log":
            return SliceLog(self._log.decode(errors="replace"))
        tar, self._tar = self._tar, None
        if tar is not None:
            tar.seek(0)
        index, exit_code, wall_cs, _tar_bytes, _log_bytes = values
        return RunFinished(index, exit_code, wall_cs / 100.0, tar, self._log.decode(errors="replace"))

    def _take_payload(self) -> None:
        """Move what has arrived of the pending frame's payload out of the buffer (tar first, then the log)."""
        if self._tar_left and self._buffer:
            piece = memoryview(self._buffer)[:self._tar_left]
            assert self._tar is not None
            self._tar.write(piece)
            taken = len(piece)
            piece.release()
            del self._buffer[:taken]
            self._tar_left -= taken
        if not self._tar_left and self._log_left and self._buffer:
            taken = min(self._log_left, len(self._buffer))
            self._log += self._buffer[:taken]
            del self._log[:max(0, len(self._log) - self._log_keep)]  # the end says why; a chatty writer is cut
            del self._buffer[:taken]
            self._log_left -= taken

    def _bad(self, text: bytes) -> NoReturn:
        raise DeviceError(self._where, "the slice runner sent output edgebench cannot read (expected a "
                          f"'@@edgebench-slice ...' line, received {text[:120]!r}); is slice.sh on the device "
                          "the one this edgebench staged? Run again with --verify, or with --no-batch.",
                          command=self._command)
