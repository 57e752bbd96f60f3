"""Run a virtual device's shell commands inside its own namespaces, as uid 2000, chrooted in its folder.

`Sandbox.start()` launches `nsinit` (the device's PID 1, see nsinit.py) and waits until the device's
mount table is built. Each command then joins those namespaces with util-linux `nsenter` (root =
the device folder) and drops privileges with `setpriv`: uid/gid 2000 with the shell's groups,
no_new_privs, empty capability bounding set. So a device command sees only the device folder plus
read-only host `/usr`, its own processes, a private network namespace (`lo` and a `wlan0`) and its
own clocks (a time namespace: uptime starts at 0 on each boot).

Needs Linux user namespaces (checked by `probe()`); there is no weaker fallback: when namespaces
are unavailable the device refuses to start and says why.
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from edgebench.errors import EdgebenchError
from edgebench.virtual.image import HOST_USR, SHELL_UID, host_lib_entries

# The groups `adb shell` has on a phone (input, log, adb, sdcard_rw, sdcard_r, inet, ...).
SHELL_GROUPS = (1004, 1007, 1011, 1015, 1028, 3001, 3002, 3003, 3006, 3009, 3011)
QEMU_AARCH64 = "/usr/bin/qemu-aarch64-static"
AARCH64_SYSROOT = "/usr/aarch64-linux-gnu"
NEEDED_TOOLS = ("/usr/bin/nsenter", "/usr/bin/setpriv", "/usr/bin/setsid", "/usr/bin/mksh", "/usr/bin/toybox")
ANDROID_PATH = "/product/bin:/apex/com.android.runtime/bin:/system/bin:/system/xbin:/odm/bin:/vendor/bin:/vendor/xbin"


class SandboxError(EdgebenchError):
    """The device's namespaces could not be created or entered."""


def missing_tools(abi: str = "x86_64") -> list[str]:
    tools = list(NEEDED_TOOLS) + ([QEMU_AARCH64] if abi == "arm64-v8a" else [])
    return [t for t in tools if not os.access(t, os.X_OK)]


def android_env(term: str | None = None, *, exec_prefix: str | None = None) -> dict[str, str]:
    """The environment `adb shell` gives a command on a phone (roughly).

    `exec_prefix`: set (as EDGEBENCH_EXEC_PREFIX) when aarch64 programs of an arm64-v8a device
    cannot run directly (no binfmt_misc for qemu) and must be started as `$EDGEBENCH_EXEC_PREFIX prog`.
    """
    env = {
        "PATH": ANDROID_PATH, "HOME": "/", "USER": "shell", "LOGNAME": "shell", "SHELL": "/system/bin/sh",
        "HOSTNAME": "localhost", "TMPDIR": "/data/local/tmp", "ANDROID_DATA": "/data",
        "ANDROID_ROOT": "/system", "ANDROID_STORAGE": "/storage", "EXTERNAL_STORAGE": "/sdcard",
        "ANDROID_ASSETS": "/system/app", "ASEC_MOUNTPOINT": "/mnt/asec",
    }
    if term is not None:
        env["TERM"] = term
        env["ENV"] = "/system/etc/mkshrc"  # interactive mksh reads it, as Android's mksh does
    if exec_prefix:
        env["EDGEBENCH_EXEC_PREFIX"] = exec_prefix
    return env


class Sandbox:
    """The namespaces of one virtual device. `start()` before `command()`; `stop()` ends every process."""

    def __init__(self, root: Path, overlay: Path, *, abi: str) -> None:
        self.root = root.resolve()
        self.overlay = overlay.resolve()
        self.abi = abi
        self._init: asyncio.subprocess.Process | None = None
        self.init_pid: int | None = None  # host PID of the device's PID 1
        # The device's own clocks (time namespace): its CLOCK_BOOTTIME = the host's + this offset,
        # so its uptime starts at 0 on every boot.
        self.boottime_offset_s = 0
        self.own_clocks = False  # False on kernels without time namespaces
        # How aarch64 programs run: native (x86_64 device), binfmt-namespace, binfmt-host, exec-prefix.
        self.aarch64 = "native"
        # Without host root only our own uid can be mapped: the shell is then uid 0 *inside* the
        # device (still unprivileged on the host, and without capabilities inside).
        self.shell_uid = SHELL_UID if os.geteuid() == 0 else 0

    def config(self) -> dict[str, Any]:
        host_binds = [HOST_USR] + [f"/{name}" for name, target in host_lib_entries().items() if target is None]
        return {
            "root": str(self.root),
            "overlay": str(self.overlay),
            "host_binds": host_binds,
            "read_only": ["system", "vendor", "sys"],
            "partitions": ["data"],
            "qemu_aarch64": QEMU_AARCH64 if self.abi == "arm64-v8a" else None,
            "hostname": "localhost",
            "parent_pid": os.getpid(),
        }

    async def start(self) -> None:
        missing = missing_tools(self.abi)
        if missing:
            raise SandboxError(f"virtual device needs {', '.join(missing)}; install Debian packages "
                               "util-linux, mksh, toybox (and qemu-user-static for arm64-v8a)")
        package_parent = str(Path(__file__).resolve().parents[2])  # the folder holding `edgebench/`
        env = dict(os.environ, PYTHONPATH=package_parent)
        self._init = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "edgebench.virtual.nsinit", json.dumps(self.config()),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=env)  # stderr: our log
        assert self._init.stdout is not None
        line = (await self._init.stdout.readline()).decode().strip()
        if not line.startswith("ready "):
            await self._init.wait()
            raise SandboxError(f"the device's namespaces could not be set up: {line or 'no answer'}; user "
                               "namespaces (and, for arm64-v8a, binfmt_misc in user namespaces, Linux >= 6.7) "
                               "must be allowed")
        _, pid, self.aarch64, offset = line.split()
        self.init_pid = int(pid)
        self.own_clocks = offset != "shared"
        self.boottime_offset_s = int(offset) if self.own_clocks else 0

    def env(self, term: str | None = None) -> dict[str, str]:
        """android_env() for this device's commands."""
        env = android_env(term, exec_prefix=QEMU_AARCH64 if self.aarch64 == "exec-prefix" else None)
        if self.abi == "arm64-v8a" and Path(AARCH64_SYSROOT, "lib/ld-linux-aarch64.so.1").exists():
            # Debian's libc6-arm64-cross (under the bound /usr): qemu finds the glibc loader and
            # libraries of dynamically linked aarch64 programs there.
            env["QEMU_LD_PREFIX"] = AARCH64_SYSROOT
        return env

    @property
    def running(self) -> bool:
        return self._init is not None and self._init.returncode is None

    def command(self, argv: list[str], *, ctty: bool = False) -> list[str]:
        """Host argv that runs `argv` inside the device as the shell user."""
        if self.init_pid is None:
            raise SandboxError("the device sandbox is not started")
        enter = ["/usr/bin/nsenter", f"--target={self.init_pid}", "--user", "--mount", "--pid", "--net",
                 "--uts", "--ipc", *(["--time"] if self.own_clocks else []), "--root", "--wd"]
        drop = ["/usr/bin/setpriv", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all"]
        if self.shell_uid == SHELL_UID:
            drop += [f"--reuid={SHELL_UID}", f"--regid={SHELL_UID}",
                     "--groups=" + ",".join(str(g) for g in SHELL_GROUPS)]
        else:
            # Rootless: setgroups is denied in our user namespace, so keep the credentials as they are.
            enter.append("--preserve-credentials")
        enter.append("--")
        drop.append("--")
        # A PTY session needs the shell to lead its own session with the PTY as controlling tty.
        session = ["/usr/bin/setsid", "--ctty"] if ctty else []
        return enter + drop + session + argv

    def root_dir_path(self) -> str:
        """Host path of the device's `/` as its own processes see it (mounts included)."""
        if self.init_pid is None:
            raise SandboxError("the device sandbox is not started")
        return f"/proc/{self.init_pid}/root"

    async def stop(self) -> None:
        if self._init is None:
            return
        if self._init.returncode is None:
            self._init.terminate()
            try:
                await asyncio.wait_for(self._init.wait(), 5)
            except asyncio.TimeoutError:
                self._init.kill()
                await self._init.wait()
        self._init = None
        self.init_pid = None


def probe(abi: str = "x86_64") -> str | None:
    """None if a device sandbox can run here, else the reason it cannot (for messages and test skips)."""
    if sys.platform != "linux":
        return "virtual devices need Linux namespaces"
    missing = missing_tools(abi)
    if missing:
        return f"missing tools: {', '.join(missing)}"
    with tempfile.TemporaryDirectory(prefix="edgebench-probe-") as tmp:
        root, overlay = Path(tmp) / "root", Path(tmp) / "overlay"
        for sub in ("proc", "dev", "usr", "system/bin", "vendor", "sys"):
            (root / sub).mkdir(parents=True)
        for name, target in host_lib_entries().items():
            if target is None:
                (root / name).mkdir()
            else:
                os.symlink(target, root / name)
        os.symlink("/usr/bin/mksh", root / "system/bin/sh")
        (overlay / "proc").mkdir(parents=True)

        async def run() -> str | None:
            box = Sandbox(root, overlay, abi=abi)
            try:
                await box.start()
            except SandboxError as exc:
                return str(exc)
            try:
                proc = await asyncio.create_subprocess_exec(*box.command(["/system/bin/sh", "-c", "exit 7"]),
                                                            env=android_env())
                if await proc.wait() != 7:
                    return "a command run inside the sandbox did not report its exit code"
            finally:
                await box.stop()
            return None

        return asyncio.run(run())
