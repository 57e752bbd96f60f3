"""The adb transport's front door: everything device-facing goes through edgebench.devices.adb (shell,
pull, push and stat over edgebench's own lean connection, devices/adb_wire.py; the rest on adbutils).
AdbServer and AdbDevice live here; the rest of the transport is imported from here: the errors and what
a failure means (adb_errors.py), the server's address and starting one (adb_address.py), shell quoting
and the values handed out (adb_records.py), the streamed shell (adb_shell_stream.py).

Errors name the serial and the command. edgebench never kills or restarts an adb server: a lab's
server holds every phone, and a client of another version would restart it. It starts one only on
the user's explicit request (`virtual-device start --start-adb-server`), and only where none answers.
"""
from __future__ import annotations

import io
import secrets
import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

from edgebench.devices import adb_wire
from edgebench.devices.adb_address import (DEFAULT_HOST, DEFAULT_PORT, LOCAL_HOSTS, AdbServerAddress, adb_binary,
                                           server_answers, start_server)
from edgebench.devices.adb_errors import AdbServerError, DeviceConnectionError, DeviceTimeoutError, device_error
from edgebench.devices.adb_records import AdbDeviceEntry, RemoteFile, ShellResult, command_line, quote
from edgebench.devices.adb_shell_stream import ShellStream, open_shell_stream
from edgebench.errors import DeviceError

__all__ = [
    "AdbDevice", "AdbDeviceEntry", "AdbServer", "AdbServerAddress", "AdbServerError", "DEFAULT_HOST",
    "DEFAULT_PORT", "DeviceConnectionError", "DeviceTimeoutError", "LOCAL_HOSTS", "RETRY_DELAYS_S", "RemoteFile",
    "SHELL_TIMEOUT_S", "SYNC_DATA_MAX", "ShellResult", "ShellStream", "adb_binary", "command_line", "quote",
    "server_answers", "start_server",
]

_T = TypeVar("_T")

SHELL_TIMEOUT_S = 60.0
RETRY_DELAYS_S = (0.5, 1.0, 2.0)
SYNC_DATA_MAX = adb_wire.SYNC_DATA_MAX  # the sync protocol's largest DATA payload


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
            error = device_error(self.serial, exc, command)
            if error is exc:
                raise
            raise error from exc

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
        return self._call(command, open_shell_stream, self.server.open_device, self.serial, cmd, command, retry=False)

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

