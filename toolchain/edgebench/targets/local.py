"""The `local` target: this host, running the same driver and runner as a phone, in a run folder.

The workspace's `local-device/` folder plays the part of a phone's /data/local/tmp/edgebench.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

from edgebench.devices.cpu_topology import CpuFacts
from edgebench.errors import HarnessError
from edgebench.targets.base import DeviceInfo, DriverResult, SliceEvents, Target, output_tail
from edgebench.targets.slice_protocol import DeviceCooldown, SliceEntry
from edgebench.targets.staging import file_sha256

MANIFEST_NAME = ".edgebench-staged.json"


def host_machine_id() -> str:
    """A stable identity for this host: /etc/machine-id when present, else the hostname."""
    for candidate in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            text = Path(candidate).read_text().strip()
        except OSError:
            continue
        if text:
            return f"host:{text}"
    return f"host:{socket.gethostname()}"


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.lower().startswith("model name") and ":" in line:
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


class LocalTarget(Target):
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._info: DeviceInfo | None = None
        self._running: dict[str, subprocess.Popen[bytes]] = {}

    def describe(self) -> DeviceInfo:
        if self._info is None:
            self._info = DeviceInfo(
                target="local", device_id=host_machine_id(), device_kind="local", abi=self.harness_abi,
                manufacturer=None, model=_cpu_model(), soc=platform.machine(),
                os_version=f"{platform.system()} {platform.release()}", cpu_count=os.cpu_count(),
                extra={"hostname": socket.gethostname()})
        return self._info

    @property
    def harness_abi(self) -> str:
        return "host"

    @property
    def sysroot(self) -> str:
        return ""

    def device_path(self, relative: str) -> str:
        return str(self.root / relative)

    # -- staging ------------------------------------------------------------------------------
    def _manifest(self) -> dict[str, dict[str, object]]:
        try:
            manifest: dict[str, dict[str, object]] = json.loads((self.root / MANIFEST_NAME).read_text())
            return manifest
        except (OSError, ValueError):
            return {}

    def stage(self, files: Mapping[str, Path], *, verify: bool = False) -> None:
        manifest = self._manifest()
        changed = False
        for relative, source in files.items():
            digest = file_sha256(source)
            dest = self.root / relative
            entry = manifest.get(relative)
            if (entry and entry.get("sha256") == digest and dest.exists()
                    and dest.stat().st_size == entry.get("size") and dest.stat().st_mtime_ns == entry.get("mtime_ns")
                    and (not verify or file_sha256(dest) == digest)):
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(dest.name + ".partial")
            shutil.copyfile(source, tmp)
            os.chmod(tmp, 0o755 if os.access(source, os.X_OK) else 0o644)
            os.replace(tmp, dest)  # atomic: a killed copy never leaves a half file under the real name
            st = dest.stat()
            manifest[relative] = {"sha256": digest, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
            changed = True
        if changed:
            tmp = self.root / (MANIFEST_NAME + ".partial")
            tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
            os.replace(tmp, self.root / MANIFEST_NAME)

    # -- running ------------------------------------------------------------------------------
    def run_dir(self, run_name: str) -> Path:
        return self.root / "runs" / run_name

    def run_driver(self, run_name: str, runner_args: Sequence[str], env: Mapping[str, str],
                   timeout_s: float, results_dir: Path) -> DriverResult:
        driver = self.root / "driver.sh"
        if not driver.exists():
            raise HarnessError(f"<local> the driver is not staged at {driver}; stage the harness first")
        run_dir = self.run_dir(run_name)
        if run_dir.exists():
            shutil.rmtree(run_dir)  # a leftover of a killed attempt: its results were never stored
        run_dir.mkdir(parents=True)
        command = ["/bin/sh", str(driver), str(run_dir), "--", *runner_args]
        started = time.monotonic()
        proc = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
        self._running[run_name] = proc
        try:
            _stdout, stderr = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            _stdout, stderr = proc.communicate()
            raise HarnessError(f"<local> the harness did not finish within {timeout_s:.0f} s and was killed"
                               f"\n  command: {' '.join(command)}") from None
        except BaseException:
            # Ctrl-C or any other interruption: never leave a runner burning CPU behind us.
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        finally:
            self._running.pop(run_name, None)
        wall = time.monotonic() - started
        _copy_out(run_dir, results_dir)
        return DriverResult(exit_code=proc.returncode, out_dir=results_dir, wall_seconds=wall,
                            stderr_tail=output_tail(stderr.decode(errors="replace"), results_dir))

    # -- slices -------------------------------------------------------------------------------
    def supports_slices(self) -> bool:
        return (self.root / "slice.sh").exists()

    def run_slice(self, slice_name: str, entries: Sequence[SliceEntry], results_dirs: Sequence[Path], *,
                  keep: bool, cooldown: DeviceCooldown, events: SliceEvents) -> None:
        import select
        import tempfile

        from edgebench.devices.adb import DeviceTimeoutError
        from edgebench.targets.slice_loop import follow_slice
        from edgebench.targets.slice_protocol import SLICE_FILE_SUFFIXES, RunFinished, slice_file_text

        run_dirs = {e.run_name: str(self.run_dir(e.run_name)) for e in entries}
        slice_dir = self.run_dir(slice_name)
        slice_dir.mkdir(parents=True, exist_ok=True)
        slice_file = slice_dir / f"slice-{os.getpid()}-{time.monotonic_ns()}.sh"
        slice_file.write_text(slice_file_text(entries, driver=str(self.root / "driver.sh"), run_dir_of=run_dirs,
                                              output="dir", keep=keep, cooldown=cooldown, logcat=False,
                                              wait_for_go=True))
        command = ["/bin/sh", str(self.root / "slice.sh"), str(slice_file)]
        where = "local"

        delivered: set[int] = set()  # runs whose frame came (their folders are handled in deliver)
        stopped = False

        def deliver(index: int, frame: RunFinished) -> DriverResult:
            delivered.add(index)
            run_dir, results_dir = self.run_dir(entries[index].run_name), results_dirs[index]
            _copy_out(run_dir, results_dir, move=not keep)
            if not keep:
                shutil.rmtree(run_dir, ignore_errors=True)
            return DriverResult(exit_code=frame.exit_code, out_dir=results_dir, wall_seconds=frame.wall_seconds,
                                stderr_tail=output_tail(frame.driver_output, results_dir))

        with tempfile.TemporaryFile() as stderr:
            # The host is the device here: slice.sh waits for a line on stdin before each next run, written once
            # the host has validated and stored the last, so the host's work never shares the CPUs with a run.
            proc = subprocess.Popen(command, env={**os.environ}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=stderr, start_new_session=True, bufsize=0)
            self._running[slice_name] = proc
            assert proc.stdout is not None
            fd = proc.stdout.fileno()

            def read(timeout_s: float) -> bytes | None:
                ready, _, _ = select.select([fd], [], [], timeout_s)
                if not ready:
                    raise DeviceTimeoutError(where, f"no output within {timeout_s:.1f} s", command=" ".join(command))
                return os.read(fd, 1 << 16) or None

            def go() -> None:
                assert proc.stdin is not None
                try:
                    proc.stdin.write(b"go\n")
                except OSError:
                    pass  # slice.sh ended: the loop reads its end (or why it stopped)

            def kill() -> None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

            try:
                follow_slice(read, entries=entries, cooldown=cooldown, events=events, deliver=deliver,
                             answers=lambda: True, kill=kill, where=where, command=" ".join(command),
                             last_words=lambda: _file_text(stderr), after_finished=go)
            except BaseException:
                kill()  # Ctrl-C, a hung run, a bad frame: never leave a runner burning CPU behind us
                stopped = True
                raise
            finally:
                try:
                    if proc.stdin is not None:
                        proc.stdin.close()
                except OSError:
                    pass  # slice.sh ended before reading the last go line
                proc.stdout.close()
                proc.wait()
                self._running.pop(slice_name, None)
                for end in SLICE_FILE_SUFFIXES:
                    slice_file.with_name(slice_file.name + end).unlink(missing_ok=True)
                if stopped and not keep:  # the run in flight, which the host may not have heard start yet
                    for i, entry in enumerate(entries):
                        if i not in delivered:
                            shutil.rmtree(run_dirs[entry.run_name], ignore_errors=True)

    def cancel_run(self, run_name: str) -> None:
        proc = self._running.get(run_name)
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # driver, runner and sampler share the group
            except ProcessLookupError:
                pass

    def finish_run(self, run_name: str, *, keep: bool, log_marker: str | None = None,
                   log_path: Path | None = None) -> None:
        if not keep:  # this host has no device log to keep
            shutil.rmtree(self.run_dir(run_name), ignore_errors=True)

    def read_temperatures_c(self) -> dict[str, float]:
        temps: dict[str, float] = {}
        for zone in sorted(Path("/sys/class/thermal").glob("thermal_zone*")):
            try:
                kind = (zone / "type").read_text().strip()
                millideg = int((zone / "temp").read_text().strip())
            except (OSError, ValueError):
                continue
            temps[f"{zone.name}:{kind}"] = millideg / 1000.0
        return temps

    def cpu_facts(self) -> list[CpuFacts]:
        facts = []
        for cpu_dir in sorted(Path("/sys/devices/system/cpu").glob("cpu[0-9]*"), key=lambda p: int(p.name[3:])):
            facts.append(CpuFacts(int(cpu_dir.name[3:]), _read_int(cpu_dir / "cpu_capacity"),
                                  _read_int(cpu_dir / "cpufreq" / "cpuinfo_max_freq")))
        return facts


def _copy_out(run_dir: Path, results_dir: Path, *, move: bool = False) -> None:
    """A run folder's out/ to `results_dir` (emptied first; left empty when the driver made no out/). `move`: the
    run folder goes next, so out/ is renamed where both are on one file system, not copied (a new file costs
    about 1 ms of CPU on some storage, and out/ holds a dozen)."""
    if results_dir.exists():
        shutil.rmtree(results_dir)
    results_dir.parent.mkdir(parents=True, exist_ok=True)
    if move:
        try:
            os.rename(run_dir / "out", results_dir)
            return
        except OSError:
            pass  # no out/ (the driver failed early), or another file system: as a copy
    if (run_dir / "out").is_dir():
        shutil.copytree(run_dir / "out", results_dir)
    else:
        results_dir.mkdir(parents=True)


def _file_text(fh: Any) -> str:
    fh.seek(0)
    return bytes(fh.read()[-2000:]).decode(errors="replace")


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None
