"""Helpers for virtual-device tests: the adb binaries to test with, private adb servers, devices.

Every adb server here is PRIVATE (its own port, ADB_SERVER_SOCKET=tcp:localhost:PORT) and is killed
at the end through that same socket; the default server on 5037 is never touched.
"""
from __future__ import annotations

import contextlib
import os
import socket
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from edgebench.virtual import registry
from edgebench.virtual.device import DeviceConfig


def _bundled_adb() -> str | None:
    """The adb binary inside the adbutils wheel (adbutils.adb_path() prefers one on PATH)."""
    try:
        import adbutils
    except ImportError:
        return None
    path = Path(adbutils.__file__).parent / "binaries" / "adb"
    return str(path) if os.access(path, os.X_OK) else None


ADB_BINARIES = {name: path for name, path in (("adb36-adbutils", _bundled_adb()),
                                              ("adb29-debian", "/usr/bin/adb" if os.access("/usr/bin/adb", os.X_OK) else None))
                if path}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PrivateAdb:
    binary: str
    port: int

    @property
    def env(self) -> dict[str, str]:
        # tcp:localhost (not 127.0.0.1): adb treats any other host as remote and will not start a server.
        return dict(os.environ, ADB_SERVER_SOCKET=f"tcp:localhost:{self.port}", ANDROID_ADB_SERVER_PORT=str(self.port))

    def run(self, *args: str, input: bytes | None = None, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([self.binary, *args], env=self.env, input=input, capture_output=True, timeout=timeout)

    def check(self, *args: str, input: bytes | None = None) -> str:
        result = self.run(*args, input=input)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout.decode()


def start_device(root: Path, *, profile: str = "pixel-8-like", abi: str = "x86_64") -> registry.DeviceState:
    port = registry.allocate_port(root)
    layout = registry.create_device(root, DeviceConfig.new(profile, abi, port))
    return registry.start_device(layout)


def device_boottime_offset_s(state: registry.DeviceState) -> float:
    """The device's CLOCK_BOOTTIME minus the host's (its own time namespace starts at 0 each boot)."""
    status = state.status or {}
    for line in Path(f"/proc/{status['init_pid']}/timens_offsets").read_text().splitlines():
        name, seconds, nanoseconds = line.split()
        if name in ("boottime", "7"):
            return int(seconds) + int(nanoseconds) / 1e9
    return 0.0


def stop_all(root: Path) -> None:
    for state in registry.list_devices(root):
        registry.stop_device(state)


def aarch64_exit_program(code: int) -> bytes:
    """A tiny static aarch64 ELF (one PT_LOAD) that writes "arm\\n" and exits with `code`."""
    base = 0x400000
    header_size = 64 + 56
    instructions = [
        0xD2800020,                    # mov x0, #1 (stdout)
        0x100000E1,                    # adr x1, msg (+28 bytes: msg follows the 8 instructions)
        0xD2800082,                    # mov x2, #4
        0xD2800808,                    # mov x8, #64 (write)
        0xD4000001,                    # svc #0
        0xD2800000 | (code << 5),      # mov x0, #code
        0xD2800BA8,                    # mov x8, #93 (exit)
        0xD4000001,                    # svc #0
    ]
    code_bytes = b"".join(struct.pack("<I", i) for i in instructions) + b"arm\n"
    size = header_size + len(code_bytes)
    elf = struct.pack("<4sBBBBB7sHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0, b"\0" * 7, 2, 0xB7, 1,
                      base + header_size, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, size, size, 0x1000)
    return elf + phdr + code_bytes


@contextlib.contextmanager
def cli_lab(workspace: Path, harness_cache: Path, *start_args: str,
            adb_binary: str | None = None) -> Iterator[tuple[PrivateAdb, list[str]]]:
    """A private adb server and virtual devices started through `edgebench virtual-device start
    START_ARGS`, with ADB_SERVER_SOCKET and the shared harness cache set for the duration; everything is
    stopped and the environment restored afterwards. Yields the server and the devices' adb serials."""
    import pytest

    from edgebench.cli.main import main
    from edgebench.virtual.sandbox import probe

    reason = probe()
    if reason is not None:
        pytest.skip(f"virtual devices cannot run here: {reason}")
    adb = PrivateAdb(adb_binary or ADB_BINARIES[sorted(ADB_BINARIES)[0]], free_port())
    adb.check("start-server")
    env = {"ADB_SERVER_SOCKET": f"tcp:127.0.0.1:{adb.port}", "EDGEBENCH_HARNESS_CACHE": str(harness_cache)}
    saved = {k: os.environ.get(k) for k in (*env, "ANDROID_SERIAL")}
    os.environ.update(env)
    os.environ.pop("ANDROID_SERIAL", None)
    try:
        assert main(["--workspace", str(workspace), "virtual-device", "start", *start_args]) == 0
        serials = [line.split()[0] for line in adb.check("devices").splitlines()[1:] if line.strip()]
        yield adb, serials
    finally:
        main(["--workspace", str(workspace), "virtual-device", "stop", "--all"])
        adb.run("kill-server")
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
