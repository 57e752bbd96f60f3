"""The ONLY module that talks to adb. Everything device-facing goes through here: shell, pull, push
and stat over edgebench's own lean connection (devices/adb_wire.py), the rest on adbutils.

Errors name the serial and the command. edgebench never kills or restarts an adb server: a lab's
server holds every phone, and a client of another version would restart it. It starts one only on
the user's explicit request (`virtual-device start --start-adb-server`), and only where none answers.
"""
from __future__ import annotations

import io
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Callable, Sequence, TypeVar

from edgebench.devices import adb_wire
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
SYNC_DATA_MAX = adb_wire.SYNC_DATA_MAX  # the sync protocol's largest DATA payload


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
class RemoteFile:
    """What `sync:` STAT tells about a path on the device."""

    mode: int
    size_bytes: int

    @property
    def is_regular(self) -> bool:
        return self.mode & 0o170000 == 0o100000


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
        self._version: int | None = None
        self._version_lock = threading.Lock()

    def version(self) -> int:
        """The server's protocol version, asked once (it decides how a transport is opened)."""
        with self._version_lock:
            if self._version is None:
                self._version = adb_wire.server_version(self.address.host, self.address.port)
            return self._version

    def open_device(self, serial: str, timeout_s: float = adb_wire.IO_TIMEOUT_S) -> adb_wire.Connection:
        """A connection switched to `serial`'s transport (edgebench's own: no version query, no linger)."""
        return adb_wire.Connection.to_device(self.address.host, self.address.port, serial, self.version(),
                                             timeout_s)

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

    def _call(self, command: str, fn: Callable[..., _T], *args: Any, retry: bool = True,
              retry_timeouts: bool = True, **kwargs: Any) -> _T:
        """Call adbutils; transport failures of idempotent calls are retried with backoff (a timeout too,
        unless `retry_timeouts` is False)."""
        delays = RETRY_DELAYS_S if retry else ()
        for attempt in range(len(delays) + 1):
            try:
                return self._call_once(command, fn, *args, **kwargs)
            except DeviceConnectionError as exc:
                if attempt == len(delays) or (isinstance(exc, DeviceTimeoutError) and not retry_timeouts):
                    raise
                time.sleep(delays[attempt])
        raise AssertionError("unreachable")

    def _call_once(self, command: str, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            error = self._device_error(exc, command)
            if error is exc:
                raise
            raise error from exc

    def _device_error(self, exc: Exception, command: str) -> Exception:
        """The DeviceError for a failure of adbutils or of the wire; anything else unchanged."""
        from adbutils.errors import AdbError, AdbTimeout

        if isinstance(exc, (AdbTimeout, TimeoutError)):  # adbutils' read timeout, or the socket's own
            return DeviceTimeoutError(self.serial, f"no answer within the timeout ({exc})", command=command)
        if isinstance(exc, adb_wire.LocalFileError):  # this host's file: not the device's fault, not retried
            return EdgebenchError(f"{exc} (while running: {command})")
        if isinstance(exc, adb_wire.SyncFailure):  # about the file, never the link
            return DeviceError(self.serial, _explain(str(exc)), command=command)
        if isinstance(exc, (AdbError, adb_wire.AdbFailure)):
            text = str(exc)
            kind = DeviceConnectionError if any(w in text.lower() for w in _CONNECTION_WORDS) else DeviceError
            return kind(self.serial, _explain(text), command=command)
        if isinstance(exc, (OSError, EOFError)):
            return DeviceConnectionError(self.serial, f"connection lost: {exc}", command=command)
        return exc

    @property
    def has_shell_v2(self) -> bool:
        """adbd speaks the shell protocol v2 (separate stderr, exit status): Android 7 on."""
        return "shell_v2" in self.features()

    def shell(self, args: Sequence[str] | str, *, timeout: float = SHELL_TIMEOUT_S,
              retry: bool = True) -> ShellResult:
        """Run a command (argument list, quoted here; or a ready shell string) and return its exit code.

        `timeout` bounds the whole command. `retry=False` for commands that must not run twice (the
        harness driver). Without shell v2 (before Android 7) stderr comes merged into stdout.
        """
        cmd = args if isinstance(args, str) else command_line(args)
        run = self._shell_v2 if self.has_shell_v2 else self._shell_v1
        return self._call(f"adb -s {self.serial} shell {cmd}", run, cmd, timeout, retry=retry)

    def _shell_v2(self, cmd: str, timeout: float) -> ShellResult:
        deadline = time.monotonic() + timeout
        with self.server.open_device(self.serial, timeout) as conn:
            code, stdout, stderr = adb_wire.run_shell_v2(conn, cmd, deadline)
        return ShellResult(code, stdout.decode(errors="replace"), stderr.decode(errors="replace"))

    def _shell_v1(self, cmd: str, timeout: float) -> ShellResult:
        deadline = time.monotonic() + timeout
        with self.server.open_device(self.serial, timeout) as conn:
            code, output = adb_wire.run_shell_v1(conn, cmd, deadline, marker=f"edgebench-exit-{secrets.token_hex(6)}:")
        return ShellResult(code, output.decode(errors="replace"), "")

    def open_shell(self, cmd: str) -> ShellStream:
        """Start `cmd` (a ready shell string) with shell v2 and return its stream, read as it arrives.

        Never retried (the command may have started). DeviceError when adbd lacks shell v2: fall back to shell()."""
        command = f"adb -s {self.serial} shell {cmd}"
        if not self.has_shell_v2:
            raise DeviceError(self.serial, "the device's adbd lacks the shell protocol v2 (Android 7 on), which a "
                              "streamed command needs; run it with shell() instead", command=command)
        return self._call(command, self._open_stream, cmd, command, retry=False)

    def _open_stream(self, cmd: str, command: str) -> ShellStream:
        conn = self.server.open_device(self.serial)
        try:
            conn.request(f"shell,v2,raw:{cmd}")
        except BaseException:
            conn.close()
            raise
        return ShellStream(self, conn, command)

    def check_shell(self, args: Sequence[str] | str, *, timeout: float = SHELL_TIMEOUT_S) -> str:
        result = self.shell(args, timeout=timeout)
        if result.exit_code != 0:
            cmd = args if isinstance(args, str) else command_line(args)
            raise DeviceError(self.serial, f"command exited {result.exit_code}: "
                              f"{(result.stderr or result.stdout).strip()[:500]}", command=f"adb shell {cmd}")
        return result.stdout

    def push(self, local: Path, remote: str, mode: int = 0o644) -> None:
        """Sync SEND with full 64 KiB DATA chunks (adbutils sends 4 KiB: a quarter of adb's speed)."""
        self._call(f"adb -s {self.serial} push {local} {remote}", self._send_file, local, remote, mode, False)

    def push_hashed(self, local: Path, remote: str, mode: int = 0o644) -> str:
        """push(), returning the sha256 of the bytes sent: the file is read once, hashed while it goes out."""
        digest = self._call(f"adb -s {self.serial} push {local} {remote}", self._send_file, local, remote, mode, True)
        assert digest is not None
        return digest

    def _send_file(self, local: Path, remote: str, mode: int, sha256: bool) -> str | None:
        with self.server.open_device(self.serial) as conn:
            return adb_wire.sync_send(conn, local, remote, mode, sha256=sha256)

    def pull(self, remote: str, local: Path) -> None:
        """Sync RECV into `local`; a file adbd refuses (missing, unreadable) is a DeviceError naming `remote`."""
        local.parent.mkdir(parents=True, exist_ok=True)
        self._call(f"adb -s {self.serial} pull {remote} {local}", self._recv_file, remote, local)

    def _recv_file(self, remote: str, local: Path) -> None:
        try:
            with self.server.open_device(self.serial) as conn, local.open("wb") as sink:
                adb_wire.sync_recv(conn, remote, sink)
        except adb_wire.SyncFailure as exc:
            local.unlink(missing_ok=True)
            raise adb_wire.SyncFailure(f"{remote}: {exc}") from exc
        except BaseException:
            local.unlink(missing_ok=True)  # never leave half a file under the real name
            raise

    def stat_files(self, remotes: Sequence[str]) -> dict[str, RemoteFile | None]:
        """Each path's mode and size (None: no such path) in one round trip on one sync connection: no
        process starts on the device, unlike `stat` or `wc -c` in a shell (~3-5 ms each)."""
        paths = list(remotes)
        command = f"adb -s {self.serial} shell stat {command_line(paths)}"
        v2 = "stat_v2" in self.features()
        found = self._call(command, self._stat_files, paths, v2)
        return {p: RemoteFile(*f) if f else None for p, f in zip(paths, found)}

    def _stat_files(self, paths: list[str], v2: bool) -> list[tuple[int, int] | None]:
        with self.server.open_device(self.serial) as conn:
            return adb_wire.sync_stat(conn, paths, v2=v2)

    def stat_and_read(self, remotes: Sequence[str], text: str) -> tuple[dict[str, RemoteFile | None], str | None]:
        """stat_files(remotes) and the content of the file `text` (None when adbd cannot send it: missing,
        unreadable), asked together: one round trip on one sync connection."""
        paths = list(remotes)
        v2 = "stat_v2" in self.features()
        command = f"adb -s {self.serial} shell stat {command_line(paths)} && adb -s {self.serial} pull {text}"
        found, content = self._call(command, self._stat_and_recv, paths, v2, text)
        decoded = content.decode(errors="replace") if content is not None else None
        return {p: RemoteFile(*f) if f else None for p, f in zip(paths, found)}, decoded

    def _stat_and_recv(self, paths: list[str], v2: bool,
                       text: str) -> tuple[list[tuple[int, int] | None], bytes | None]:
        with self.server.open_device(self.serial) as conn:
            return adb_wire.sync_stat_and_recv(conn, paths, v2=v2, recv=text)

    def push_batch(self, command: str, send: Callable[[adb_wire.SyncSender], _T]) -> _T:
        """Run `send` on one sync session (its SENDs pipelined, adbd's answers read at the end) and return
        its result. `send` must be safe to run again: a broken link retries the whole batch. `command`
        names what it pushes in errors."""
        # Not again after a timeout: adbd may only be stalled, and its session would go on with the SENDs it
        # holds while a retry sends them once more.
        result: _T = self._call(command, self._push_batch, send, retry_timeouts=False)
        return result

    def _push_batch(self, send: Callable[[adb_wire.SyncSender], _T]) -> _T:
        with self.server.open_device(self.serial) as conn:
            sender = adb_wire.SyncSender(conn)
            result = send(sender)
            sender.finish()
            return result

    def read_text(self, remote: str) -> str:
        return self._call(f"adb -s {self.serial} pull {remote}", self._recv_text, remote)

    def _recv_text(self, remote: str) -> str:
        sink = io.BytesIO()
        try:
            with self.server.open_device(self.serial) as conn:
                adb_wire.sync_recv(conn, remote, sink)
        except adb_wire.SyncFailure as exc:
            raise adb_wire.SyncFailure(f"{remote}: {exc}") from exc
        return sink.getvalue().decode(errors="replace")

    def getprop(self) -> str:
        """Raw `getprop` output; parse with edgebench.parsers."""
        return self.check_shell(["getprop"])


class ShellStream:
    """A command running with shell v2, its stdout read as it arrives (AdbDevice.open_shell).

    A context manager; close() drops the connection, and adbd then hangs up the command."""

    def __init__(self, device: AdbDevice, conn: adb_wire.Connection, command: str) -> None:
        self._device = device
        self._conn: adb_wire.Connection | None = conn
        self._reader = adb_wire.ShellV2Reader(conn)
        self._stderr = bytearray()
        self.command = command
        self.exit_code: int | None = None

    def read_stdout(self, timeout_s: float) -> bytes | None:
        """The next stdout bytes as they arrive (any length >= 1); None once the command has ended
        (exit_code is then set). DeviceTimeoutError when nothing arrived within timeout_s (the stream
        stays usable: call again); DeviceConnectionError when the link broke. stderr is collected."""
        deadline = time.monotonic() + timeout_s
        while self.exit_code is None:
            if self._conn is None:
                raise DeviceConnectionError(self._device.serial, "the stream was closed before the command ended",
                                            command=self.command)
            try:
                packet_id, data = self._reader.next_packet(deadline)
            except EOFError as exc:
                self.close()
                raise DeviceConnectionError(self._device.serial, "the link broke before the command's exit status "
                                            f"arrived ({exc})", command=self.command) from exc
            except TimeoutError as exc:
                raise DeviceTimeoutError(self._device.serial, f"no output within {timeout_s:g} s",
                                         command=self.command) from exc
            except OSError as exc:
                self.close()
                raise self._device._device_error(exc, self.command) from exc
            if packet_id == adb_wire.SHELL_STDOUT and data:
                return data
            if packet_id == adb_wire.SHELL_STDERR:
                self._stderr += data
            elif packet_id == adb_wire.SHELL_EXIT:
                self.exit_code = data[0] if data else 255
                self.close()
        return None

    @property
    def stderr_text(self) -> str:
        return self._stderr.decode(errors="replace")

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def __enter__(self) -> ShellStream:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


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
