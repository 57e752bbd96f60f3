"""A long-running device command streamed over shell v2 (AdbDevice.open_shell): its stdout read as it
arrives, stderr collected, the exit status kept when it ends."""
from __future__ import annotations

import time
from types import TracebackType
from typing import Callable

from edgebench.devices import adb_wire
from edgebench.devices.adb_errors import DeviceConnectionError, DeviceTimeoutError, device_error


def open_shell_stream(open_device: Callable[[str], adb_wire.Connection], serial: str, cmd: str,
                      command: str) -> ShellStream:
    """Start `cmd` (a ready shell string) on a connection of its own, opened by `open_device(serial)` (the adb
    server's); `command` names it in errors."""
    conn = open_device(serial)
    try:
        conn.request(f"shell,v2,raw:{cmd}")
    except BaseException:
        conn.close()
        raise
    return ShellStream(serial, conn, command)


class ShellStream:
    """A command running with shell v2, its stdout read as it arrives (AdbDevice.open_shell).

    A context manager; close() drops the connection, and adbd then hangs up the command."""

    def __init__(self, serial: str, conn: adb_wire.Connection, command: str) -> None:
        self.serial = serial
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
                raise DeviceConnectionError(self.serial, "the stream was closed before the command ended",
                                            command=self.command)
            try:
                packet_id, data = self._reader.next_packet(deadline)
            except EOFError as exc:
                self.close()
                raise DeviceConnectionError(self.serial, "the link broke before the command's exit status "
                                            f"arrived ({exc})", command=self.command) from exc
            except TimeoutError as exc:
                raise DeviceTimeoutError(self.serial, f"no output within {timeout_s:g} s",
                                         command=self.command) from exc
            except OSError as exc:
                self.close()
                raise device_error(self.serial, exc, self.command) from exc
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
