"""The `adb` target: phones, emulators, the virtual device and boards with adbd.

Files are staged under /data/local/tmp/edgebench (executable for the shell user on every Android
version; see docs/measurement-methodology.md §2.5). A manifest of what was pushed is kept on the
device, so re-staging an unchanged file costs one manifest read, not a transfer or a re-hash; a
change is pushed with the manifest on one sync session, without a shell round trip.
"""
from __future__ import annotations

import hashlib
import json
import os
import posixpath
import time
from pathlib import Path
from typing import IO, Mapping, NoReturn, Sequence

from edgebench.devices.adb import AdbDevice, command_line, quote
from edgebench.devices.cpu_topology import CpuFacts
from edgebench.devices.adb import DeviceConnectionError, DeviceTimeoutError
from edgebench.devices.adb_wire import SyncSender
from edgebench.errors import DeviceError
from edgebench.parsers import GetpropResult
from edgebench.targets.android import AndroidDevice
from edgebench.targets.base import DeviceInfo, DriverResult, SliceEvents, Target, output_tail
from edgebench.targets.slice_protocol import DeviceCooldown, SliceEntry
from edgebench.targets.safe_tar import UnsafeArchiveError, extract_tar
from edgebench.targets.staging import cached_sha256, file_sha256, remember_sha256

DEVICE_ROOT = "/data/local/tmp/edgebench"
MANIFEST = f"{DEVICE_ROOT}/.edgebench-staged.json"
LOCK_DIR = f"{DEVICE_ROOT}/.lock"
EXECUTABLE_PREFIXES = ("bin/",)
# Results the driver writes; anything else in out/ is pulled too, but these must exist.
PULL_TIMEOUT_S = 120.0
PROBE_TIMEOUT_S = 10.0  # after a driver timeout: does the device still answer a trivial command?


def _start_epoch(manifest: Path) -> str | None:
    """The device's clock (epoch seconds) when the driver started: the start of the run's log window."""
    try:
        value = json.loads(manifest.read_text()).get("start_epoch_s")
    except (OSError, ValueError, AttributeError):
        return None
    return str(value) if isinstance(value, int) else None


def _is_program(relative: str) -> bool:
    return relative.startswith(EXECUTABLE_PREFIXES) or relative.endswith(".sh")


def _manifest_bytes(manifest: Mapping[str, object]) -> bytes:
    return json.dumps(manifest, sort_keys=True, ensure_ascii=False).encode()


def _changed(path: Path, before: os.stat_result) -> bool:
    now = path.stat()
    return (now.st_ino, now.st_size, now.st_mtime_ns) != (before.st_ino, before.st_size, before.st_mtime_ns)


def describe_lock_holder(holder: Mapping[str, object] | None) -> str:
    from edgebench.targets.locks import describe_owner

    return describe_owner(dict(holder)) if holder else "another host (its lock is being written right now)"


def device_kind_of(props: GetpropResult) -> str:
    if props.is_virtual:
        return "virtual"
    if props.is_emulator:
        return "emulator"
    if props.android_release is None:
        return "board"  # adbd without Android properties: an embedded Linux board
    return "phone"


def harness_abi_for(props: GetpropResult) -> str:
    """Which harness build runs there: Android (bionic) builds on phones and emulators; the virtual
    device runs glibc Linux builds (x86_64 at host speed, aarch64 under qemu-user)."""
    abi = (props.abi_list or ("",))[0]
    if props.is_virtual:
        return "aarch64-linux" if abi == "arm64-v8a" else "host"
    if props.android_release is None:
        return "aarch64-linux" if abi in ("arm64-v8a", "aarch64") else "host"
    return abi


class AdbTarget(Target):
    android: AndroidDevice

    def __init__(self, device: AdbDevice) -> None:
        self.device = device
        self.name = device.serial
        self.android = AndroidDevice(device, device.serial)
        self._props: GetpropResult | None = None
        self._info: DeviceInfo | None = None
        self._lock_owned = False
        self._heartbeat: object | None = None  # bench.locks.LockHeartbeat while the device lock is held
        self._slices: bool | None = None  # whether run_slice works here (supports_slices)

    @property
    def props(self) -> GetpropResult:
        if self._props is None:
            self._props = self.android.props.all()
        return self._props

    def describe(self) -> DeviceInfo:
        if self._info is None:
            p = self.props
            identity = f"{p.serialno or ''}|{p.build_fingerprint or ''}"
            if identity == "|":
                raise DeviceError(self.name, "the device reports neither ro.serialno nor ro.build.fingerprint; "
                                  "edgebench cannot tell it apart from other devices", command="getprop")
            device_id = "adb:" + hashlib.sha256(identity.encode()).hexdigest()[:24]
            self._info = DeviceInfo(
                target=self.name, device_id=device_id, device_kind=device_kind_of(p),  # type: ignore[arg-type]
                abi=(p.abi_list or ("unknown",))[0], manufacturer=p.manufacturer, model=p.model,
                soc=p.soc_model, os_version=f"Android {p.android_release} (SDK {p.sdk_int})"
                if p.android_release else None,
                extra={"serialno": p.serialno, "build_fingerprint": p.build_fingerprint,
                       "abi_list": list(p.abi_list or ())})
        return self._info

    @property
    def harness_abi(self) -> str:
        return harness_abi_for(self.props)

    @property
    def sysroot(self) -> str:
        return ""

    def device_path(self, relative: str) -> str:
        return posixpath.join(DEVICE_ROOT, relative)

    # -- staging ------------------------------------------------------------------------------
    def _remote_state(self, relatives: Sequence[str]) -> tuple[dict[str, dict[str, object]], dict[str, int]]:
        """The manifest of what edgebench pushed, and the sizes of those regular files now.

        Read over `sync:` (STAT of every file and RECV of the manifest, asked in one write), not a shell: one
        round trip, no process on the device, each of which costs ~3-5 ms. adbd makes a pushed file's
        folders itself when it has `fixed_push_mkdir` (Android 7 on); older ones get them made here, as
        `adb push` does."""
        if "fixed_push_mkdir" not in self.device.features():
            folders = sorted({posixpath.dirname(self.device_path(r)) for r in relatives})
            self.device.shell(["mkdir", "-p", *folders])
        found, manifest_text = self.device.stat_and_read([self.device_path(r) for r in relatives], MANIFEST)
        try:
            manifest = json.loads(manifest_text) if manifest_text and manifest_text.strip() else {}
        except ValueError:
            manifest = {}  # a damaged (or half-written) manifest only costs a re-push
        if not isinstance(manifest, dict):
            manifest = {}
        sizes = {}
        for relative in relatives:
            remote = found[self.device_path(relative)]
            if remote is not None and remote.is_regular:
                sizes[relative] = remote.size_bytes
        return manifest, sizes

    def remove_leftover_runs(self) -> None:
        """Run folders a dropped device or a killed host left behind (never those kept with --keep).

        Called while holding the device lock, so no other edgebench is running there."""
        runs = quote(self.device_path("runs"))
        # A killed slice also leaves its slice file (and its log) and a run's driver log beside the folder.
        self.device.shell(f"for d in {runs}/*/*; do [ -d \"$d\" ] && [ ! -e \"$d/.keep\" ] && rm -rf \"$d\" "
                          f"\"$d.tar\" \"$d.log\"; done; rm -f {runs}/*/slice-*.sh {runs}/*/slice-*.sh.log; "
                          f"rmdir {runs}/* 2>/dev/null; true")

    def stage(self, files: Mapping[str, Path], *, verify: bool = False) -> None:
        """Push what changed and record it in the manifest, all on one sync session: no shell, no process
        on the device.

        The manifest is what says a file is staged, so it never lists a file while that file is sent:
        a changed file's entry is dropped (the manifest re-sent without it) before the file goes out, and
        the manifest listing it is sent after it. adbd serves a session's requests in order and ends the
        session at the first FAIL, so a failed push leaves the file unlisted and is sent again next time;
        a manifest cut off mid-write is not JSON, which costs a re-push of everything, never a wrong skip.
        """
        manifest, sizes = self._remote_state(list(files))
        changed: list[tuple[str, Path, os.stat_result]] = []
        for relative, source in files.items():
            before = source.stat()
            entry = manifest.get(relative)
            if entry and sizes.get(relative) == before.st_size:
                # Only a file that may be unchanged is hashed before (a cached hash after its first push).
                digest = file_sha256(source)
                remote = self.device_path(relative)
                if entry.get("sha256") == digest and (not verify or self._remote_sha256(remote) == digest):
                    continue
            changed.append((relative, source, before))
        if not changed:
            return
        sent = self.device.push_batch(
            f"adb -s {self.name} push {command_line([str(source) for _, source, _ in changed])} {DEVICE_ROOT}",
            lambda sender: self._send_changed(sender, manifest, changed))
        self._check_sent(changed)
        for relative, source, before in changed:
            remember_sha256(source, before, sent[relative])

    def _check_sent(self, changed: Sequence[tuple[str, Path, os.stat_result]]) -> None:
        """One sync round trip: each file sent has its size and, for programs, its x bit on the device. adbd
        writes in place without truncating where it cannot unlink first (a folder left by an `adb root`
        session), which would leave an old longer file's tail after the new bytes."""
        remotes = {self.device_path(relative): (relative, source) for relative, source, _ in changed}
        found = self.device.stat_files(list(remotes))
        for remote, (relative, source) in remotes.items():
            got, size = found.get(remote), source.stat().st_size
            wants_x = _is_program(relative)
            if got is None or got.size_bytes != size or (wants_x and not got.mode & 0o100):
                shown = "missing" if got is None else f"{got.size_bytes} bytes, mode {got.mode & 0o7777:o}"
                raise DeviceError(self.name, f"{remote} does not hold what was pushed: {shown} on the device, "
                                             f"{size} bytes{' and executable' if wants_x else ''} sent from {source}. "
                                             f"If adb ran as root once, remove {DEVICE_ROOT} as root "
                                             f"(adb root; adb shell rm -rf {DEVICE_ROOT}; adb unroot) and try again",
                                  command=f"adb -s {self.name} push {source} {remote}")

    def _send_changed(self, sender: SyncSender, manifest: Mapping[str, dict[str, object]],
                      changed: Sequence[tuple[str, Path, os.stat_result]]) -> dict[str, str]:
        """The SENDs of stage() (safe to run again on a broken link); the sha256 of each file as sent."""
        listed = {r: e for r, e in manifest.items() if r not in {relative for relative, _, _ in changed}}
        if len(listed) < len(manifest):  # a file listed now is about to change: unlist it first
            sender.send_bytes(_manifest_bytes(listed), MANIFEST, 0o644, int(time.time()))
        sent: dict[str, str] = {}
        for relative, source, before in changed:
            remote = self.device_path(relative)
            # adbd applies the SEND's mode itself (fchmod after writing), as `adb push` keeps a script's x bit.
            mode = 0o755 if _is_program(relative) else 0o644
            digest = cached_sha256(source, before)
            if digest is not None:  # hashed already (a session hashes its models first): just send it
                sender.send_file(source, remote, mode)
            if digest is None or _changed(source, before):  # the file changed while it went out: send it again
                # The hash of the bytes actually sent, computed while they go out: one pass over the file.
                digest = sender.send_file(source, remote, mode, sha256=True)
            assert digest is not None
            sent[relative] = digest
            listed[relative] = {"sha256": digest, "size": before.st_size}
        sender.send_bytes(_manifest_bytes(listed), MANIFEST, 0o644, int(time.time()))
        return sent

    def _remote_sha256(self, remote: str) -> str | None:
        result = self.device.shell(["sha256sum", remote])
        return result.stdout.split()[0] if result.exit_code == 0 and result.stdout.strip() else None

    # -- running ------------------------------------------------------------------------------
    def run_driver(self, run_name: str, runner_args: Sequence[str], env: Mapping[str, str],
                   timeout_s: float, results_dir: Path) -> DriverResult:
        """One shell round trip runs the driver and packs out/ into a tar; one pull brings it back.

        Per-run round trips are the orchestration's fixed cost on a phone (each ~20-30 ms), so the
        log marker and the packing ride along with the driver command (the lock's heartbeat has its
        own thread). A driver that outlives `timeout_s` on a device that still answers is a hung
        harness, not a lost connection: its processes are killed and DeviceError is raised.
        """
        run_dir = self.device_path(f"runs/{run_name}")
        archive = run_dir + ".tar"
        env_words = " ".join(f"{k}={quote(v)}" for k, v in env.items())
        # The driver makes the folder; rm only clears what a killed earlier attempt left.
        command = (f"rm -rf {quote(run_dir)} {quote(archive)}; "
                   f"{env_words} sh {quote(self.device_path('driver.sh'))} {quote(run_dir)} -- "
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
        try:
            answered = self.device.shell(["echo", "ok"], retry=False, timeout=PROBE_TIMEOUT_S).stdout.strip() == "ok"
        except DeviceError:
            answered = False
        if not answered:
            raise timeout
        self.cancel_run(run_name)
        raise DeviceError(self.name, f"the harness did not finish within {timeout_s:.0f} s while the device kept "
                          "answering: it hung (or the run needs longer than the protocol allows) and was killed "
                          "on the device. Check the model with `--protocol smoke`, or lower --min-seconds / "
                          "--runs.", command=timeout.command) from None

    def _collect(self, remote_out: str, archive: str, results_dir: Path) -> None:
        import shutil
        import tempfile

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
                    self._extract(tar, results_dir, f"pull {archive}")
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
        run_dir = self.device_path(f"runs/{run_name}")
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

    # -- slices -------------------------------------------------------------------------------
    def supports_slices(self) -> bool:
        """Frames carry binary tars (a v1 shell, Android < 7, may mangle them) that `tar` makes on the device
        (one call per run falls back to pulling file by file where there is none). Asked once."""
        if self._slices is None:
            try:
                self._slices = self.device.has_shell_v2 and self.device.shell(
                    "command -v tar >/dev/null 2>&1 && echo yes; true").stdout.strip() == "yes"
            except DeviceError:
                return False  # not asked yet (a link that dropped now): one call per run, which waits for it
        return self._slices

    def run_slice(self, slice_name: str, entries: Sequence[SliceEntry], results_dirs: Sequence[Path], *,
                  keep: bool, cooldown: DeviceCooldown, events: SliceEvents) -> None:
        """One push of the slice file, one shell that runs the whole slice and streams each finished run's
        out/ back as a tar frame (no pull, no per-run cleanup call), and the slice's device log at its end."""
        import secrets
        import tempfile

        from edgebench.targets.slice_loop import follow_slice, save_log_windows
        from edgebench.targets.slice_protocol import RunFinished, slice_file_text

        run_dirs = {e.run_name: self.device_path(f"runs/{e.run_name}") for e in entries}
        token = secrets.token_hex(4)
        slice_file = self.device_path(f"runs/{slice_name}/slice-{token}.sh")
        text = slice_file_text(entries, driver=self.device_path("driver.sh"), run_dir_of=run_dirs, output="tar",
                               keep=keep, cooldown=cooldown, logcat=True, token=token)
        if "fixed_push_mkdir" not in self.device.features():  # older adbd does not make the folder for a push
            self.device.check_shell(["mkdir", "-p", posixpath.dirname(slice_file)])
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / "slice.sh"
            local.write_text(text)
            self.device.push(local, slice_file)
        command = f"sh {quote(self.device_path('slice.sh'))} {quote(slice_file)}"

        def deliver(index: int, frame: RunFinished) -> DriverResult:
            results_dir = results_dirs[index]
            self._unpack(frame.tar, results_dir, command)
            return DriverResult(exit_code=frame.exit_code, out_dir=results_dir, wall_seconds=frame.wall_seconds,
                                stderr_tail=output_tail(frame.driver_output, results_dir))

        def answers() -> bool:
            try:
                return self.device.shell(["echo", "ok"], retry=False, timeout=PROBE_TIMEOUT_S).stdout.strip() == "ok"
            except DeviceError:
                return False

        try:
            with self.device.open_shell(command) as stream:
                log = follow_slice(stream.read_stdout, entries=entries, cooldown=cooldown, events=events,
                                   deliver=deliver, answers=answers, kill=lambda: self.cancel_run(slice_name),
                                   where=self.name, command=f"adb -s {self.name} shell {command}",
                                   last_words=lambda: stream.stderr_text)
        except BaseException:
            # Closing the stream is not enough: adbd hangs up only the shell, and the driver, runner and sampler
            # of the run in flight would go on beside the next slice. Kill them all; slice.sh, killed, cannot
            # remove its file either.
            try:
                self.device.shell(f"rm -f {quote(slice_file)} {quote(slice_file + '.log')}", retry=False,
                                  timeout=PROBE_TIMEOUT_S)
                self.cancel_run(slice_name)
            except DeviceError:
                pass  # gone: the worker kills what is left when it is back; remove_leftover_runs clears the rest
            raise
        if log:
            save_log_windows(log, results_dirs, token=token)

    def _unpack(self, tar: IO[bytes] | None, results_dir: Path, command: str) -> None:
        """A slice frame's tar of out/ into `results_dir` (emptied first); None: the driver made no out/."""
        import shutil

        if results_dir.exists():
            shutil.rmtree(results_dir)
        results_dir.mkdir(parents=True)
        if tar is None:
            return  # the caller reports the missing runner.jsonl
        try:
            self._extract(tar, results_dir, command)
        finally:
            tar.close()

    def _extract(self, tar: IO[bytes], results_dir: Path, command: str) -> None:
        import tarfile

        try:
            extract_tar(tar, results_dir)  # refuses absolute paths, .., links out, devices
        except (UnsafeArchiveError, tarfile.TarError) as exc:
            raise DeviceError(self.name, f"the run's output archive could not be extracted safely: {exc}",
                              command=command) from exc

    def read_thermal_status(self) -> int | None:
        return self.android.thermal.status()

    def read_temperatures_c(self) -> dict[str, float]:
        # read builtins (a last line without a newline still counts), not two $(cat ...) forks per zone
        script = ("for z in /sys/class/thermal/thermal_zone*; do t=; ty=; "
                  "{ read -r t 2>/dev/null <\"$z/temp\" || [ -n \"$t\" ]; } || continue; "
                  "read -r ty 2>/dev/null <\"$z/type\"; echo \"${z##*/}:$ty $t\"; done; true")
        temps: dict[str, float] = {}
        for line in self.device.shell(script).stdout.splitlines():
            name, _, value = line.rpartition(" ")
            try:
                temps[name] = int(value) / 1000.0
            except ValueError:
                continue
        return temps

    def cpu_facts(self) -> list[CpuFacts]:
        # read builtins, not $(cat ...): two forks per CPU took ~35 ms of every session's start
        script = ("for c in /sys/devices/system/cpu/cpu[0-9]*; do cap=; f=; "
                  "read -r cap 2>/dev/null <$c/cpu_capacity; read -r f 2>/dev/null <$c/cpufreq/cpuinfo_max_freq; "
                  "echo \"${c##*/cpu} ${cap:--} ${f:--}\"; done; true")
        facts = []
        for line in self.device.shell(script).stdout.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0].isdigit():
                facts.append(CpuFacts(int(parts[0]), int(parts[1]) if parts[1].isdigit() else None,
                                      int(parts[2]) if parts[2].isdigit() else None))
        return sorted(facts, key=lambda f: f.cpu)

    # -- lab robustness -------------------------------------------------------------------------
    def acquire_device_lock(self, owner: Mapping[str, object]) -> None:
        """Take the lock folder (other hosts of a lab see it) and heartbeat it from a background
        thread until release, so a long session (a battery run plus its cool-down) never looks stale."""
        from edgebench.targets import locks

        payload = json.dumps(owner)
        for _attempt in range(2):
            # mkdir is atomic on every filesystem Android uses: exactly one host wins.
            result = self.device.shell(f"mkdir -p {quote(DEVICE_ROOT)} && mkdir {quote(LOCK_DIR)} 2>/dev/null && "
                                       f"printf %s {quote(payload)} > {quote(LOCK_DIR + '/owner.json')}")
            if result.exit_code == 0:
                self._lock_owned = True
                self._heartbeat = locks.LockHeartbeat(self._beat_device_lock, name=f"lock-heartbeat-{self.name}")
                return
            holder, age = self._lock_holder()
            if holder is None and age is None:
                continue  # released between our mkdir and this look: try again
            if locks.is_stale(holder, age):
                # Its holder died (same host) or stopped heartbeating: take it over.
                self.device.shell(["rm", "-rf", LOCK_DIR])
                continue
            who = describe_lock_holder(holder)
            raise locks.DeviceBusyError(self.name, f"device is being measured by {who} (lock refreshed {age} s ago). "
                                        "Wait for that run, or, if its holder is gone, the lock turns stale after "
                                        f"{locks.stale_after_s():g} s without a heartbeat.", command="lock")
        raise locks.DeviceBusyError(self.name, "could not take the device lock", command="lock")

    def _lock_holder(self) -> tuple[dict[str, object] | None, int | None]:
        """The lock's owner record (None when empty or half-written) and the seconds since the lock
        folder was last touched by its holder's heartbeat (None when unreadable)."""
        info = self.device.shell(f"cat {quote(LOCK_DIR + '/owner.json')} 2>/dev/null; echo; "
                                 f"echo $(( $(date +%s) - $(stat -c %Y {quote(LOCK_DIR)}) ))")
        text, _, age_text = info.stdout.rstrip().rpartition("\n")
        try:
            holder = json.loads(text) if text.strip() else None
        except ValueError:
            holder = None  # being written right now by the host that won the mkdir
        age_text = age_text.strip()
        age = int(age_text) if age_text.lstrip("-").isdigit() else None
        return (holder if isinstance(holder, dict) else None), age

    def _beat_device_lock(self) -> None:
        # touch on the folder moves its mtime, which other hosts read as the heartbeat.
        self.device.shell(f"[ -d {quote(LOCK_DIR)} ] && touch {quote(LOCK_DIR)}", retry=False, timeout=15)

    def refresh_device_lock(self) -> None:
        if self._lock_owned:
            self._beat_device_lock()

    def release_device_lock(self) -> None:
        heartbeat, self._heartbeat = self._heartbeat, None
        if heartbeat is not None:
            heartbeat.stop()  # type: ignore[attr-defined]
        if self._lock_owned:
            self._lock_owned = False
            self.device.shell(["rm", "-rf", LOCK_DIR])

    def cancel_run(self, run_name: str) -> None:
        """Kill every process of the run, and the process group of the adb shell that ran the driver
        (driver, runner, sampler and anything they started without the folder in its arguments), as
        the local target kills its process group.

        Every process of the run has the run folder in its arguments (driver, runner --out, sampler,
        the adb shell's `sh -c`). A group is killed only when its leader is one of those processes:
        never adbd's group, never this shell's own (its command line holds the folder too; killing it
        could let the driver outlive its kill and write into the folder after the cleanup). A pid
        namespace shows an outside group as 0: skipped. Three passes: a child forked in between dies too."""
        run_dir = self.device_path(f"runs/{run_name}")
        pattern = quote(run_dir)
        script = ("me=$$; read -r s < /proc/self/stat; s=${s##*\\)}; set -- $s; mine=$3; "
                  f"for i in 1 2 3; do ours=\" $(echo $(pgrep -f {pattern})) \"; for p in $ours; do "
                  "[ \"$p\" = \"$me\" ] && continue; "
                  "s=; read -r s < /proc/$p/stat 2>/dev/null; s=${s##*\\)}; set -- $s; "
                  "case $ours in *\" $3 \"*) [ \"$3\" != \"$mine\" ] && kill -9 -$3 2>/dev/null ;; esac; "
                  "kill -9 \"$p\" 2>/dev/null; done; sleep 0.2; done; true")
        self.device.shell(script, retry=False, timeout=15)

    def restore_pending_changes(self) -> list[str]:
        from edgebench.targets.device_state import restore_pending  # it builds on this module

        return restore_pending(self)

    def reconnect(self) -> bool:
        host, _, port = self.name.rpartition(":")
        if host and port.isdigit():
            # A network device (Wi-Fi adb, emulator, virtual device): ask the server to dial it again.
            try:
                self.device.server.connect(self.name)
            except DeviceError:
                return False
        try:
            if self.device.state() != "device":
                return False
            return self.device.shell(["echo", "ok"], retry=False, timeout=10).stdout.strip() == "ok"
        except DeviceError:
            return False
