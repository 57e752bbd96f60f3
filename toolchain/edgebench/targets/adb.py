"""The `adb` target: phones, emulators, the virtual device and boards with adbd.

Files are staged under /data/local/tmp/edgebench (executable for the shell user on every Android
version; see research/measurement-methodology.md §2.5). A manifest of what was pushed is kept on the
device, so re-staging an unchanged file costs one manifest read, not a transfer or a re-hash.
"""
from __future__ import annotations

import hashlib
import json
import posixpath
import time
from pathlib import Path
from typing import Mapping, Sequence

from edgebench.devices.adb import AdbDevice, command_line, quote
from edgebench.devices.cpu_topology import CpuFacts
from edgebench.errors import DeviceError, ParseError
from edgebench.parsers import GetpropResult, parse_getprop
from edgebench.targets.base import DeviceInfo, DriverResult, Target
from edgebench.targets.staging import file_sha256

DEVICE_ROOT = "/data/local/tmp/edgebench"
MANIFEST = f"{DEVICE_ROOT}/.edgebench-staged.json"
LOCK_DIR = f"{DEVICE_ROOT}/.lock"
EXECUTABLE_PREFIXES = ("bin/",)
# Results the driver writes; anything else in out/ is pulled too, but these must exist.
PULL_TIMEOUT_S = 120.0


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
    def __init__(self, device: AdbDevice) -> None:
        self.device = device
        self.name = device.serial
        self._props: GetpropResult | None = None
        self._info: DeviceInfo | None = None

    @property
    def props(self) -> GetpropResult:
        if self._props is None:
            text = self.device.getprop()
            try:
                self._props = parse_getprop(text, source=f"<{self.name}> getprop")
            except ParseError as exc:
                raise DeviceError(self.name, f"getprop output unreadable: {exc}", command="getprop") from exc
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
    def _read_manifest(self) -> dict[str, dict[str, object]]:
        result = self.device.shell(["cat", MANIFEST])
        if result.exit_code != 0:
            return {}
        try:
            data = json.loads(result.stdout)
        except ValueError:
            return {}  # a damaged manifest only costs a re-push
        return data if isinstance(data, dict) else {}

    def stage(self, files: Mapping[str, Path], *, verify: bool = False) -> None:
        manifest = self._read_manifest()
        sizes = self._remote_sizes(list(files))
        changed = False
        for relative, source in files.items():
            digest = file_sha256(source)
            entry = manifest.get(relative)
            remote = self.device_path(relative)
            if entry and entry.get("sha256") == digest and sizes.get(relative) == source.stat().st_size:
                if not verify or self._remote_sha256(remote) == digest:
                    continue
            tmp = remote + ".partial"
            self.device.check_shell(["mkdir", "-p", posixpath.dirname(remote)])
            mode = 0o755 if relative.startswith(EXECUTABLE_PREFIXES) or relative.endswith(".sh") else 0o644
            self.device.push(source, tmp, mode)
            # mv is atomic: a dropped push never leaves a half file under the real name.
            self.device.check_shell(f"chmod {mode:o} {quote(tmp)} && mv -f {quote(tmp)} {quote(remote)}")
            manifest[relative] = {"sha256": digest, "size": source.stat().st_size}
            changed = True
        if changed:
            # Pushed as a file: old adbd limits a shell command line to 4 kB.
            import tempfile

            with tempfile.TemporaryDirectory() as tmpdir:
                local = Path(tmpdir) / "manifest.json"
                local.write_text(json.dumps(manifest, sort_keys=True))
                self.device.push(local, MANIFEST + ".partial")
            self.device.check_shell(f"mv -f {quote(MANIFEST + '.partial')} {quote(MANIFEST)}")

    def _remote_sizes(self, relatives: Sequence[str]) -> dict[str, int]:
        if not relatives:
            return {}
        paths = " ".join(quote(self.device_path(r)) for r in relatives)
        out = self.device.shell(f"for f in {paths}; do [ -f \"$f\" ] && echo \"$(wc -c < \"$f\") $f\"; done; true")
        sizes: dict[str, int] = {}
        prefix = DEVICE_ROOT + "/"
        for line in out.stdout.splitlines():
            size, _, path = line.strip().partition(" ")
            if size.isdigit() and path.startswith(prefix):
                sizes[path[len(prefix):]] = int(size)
        return sizes

    def _remote_sha256(self, remote: str) -> str | None:
        result = self.device.shell(["sha256sum", remote])
        return result.stdout.split()[0] if result.exit_code == 0 and result.stdout.strip() else None

    # -- running ------------------------------------------------------------------------------
    def run_driver(self, run_name: str, runner_args: Sequence[str], env: Mapping[str, str],
                   timeout_s: float, results_dir: Path) -> DriverResult:
        run_dir = self.device_path(f"runs/{run_name}")
        env_words = " ".join(f"{k}={quote(v)}" for k, v in env.items())
        command = (f"rm -rf {quote(run_dir)} && mkdir -p {quote(run_dir)} && "
                   f"{env_words} sh {quote(self.device_path('driver.sh'))} {quote(run_dir)} -- "
                   f"{command_line(runner_args)}")
        started = time.monotonic()
        result = self.device.shell(command, timeout=timeout_s, retry=False)
        wall = time.monotonic() - started
        self._pull_out(run_dir + "/out", results_dir)
        return DriverResult(exit_code=result.exit_code, out_dir=results_dir, wall_seconds=wall,
                            stderr_tail=(result.stderr or result.stdout)[-2000:])

    def _pull_out(self, remote_out: str, results_dir: Path) -> None:
        import shutil

        if results_dir.exists():
            shutil.rmtree(results_dir)
        results_dir.mkdir(parents=True)
        listing = self.device.shell(["ls", "-1", remote_out])
        if listing.exit_code != 0:
            return  # the driver made no out/ folder: the caller reports the missing runner.jsonl
        for name in listing.stdout.split():
            if "/" in name or name in (".", ".."):
                continue
            self.device.pull(f"{remote_out}/{name}", results_dir / name)

    def remove_run(self, run_name: str) -> None:
        self.device.shell(["rm", "-rf", self.device_path(f"runs/{run_name}")])

    def read_temperatures_c(self) -> dict[str, float]:
        script = ("for z in /sys/class/thermal/thermal_zone*; do "
                  "[ -r \"$z/temp\" ] && echo \"${z##*/}:$(cat \"$z/type\" 2>/dev/null) $(cat \"$z/temp\")\"; done; true")
        temps: dict[str, float] = {}
        for line in self.device.shell(script).stdout.splitlines():
            name, _, value = line.rpartition(" ")
            try:
                temps[name] = int(value) / 1000.0
            except ValueError:
                continue
        return temps

    def cpu_facts(self) -> list[CpuFacts]:
        script = ("for c in /sys/devices/system/cpu/cpu[0-9]*; do "
                  "echo \"${c##*/cpu} $(cat $c/cpu_capacity 2>/dev/null || echo -) "
                  "$(cat $c/cpufreq/cpuinfo_max_freq 2>/dev/null || echo -)\"; done; true")
        facts = []
        for line in self.device.shell(script).stdout.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0].isdigit():
                facts.append(CpuFacts(int(parts[0]), int(parts[1]) if parts[1].isdigit() else None,
                                      int(parts[2]) if parts[2].isdigit() else None))
        return sorted(facts, key=lambda f: f.cpu)

    # -- lab robustness -------------------------------------------------------------------------
    def acquire_device_lock(self, owner: Mapping[str, object]) -> None:
        from edgebench.bench.locks import STALE_AFTER_S, DeviceBusyError, describe_owner, pid_alive

        payload = json.dumps(owner)
        for _attempt in range(2):
            # mkdir is atomic on every filesystem Android uses: exactly one host wins.
            result = self.device.shell(f"mkdir -p {quote(DEVICE_ROOT)} && mkdir {quote(LOCK_DIR)} 2>/dev/null && "
                                       f"printf %s {quote(payload)} > {quote(LOCK_DIR + '/owner.json')}")
            if result.exit_code == 0:
                self._lock_owned = True
                return
            info = self.device.shell(f"cat {quote(LOCK_DIR + '/owner.json')} 2>/dev/null; echo; "
                                     f"echo $(( $(date +%s) - $(stat -c %Y {quote(LOCK_DIR)}) ))")
            text, _, age_text = info.stdout.rstrip().rpartition("\n")
            try:
                holder = json.loads(text) if text.strip() else {}
            except ValueError:
                holder = {}
            age = int(age_text) if age_text.strip().lstrip("-").isdigit() else 0
            import socket

            same_host_dead = (holder.get("host") == socket.gethostname() and isinstance(holder.get("pid"), int)
                              and not pid_alive(holder["pid"]))
            if same_host_dead or age > STALE_AFTER_S or not holder:
                # Stale: its holder died (same host) or stopped heartbeating; take it over.
                self.device.shell(["rm", "-rf", LOCK_DIR])
                continue
            raise DeviceBusyError(self.name, f"device is being measured by {describe_owner(holder)} "
                                  f"(lock refreshed {age} s ago). Wait for that run, or, if its holder is gone, "
                                  f"the lock turns stale after {STALE_AFTER_S // 60} min.", command="lock")
        raise DeviceBusyError(self.name, "could not take the device lock", command="lock")

    def refresh_device_lock(self) -> None:
        if getattr(self, "_lock_owned", False):
            self.device.shell(["touch", LOCK_DIR])

    def release_device_lock(self) -> None:
        if getattr(self, "_lock_owned", False):
            self.device.shell(["rm", "-rf", LOCK_DIR])
            self._lock_owned = False

    def cancel_run(self, run_name: str) -> None:
        run_dir = self.device_path(f"runs/{run_name}")
        # Every process of the run has the run folder in its arguments (driver, runner --out, sampler).
        self.device.shell(f"pkill -9 -f {quote(run_dir)}; true", retry=False, timeout=10)

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

    def log_marker(self) -> str | None:
        result = self.device.shell(["date", "+%s"])
        text = result.stdout.strip()
        return text if result.exit_code == 0 and text.isdigit() else None

    def save_log(self, marker: str | None, path: Path) -> bool:
        if marker is None:
            return False
        result = self.device.shell(["logcat", "-d", "-v", "threadtime", "-T", f"{marker}.000"], timeout=60)
        if result.exit_code != 0:
            return False  # no logcat (a board, the virtual device): nothing to keep
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(result.stdout)
        return True
