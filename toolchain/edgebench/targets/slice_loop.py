"""Reading a running slice: deadlines per run, events to the caller, a hung run told from a lost device.

Both targets (local, adb) start slice.sh their own way and hand this loop a function that returns the
next bytes of its stdout; the loop turns them into events, calls back as each run finishes, and
enforces each run's own timeout (the driver call's, as run_driver enforces it one run at a time).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Sequence

from edgebench.devices.adb import DeviceTimeoutError
from edgebench.errors import DeviceError
from edgebench.targets.base import DriverResult, SliceEvents
from edgebench.targets.slice_protocol import (CoolingDown, DeviceCooldown, FrameReader, RunFinished, RunStarted,
                                              SliceEnded, SliceEntry, SliceLog)

# Seconds allowed after a run's frame for packing and cleaning up before the next run starts.
BETWEEN_RUNS_S = 60.0
READ_POLL_S = 5.0


class SliceRunTimeout(DeviceError):
    """A run of a slice outlived its timeout while the device kept answering: the slice was killed."""

    def __init__(self, serial: str, message: str, *, command: str, index: int) -> None:
        super().__init__(serial, message, command=command)
        self.index = index


def follow_slice(read: Callable[[float], bytes | None], *, entries: Sequence[SliceEntry], cooldown: DeviceCooldown,
                 events: SliceEvents, deliver: Callable[[int, RunFinished], DriverResult],
                 answers: Callable[[], bool], kill: Callable[[], None], where: str, command: str,
                 last_words: Callable[[], str] = lambda: "", after_finished: Callable[[], None] = lambda: None,
                 clock: Callable[[], float] = time.monotonic) -> str | None:
    """Follow slice.sh's stdout until it ends; returns the slice's device log (None when it sent none).

    `read(timeout_s)`: the next bytes, None at the end, DeviceTimeoutError when none came in time.
    `deliver(index, frame)`: puts a finished run's out/ in place and returns its DriverResult.
    `answers()`: does the device still answer (after a run's deadline passed)? `kill()`: stop the slice.
    `last_words()`: what slice.sh printed on stderr, for the error when it stops early.
    `after_finished()`: called once the host is done with a finished run (the local target's go line).
    Raises SliceRunTimeout (hung run, slice killed), DeviceConnectionError (lost device) or DeviceError.
    """
    reader = FrameReader(where, command)
    deadline = clock() + BETWEEN_RUNS_S + (cooldown.longest_wait_s if cooldown.before_first else 0.0)
    in_flight: int | None = None
    finished = 0
    log_text: str | None = None
    while True:
        try:
            data = read(max(0.05, min(READ_POLL_S, deadline - clock())))
        except DeviceTimeoutError:
            if clock() < deadline:
                continue
            if not answers():
                raise  # the device is gone, not just slow
            kill()
            if in_flight is None:
                raise DeviceError(where, f"the slice runner said nothing for {BETWEEN_RUNS_S:.0f} s between runs "
                                  f"({finished} of {len(entries)} done; a cool-down or cleanup that hung?) while "
                                  "the device kept answering: it was stopped", command=command) from None
            entry = entries[in_flight]
            raise SliceRunTimeout(where, f"the harness did not finish within {entry.timeout_s:.0f} s while the "
                                  "device kept answering: it hung (or the run needs longer than the protocol allows) "
                                  "and was killed on the device. Check the model with `--protocol smoke`, or lower "
                                  "--min-seconds / --runs.", command=command, index=in_flight) from None
        if data is None:
            break
        for event in reader.feed(data):
            if isinstance(event, (RunStarted, CoolingDown, RunFinished)):
                index = event.index - 1
                if not 0 <= index < len(entries) or index < finished:
                    raise DeviceError(where, f"the slice runner reported run {event.index} out of order "
                                      f"({finished} of {len(entries)} finished)", command=command)
            if isinstance(event, CoolingDown):
                deadline = clock() + cooldown.longest_wait_s + BETWEEN_RUNS_S
                events.stage(event.index - 1, "cool-down")
            elif isinstance(event, RunStarted):
                in_flight = event.index - 1
                deadline = clock() + entries[in_flight].timeout_s
                events.stage(in_flight, "run")
            elif isinstance(event, RunFinished):
                in_flight = None
                finished += 1
                deadline = clock() + BETWEEN_RUNS_S
                events.finished(event.index - 1, deliver(event.index - 1, event))
                after_finished()
            elif isinstance(event, SliceLog):
                log_text = event.text
            elif isinstance(event, SliceEnded):
                pass
    if not reader.ended or finished != len(entries):
        said = last_words().strip()[-500:]
        raise DeviceError(where, f"the slice runner stopped after {finished} of {len(entries)} runs; "
                          + (f"it said: {said}" if said else "it said nothing (killed on the device?)"), command=command)
    return log_text


def save_log_windows(log_text: str, results_dirs: Sequence[Path], *, token: str) -> None:
    """Cut the slice's device log at each run's mark (a line ending "run slice-TOKEN-N": the driver's
    "workload start" line, or slice.sh's own) into each run's logcat.txt. Lines before run 1's mark go with
    run 1 (its driver's state reads); before a later run's mark (logd's ring buffer wrapped) with no run.
    Without marks (no `log` command on the device) nothing is cut."""
    windows: list[list[str]] = [[] for _ in results_dirs]
    current: int | None = None
    before_first: list[str] = []
    for line in log_text.splitlines(keepends=True):
        text = line.rstrip()
        if f"run slice-{token}-" in text:
            for i in range(current or 0, len(results_dirs)):
                if text.endswith(f"run slice-{token}-{i + 1}"):
                    if current is None and i == 0:
                        windows[0] += before_first
                    current = i
                    break
        if current is None:
            before_first.append(line)
        else:
            windows[current].append(line)
    for folder, lines in zip(results_dirs, windows):
        if folder.is_dir() and lines:
            (folder / "logcat.txt").write_text("".join(lines))
