"""One run per device call on an adb device: run the driver, bring its out/ back, clean up after it.

Per-run round trips are the orchestration's fixed cost on a phone (each ~20-30 ms), so each step is
one shell call with everything it needs riding along. Also here: killing a run's processes (Ctrl-C,
a hung harness, a slice given up) and clearing run folders that interrupted sessions left, since
they work on the same run folders under runs/.
"""
from __future__ import annotations

import json
import shutil
import tarfile
import tempfile
import time
from pathlib import Path
from typing import IO, Mapping, NoReturn, Sequence

from edgebench.devices.adb import AdbDevice, DeviceConnectionError, DeviceTimeoutError, command_line, quote
from edgebench.errors import DeviceError
from edgebench.targets.adb_paths import device_path
from edgebench.targets.base import DriverResult, output_tail
from edgebench.targets.safe_tar import UnsafeArchiveError, extract_tar
from edgebench.targets.slice_protocol import SLICE_FILE_SUFFIXES

PULL_TIMEOUT_S = 120.0
PROBE_TIMEOUT_S = 10.0  # after a driver timeout: does the device still answer a trivial command?


def _start_epoch(manifest: Path) -> str | None:
    """The device's clock (epoch seconds) when the driver started: the start of the run's log window."""
    try:
        value = json.loads(manifest.read_text()).get("start_epoch_s")
    except (OSError, ValueError, AttributeError):
        return None
    return str(value) if isinstance(value, int) else None


def device_answers(device: AdbDevice) -> bool:
    """Whether the device still echoes (within PROBE_TIMEOUT_S, no retry): a hung harness, not a lost link."""
    try:
        return device.shell(["echo", "ok"], retry=False, timeout=PROBE_TIMEOUT_S).stdout.strip() == "ok"
    except DeviceError:
        return False


def extract_run_output(tar: IO[bytes], results_dir: Path, name: str, command: str) -> None:
    """A run's out/ tar into `results_dir`; DeviceError (naming device `name` and `command`) if unsafe."""
    try:
        extract_tar(tar, results_dir)  # refuses absolute paths, .., links out, devices
    except (UnsafeArchiveError, tarfile.TarError) as exc:
        raise DeviceError(name, f"the run's output archive could not be extracted safely: {exc}",
                          command=command) from exc


class AdbRuns:
    """The run folders under runs/ on one device (`name`: its serial, for errors)."""

    def __init__(self, device: AdbDevice, name: str) -> None:
        self.device = device
        self.name = name

    def run_driver(self, run_name: str, runner_args: Sequence[str], env: Mapping[str, str],
                   timeout_s: float, results_dir: Path) -> DriverResult:
        """One shell round trip runs the driver and packs out/ into a tar; one pull brings it back.

        Per-run round trips are the orchestration's fixed cost on a phone (each ~20-30 ms), so the
        log marker and the packing ride along with the driver command (the lock's heartbeat has its
        own thread). A driver that outlives `timeout_s` on a device that still answers is a hung
        harness, not a lost connection: its processes are killed and DeviceError is raised.
        """
        run_dir = device_path(f"runs/{run_name}")
        archive = run_dir + ".tar"
        env_words = " ".join(f"{k}={quote(v)}" for k, v in env.items())
        # The driver makes the folder; rm only clears what a killed earlier attempt left.
        command = (f"rm -rf {quote(run_dir)} {quote(archive)}; "
                   f"{env_words} sh {quote(device_path('driver.sh'))} {quote(run_dir)} -- "
                   f"{command_line(runner_args)}; rc=$?; "
                   f"(cd {quote(run_dir + '/out')} && tar cf {quote(archive)} .) 2>/dev/null || rm -f {quote(archive)}; "
                   f"exit $rc")
        started = time.monotonic()
        try:
            result = self.device.shell(command, timeout=timeout_s, retry=False)
        except DeviceTimeoutError as exc:
            self._raise_hung_or_gone(run_name, timeout_s, exc)
        wall = time.monotonic() - started
        self._collect(run_dir + "/out", archive, results_dir)
        return DriverResult(exit_code=result.exit_code, out_dir=results_dir, wall_seconds=wall,
                            stderr_tail=output_tail(result.stderr or result.stdout, results_dir),
                            log_marker=_start_epoch(results_dir / "manifest.json"))

    def _raise_hung_or_gone(self, run_name: str, timeout_s: float, timeout: DeviceTimeoutError) -> NoReturn:
        """After the driver command timed out: a device that still echoes has a hung harness (kill
        it, report a timeout); one that does not answer is gone (the worker waits for it)."""
        if not device_answers(self.device):
            raise timeout
        self.cancel_run(run_name)
        raise DeviceError(self.name, f"the harness did not finish within {timeout_s:.0f} s while the device kept "
                          "answering: it hung (or the run needs longer than the protocol allows) and was killed "
                          "on the device. Check the model with `--protocol smoke`, or lower --min-seconds / "
                          "--runs.", command=timeout.command) from None

    def _collect(self, remote_out: str, archive: str, results_dir: Path) -> None:
        if results_dir.exists():
            shutil.rmtree(results_dir)
        results_dir.mkdir(parents=True)
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / "out.tar"
            pulled = True
            try:
                self.device.pull(archive, local)
            except DeviceConnectionError:
                raise
            except DeviceError:
                pulled = False  # no tar on this device (or no out/): fall back to file by file
            if pulled:
                with local.open("rb") as tar:
                    extract_run_output(tar, results_dir, self.name, f"pull {archive}")
                return
        listing = self.device.shell(["ls", "-1", remote_out])
        if listing.exit_code != 0:
            return  # the driver made no out/ folder: the caller reports the missing runner.jsonl
        for name in listing.stdout.split():
            if "/" in name or name in (".", ".."):
                continue
            self.device.pull(f"{remote_out}/{name}", results_dir / name)

    def finish_run(self, run_name: str, *, keep: bool, log_marker: str | None = None,
                   log_path: Path | None = None) -> None:
        run_dir = device_path(f"runs/{run_name}")
        parts = []
        if log_marker is not None and log_path is not None:
            parts.append(f"logcat -d -v threadtime -T {quote(log_marker + '.000')} 2>/dev/null")
        parts.append(f"rm -f {quote(run_dir + '.tar')} {quote(run_dir + '.log')}")  # .log: a slice's driver output
        if keep:
            parts.append(f"touch {quote(run_dir + '/.keep')}")  # kept on purpose: leftover cleanup spares it
        else:
            parts.append(f"rm -rf {quote(run_dir)}")
        result = self.device.shell("; ".join(parts) + "; true", timeout=60)
        if log_path is not None and log_marker is not None and result.stdout.strip():
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log_path.write_text(result.stdout)

    def remove_leftover_runs(self) -> None:
        """Run folders a dropped device or a killed host left behind (never those kept with --keep).

        Called while holding the device lock, so no other edgebench is running there."""
        runs = quote(device_path("runs"))
        # A killed slice also leaves its slice file, its log and its runs' tar and driver output (beside each run
        # folder before slice.sh 1.1.0).
        slice_files = " ".join(f"{runs}/*/slice-*.sh{end}" for end in SLICE_FILE_SUFFIXES)
        self.device.shell(f"for d in {runs}/*/*; do [ -d \"$d\" ] && [ ! -e \"$d/.keep\" ] && rm -rf \"$d\" "
                          f"\"$d.tar\" \"$d.log\"; done; rm -f {slice_files}; rmdir {runs}/* 2>/dev/null; true")

    def cancel_run(self, run_name: str) -> None:
        """Kill every process of the run, and the process group of the adb shell that ran the driver
        (driver, runner, sampler and anything they started without the folder in its arguments), as
        the local target kills its process group.

        Every process of the run has the run folder in its arguments (driver, runner --out, sampler,
        the adb shell's `sh -c`). A group is killed only when its leader is one of those processes:
        never adbd's group, never this shell's own (its command line holds the folder too; killing it
        could let the driver outlive its kill and write into the folder after the cleanup). A pid
        namespace shows an outside group as 0: skipped. Three passes: a child forked in between dies too."""
        run_dir = device_path(f"runs/{run_name}")
        pattern = quote(run_dir)
        script = ("me=$$; read -r s < /proc/self/stat; s=${s##*\\)}; set -- $s; mine=$3; "
                  f"for i in 1 2 3; do ours=\" $(echo $(pgrep -f {pattern})) \"; for p in $ours; do "
                  "[ \"$p\" = \"$me\" ] && continue; "
                  "s=; read -r s < /proc/$p/stat 2>/dev/null; s=${s##*\\)}; set -- $s; "
                  "case $ours in *\" $3 \"*) [ \"$3\" != \"$mine\" ] && kill -9 -$3 2>/dev/null ;; esac; "
                  "kill -9 \"$p\" 2>/dev/null; done; sleep 0.2; done; true")
        self.device.shell(script, retry=False, timeout=15)
