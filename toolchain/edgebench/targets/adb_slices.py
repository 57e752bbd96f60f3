"""Slices on an adb device: many runs in one device call, each finished run streamed back as a frame.

One push of the slice file and one shell that runs slice.sh over it; each run's out/ comes back as a
tar frame on that shell's stdout (no pull, no per-run cleanup call), which is what makes a slice
cheaper than one call per run. Its own module because the frames need a shell that keeps binary
bytes intact (shell v2) and `tar` on the device: supports_slices says whether this device has both.
The loop over the frames is targets/slice_loop.py's, shared with the local target.
"""
from __future__ import annotations

import posixpath
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import IO, Callable, Sequence

from edgebench.devices.adb import AdbDevice, quote
from edgebench.errors import DeviceError
from edgebench.targets.adb_paths import device_path
from edgebench.targets.adb_runs import PROBE_TIMEOUT_S, device_answers, extract_run_output
from edgebench.targets.base import DriverResult, SliceEvents, output_tail
from edgebench.targets.slice_loop import follow_slice, save_log_windows
from edgebench.targets.slice_protocol import (SLICE_FILE_SUFFIXES, DeviceCooldown, RunFinished, SliceEntry,
                                              slice_file_text)


class AdbSlices:
    """Runs slice.sh on one device (`name`: its serial); `cancel_run` kills a run folder's processes."""

    def __init__(self, device: AdbDevice, name: str, cancel_run: Callable[[str], None]) -> None:
        self.device = device
        self.name = name
        self.cancel_run = cancel_run
        self._supported: bool | None = None

    def supports_slices(self) -> bool:
        """Frames carry binary tars (a v1 shell, Android < 7, may mangle them) that `tar` makes on the device
        (one call per run falls back to pulling file by file where there is none). Asked once."""
        if self._supported is None:
            try:
                self._supported = self.device.has_shell_v2 and self.device.shell(
                    "command -v tar >/dev/null 2>&1 && echo yes; true").stdout.strip() == "yes"
            except DeviceError:
                return False  # not asked yet (a link that dropped now): one call per run, which waits for it
        return self._supported

    def run_slice(self, slice_name: str, entries: Sequence[SliceEntry], results_dirs: Sequence[Path], *,
                  keep: bool, cooldown: DeviceCooldown, events: SliceEvents) -> None:
        """One push of the slice file, one shell that runs the whole slice and streams each finished run's
        out/ back as a tar frame (no pull, no per-run cleanup call), and the slice's device log at its end."""
        run_dirs = {e.run_name: device_path(f"runs/{e.run_name}") for e in entries}
        token = secrets.token_hex(4)
        slice_file = device_path(f"runs/{slice_name}/slice-{token}.sh")
        text = slice_file_text(entries, driver=device_path("driver.sh"), run_dir_of=run_dirs, output="tar",
                               keep=keep, cooldown=cooldown, logcat=True, token=token)
        if "fixed_push_mkdir" not in self.device.features():  # older adbd does not make the folder for a push
            self.device.check_shell(["mkdir", "-p", posixpath.dirname(slice_file)])
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / "slice.sh"
            local.write_text(text)
            self.device.push(local, slice_file)
        command = f"sh {quote(device_path('slice.sh'))} {quote(slice_file)}"

        delivered: set[int] = set()  # runs whose frame came: slice.sh removed their folders (unless keep)

        def deliver(index: int, frame: RunFinished) -> DriverResult:
            delivered.add(index)
            results_dir = results_dirs[index]
            self._unpack(frame.tar, results_dir, command)
            return DriverResult(exit_code=frame.exit_code, out_dir=results_dir, wall_seconds=frame.wall_seconds,
                                stderr_tail=output_tail(frame.driver_output, results_dir))

        try:
            with self.device.open_shell(command) as stream:
                log = follow_slice(stream.read_stdout, entries=entries, cooldown=cooldown, events=events,
                                   deliver=deliver, answers=lambda: device_answers(self.device),
                                   kill=lambda: self.cancel_run(slice_name),
                                   where=self.name, command=f"adb -s {self.name} shell {command}",
                                   last_words=lambda: stream.stderr_text)
        except BaseException:
            # Closing the stream is not enough: adbd hangs up only the shell, and the driver, runner and sampler
            # of the run in flight would go on beside the next slice. Kill them all; slice.sh, killed, cannot
            # remove its files either. Then the folders of every run whose frame did not come: the host may not
            # have read the start of the run in flight yet (a loaded host, a stop just after the start), so
            # which run that was is not known here, and the worker's clean-up after a stop can miss it.
            try:
                self.cancel_run(slice_name)  # first: a driver still running could write into a removed folder
                leftovers = [slice_file + end for end in SLICE_FILE_SUFFIXES]
                if not keep:
                    leftovers += [run_dirs[e.run_name] for i, e in enumerate(entries) if i not in delivered]
                self.device.shell(remove_command(leftovers), retry=False, timeout=PROBE_TIMEOUT_S)
            except DeviceError:
                pass  # gone: the worker kills what is left when it is back; remove_leftover_runs clears the rest
            raise
        if log:
            save_log_windows(log, results_dirs, token=token)

    def _unpack(self, tar: IO[bytes] | None, results_dir: Path, command: str) -> None:
        """A slice frame's tar of out/ into `results_dir` (emptied first); None: the driver made no out/."""
        if results_dir.exists():
            shutil.rmtree(results_dir)
        results_dir.mkdir(parents=True)
        if tar is None:
            return  # the caller reports the missing runner.jsonl
        try:
            extract_run_output(tar, results_dir, self.name, command)
        finally:
            tar.close()


def remove_command(paths: Sequence[str]) -> str:
    """`rm -rf` of `paths` with each folder's names relative to it: a slice's 64 run folders by full path
    make a command longer than the 4 KB an older adbd takes (adb's v1 payload), by name about 1 KB."""
    by_folder: dict[str, list[str]] = {}
    for path in paths:
        by_folder.setdefault(posixpath.dirname(path), []).append(posixpath.basename(path))
    return "; ".join(f"cd {quote(folder)} 2>/dev/null && rm -rf {' '.join(quote(n) for n in names)}"
                     for folder, names in by_folder.items()) + "; true"
