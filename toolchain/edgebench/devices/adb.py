"""The ONLY module that talks to adb (on adbutils). Everything device-facing goes through here.

Errors name the serial and the command. edgebench never kills or restarts an adb server: a lab's
server holds every phone, and a client of another version would restart it. It starts one only on
the user's explicit request (`virtual-device start --start-adb-server`), and only where none answers.
"""
from __future__ import annotations

import os
import shlex
import shutil
import socket
import struct
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

from edgebench.errors import DeviceError, EdgebenchError

_T = TypeVar("_T")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5037
SHELL_TIMEOUT_S = 60.0


class AdbServerError(EdgebenchError):
    """No adb server answers where edgebench was told to look."""


class DeviceConnectionError(DeviceError):
    """The transport to the device broke (unplugged, rebooting, offline): worth waiting for it."""


class DeviceTimeoutError(DeviceConnectionError):
    """A command gave no answer within its timeout. The link may be dead (then it is a lost connection,
    as its base class says) or the command may just hang on a live device: a caller that can tell the
    two apart (the harness driver: ask the device to echo) catches this first."""


# Words adb and adbutils use when the device, not the command, is the problem.
_CONNECTION_WORDS = ("not found", "offline", "closed", "connection reset", "broken pipe", "eof",
                     "no devices", "device still connecting", "timeout", "timed out", "connection refused")
RETRY_DELAYS_S = (0.5, 1.0, 2.0)
SYNC_DATA_MAX = 64 * 1024  # the sync protocol's largest DATA payload


@dataclass(frozen=True)
class AdbServerAddress:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"

    @classmethod
    def resolve(cls, explicit: str | None = None) -> AdbServerAddress:
        """--adb HOST:PORT, else ADB_SERVER_SOCKET (tcp:HOST:PORT), else ANDROID_ADB_SERVER_*, else 5037."""
        text = explicit or os.environ.get("ADB_SERVER_SOCKET")
        if text:
            spec = text[4:] if text.startswith("tcp:") else text
            host, _, port = spec.rpartition(":")
            if not port.isdigit():
                source = "--adb" if explicit else "ADB_SERVER_SOCKET"
                raise AdbServerError(f"{source} must look like HOST:PORT or tcp:HOST:PORT. Received: {text!r}.")
            return cls(host or DEFAULT_HOST, int(port))
        port_text = os.environ.get("ANDROID_ADB_SERVER_PORT", str(DEFAULT_PORT))
        if not port_text.isdigit():
            raise AdbServerError(f"ANDROID_ADB_SERVER_PORT must be a port number. Received: {port_text!r}.")
        return cls(os.environ.get("ANDROID_ADB_SERVER_HOST", DEFAULT_HOST), int(port_text))


def quote(arg: str) -> str:
    """Quote one argument for the device shell (mksh/toybox sh are POSIX here)."""
    return shlex.quote(arg)


def command_line(args: Sequence[str]) -> str:
    return " ".join(quote(a) for a in args)


@dataclass(frozen=True)
class ShellResult:
    exit_code: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class AdbDeviceEntry:
    """One line of `adb devices -l`, as the server reports it."""

    serial: str
    state: str  # device | offline | unauthorized | recovery | ...
    product: str | None = None
    model: str | None = None
    device: str | None = None
    transport_id: int | None = None


class AdbServer:
    """A connection to one adb server that already answers."""

    def __init__(self, address: AdbServerAddress | None = None) -> None:
        self.address = address or AdbServerAddress.resolve()
        if not server_answers(self.address):
            raise AdbServerError(
                f"no adb server answers at {self.address}. Start one with `adb start-server` (or point "
                "edgebench at yours with --adb HOST:PORT or ADB_SERVER_SOCKET=tcp:HOST:PORT). "
                "edgebench does not start adb servers itself: a lab's server holds every phone.")
        import adbutils

        self._client = adbutils.AdbClient(host=self.address.host, port=self.address.port, socket_timeout=30)

    def devices(self) -> list[AdbDeviceEntry]:
        from adbutils.errors import AdbError

        try:
            with self._client.make_connection() as conn:
                conn.send_command("host:devices-l")
                conn.check_okay()
                text = conn.read_string_block()
        except AdbError as exc:
            raise AdbServerError(f"adb server {self.address}: `devices -l` failed: {exc}") from exc
        entries = []
        for line in text.splitlines():
            parts = line.split()
            if len(parts) < 2:
                continue
            fields = dict(p.split(":", 1) for p in parts[2:] if ":" in p)
            tid = fields.get("transport_id")
            entries.append(AdbDeviceEntry(parts[0], parts[1], fields.get("product"), fields.get("model"),
                                          fields.get("device"), int(tid) if tid and tid.isdigit() else None))
        return entries

    def connect(self, address: str) -> str:
        from adbutils.errors import AdbError

        try:
            return str(self._client.connect(address, timeout=10))
        except AdbError as exc:
            raise DeviceError(address, f"adb connect failed: {exc}", command=f"adb connect {address}") from exc

    def disconnect(self, address: str) -> None:
        from adbutils.errors import AdbError

        try:
            self._client.disconnect(address)
        except AdbError:
            pass  # already gone: the goal state

    def device(self, serial: str) -> AdbDevice:
        return AdbDevice(self, serial)


class AdbDevice:
    """One device on a server. Every method raises DeviceError naming the serial and the command."""

    def __init__(self, server: AdbServer, serial: str) -> None:
        self.server = server
        self.serial = serial
        self._device = server._client.device(serial)
        self._features: set[str] | None = None

    def state(self) -> str | None:
        """The device's state on the server now (device, offline, ...), or None when not listed."""
        entry = next((e for e in self.server.devices() if e.serial == self.serial), None)
        return entry.state if entry else None

    def features(self) -> set[str]:
        if self._features is None:
            self._features = set(self._call("get-features", self._device.get_features).split(","))
        return self._features

    def _call(self, command: str, fn: Callable[..., _T], *args: Any, retry: bool = True, **kwargs: Any) -> _T:
        """Call adbutils; transport failures of idempotent calls are retried with backoff."""
        delays = RETRY_DELAYS_S if retry else ()
        for attempt in range(len(delays) + 1):
            try:
                return self._call_once(command, fn, *args, **kwargs)
            except DeviceConnectionError:
                if attempt == len(delays):
                    raise
                time.sleep(delays[attempt])
        raise AssertionError("unreachable")

    def _call_once(self, command: str, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        from adbutils.errors import AdbError

        from adbutils.errors import AdbTimeout

        try:
            return fn(*args, **kwargs)
        except (AdbTimeout, TimeoutError) as exc:  # adbutils' read timeout, or the socket's own
            raise DeviceTimeoutError(self.serial, f"no answer within the timeout ({exc})", command=command) from exc
        except AdbError as exc:
            text = str(exc)
            kind = DeviceConnectionError if any(w in text.lower() for w in _CONNECTION_WORDS) else DeviceError
            raise kind(self.serial, _explain(text), command=command) from exc
        except (OSError, EOFError) as exc:
            raise DeviceConnectionError(self.serial, f"connection lost: {exc}", command=command) from exc

    def shell(self, args: Sequence[str] | str, *, timeout: float = SHELL_TIMEOUT_S,
              retry: bool = True) -> ShellResult:
        """Run a command (argument list, quoted here; or a ready shell string) and return its exit code.

        `retry=False` for commands that must not run twice (the harness driver).
        """
        cmd = args if isinstance(args, str) else command_line(args)
        v2 = "shell_v2" in self.features()
        result = self._call(f"adb -s {self.serial} shell {cmd}", self._device.shell2, cmd, timeout=timeout, v2=v2,
                            retry=retry)
        return ShellResult(result.returncode, result.stdout if v2 else result.output, result.stderr or "")

    def check_shell(self, args: Sequence[str] | str, *, timeout: float = SHELL_TIMEOUT_S) -> str:
        result = self.shell(args, timeout=timeout)
        if result.exit_code != 0:
            cmd = args if isinstance(args, str) else command_line(args)
            raise DeviceError(self.serial, f"command exited {result.exit_code}: "
                              f"{(result.stderr or result.stdout).strip()[:500]}", command=f"adb shell {cmd}")
        return result.stdout

    def push(self, local: Path, remote: str, mode: int = 0o644) -> None:
        """Sync SEND with full 64 KiB DATA chunks (adbutils sends 4 KiB: a quarter of adb's speed)."""
        self._call(f"adb -s {self.serial} push {local} {remote}", self._send_file, local, remote, mode)

    def _send_file(self, local: Path, remote: str, mode: int) -> None:
        from adbutils.errors import AdbError

        target = f"{remote},{0o100000 | mode}".encode()
        with self._device.open_transport(timeout=None) as conn, local.open("rb") as src:
            conn.send_command("sync:")
            conn.check_okay()
            sock = conn.conn
            sock.sendall(b"SEND" + struct.pack("<I", len(target)) + target)
            # Header and payload in one buffer, filled in place: no per-chunk allocation or copy.
            buffer = bytearray(8 + SYNC_DATA_MAX)
            view = memoryview(buffer)
            buffer[:4] = b"DATA"
            while n := src.readinto(view[8:]):
                struct.pack_into("<I", buffer, 4, n)
                sock.sendall(view[:8 + n])
            sock.sendall(b"DONE" + struct.pack("<I", int(local.stat().st_mtime)))
            status = conn.read(4)
            if status == b"FAIL":
                length = struct.unpack("<I", conn.read(4))[0]
                raise AdbError(conn.read(length).decode(errors="replace"))
            if status != b"OKAY":
                raise AdbError(f"sync SEND: unexpected reply {status!r}")

    def pull(self, remote: str, local: Path) -> None:
        local.parent.mkdir(parents=True, exist_ok=True)
        self._call(f"adb -s {self.serial} pull {remote} {local}", self._device.sync.pull, remote, str(local))

    def read_text(self, remote: str) -> str:
        return str(self._call(f"adb -s {self.serial} pull {remote}", self._device.sync.read_text, remote))

    def getprop(self) -> str:
        """Raw `getprop` output; parse with edgebench.parsers."""
        return self.check_shell(["getprop"])


def _explain(message: str) -> str:
    lowered = message.lower()
    if "unauthorized" in lowered:
        return (f"{message}: the device has not authorized this computer. Unlock it and accept the "
                "'Allow USB debugging' prompt, then retry.")
    if "offline" in lowered:
        return f"{message}: the device is offline. Replug the cable or run `adb reconnect`, then retry."
    if "no space left" in lowered or "enospc" in lowered:
        return (f"{message}: the device's storage is full. Free space in /data/local/tmp (old run folders: "
                "rm -rf /data/local/tmp/edgebench/runs) or on the device, then retry; `edgebench doctor` shows it.")
    if "permission denied" in lowered:
        return (f"{message}: the shell user may not write or execute there. edgebench runs from "
                "/data/local/tmp, which the shell user owns on every Android version; check `edgebench doctor`.")
    if "not found" in lowered:
        return f"{message}: no such device on this adb server. `edgebench devices` lists what is attached."
    return message


def server_answers(address: AdbServerAddress, timeout_s: float = 2.0) -> bool:
    """True when something speaking the adb host protocol answers `host:version` there."""
    try:
        with socket.create_connection((address.host, address.port), timeout=timeout_s) as sock:
            sock.sendall(b"000chost:version")
            return sock.recv(4) == b"OKAY"
    except OSError:
        return False


LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def adb_binary() -> str:
    """`adb` on PATH, else the one bundled with the adbutils wheel."""
    found = shutil.which("adb")
    if found:
        return found
    import adbutils

    return str(Path(adbutils.__file__).parent / "binaries" / "adb")


def start_server(address: AdbServerAddress) -> None:
    """Start a local adb server at `address` - only when none answers there (checked first)."""
    if server_answers(address):
        return
    if address.host not in LOCAL_HOSTS:
        raise AdbServerError(f"no adb server answers at {address}, and a server can only be started on this host")
    env = {k: v for k, v in os.environ.items() if k not in ("ADB_SERVER_SOCKET", "ANDROID_ADB_SERVER_PORT")}
    binary = adb_binary()
    # `adb -P PORT` names a local server; ADB_SERVER_SOCKET=tcp:127.0.0.1:... counts as remote for adb.
    result = subprocess.run([binary, "-P", str(address.port), "start-server"], env=env,
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0 or not server_answers(address):
        raise AdbServerError(f"`{binary} -P {address.port} start-server` failed: "
                             f"{(result.stderr or result.stdout).strip() or 'no output'}")
