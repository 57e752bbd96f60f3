"""The virtual device's log daemon: answers the device's `logcat` and `log` applets.

It listens on a Unix socket in the device folder's `overlay/dev/socket/` (bound at the device's
`/dev/socket`, where a phone's logd has its sockets). An applet sends its argv, NUL-terminated
(command, ANDROID_LOG_TAGS, arguments), an empty item, then for `log` its stdin. The answer is
`ok\\n` and the output, or `err CODE\\n` and the text for stderr. A following `logcat` stays
connected and gets new entries as they arrive. The writer's pid and uid are the kernel's (its peer
credentials), translated into the device's PID namespace.
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import struct
from pathlib import Path

from edgebench.virtual.device_log import LogBuffers, LogEntry
from edgebench.virtual.logcat_args import LogcatRequest, UsageFailure, parse_log, parse_logcat

log = logging.getLogger(__name__)
SOCKET_DIR = "dev/socket"  # under the device's overlay folder
SOCKET_NAME = "logd"
FOLLOW_POLL_S = 0.1
MAX_REQUEST_BYTES = 1 << 20


def device_pid(host_pid: int) -> int:
    """A host pid as the device sees it (the last NSpid entry), or 0 if the process is gone."""
    try:
        for line in Path(f"/proc/{host_pid}/status").read_text().splitlines():
            if line.startswith("NSpid:"):
                return int(line.split()[-1])
    except (OSError, ValueError):
        pass
    return 0


def _peer(writer: asyncio.StreamWriter) -> tuple[int, int]:
    sock = writer.get_extra_info("socket")
    try:
        pid, uid, _ = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
    except (OSError, AttributeError):
        return 0, 0
    return device_pid(pid), uid


class LogDaemon:
    def __init__(self, buffers: LogBuffers, overlay: Path) -> None:
        self.buffers = buffers
        self.folder = overlay / SOCKET_DIR
        self.server: asyncio.base_events.Server | None = None

    async def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o755)
        path = self.folder / SOCKET_NAME
        path.unlink(missing_ok=True)
        # Bound through a directory fd: a workspace path may exceed the 108 bytes of sun_path.
        dir_fd = os.open(self.folder, os.O_PATH | os.O_DIRECTORY)
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.bind(f"/proc/self/fd/{dir_fd}/{SOCKET_NAME}")
        finally:
            os.close(dir_fd)
        path.chmod(0o666)  # any device user may log, as with logd's sockets
        self.server = await asyncio.start_unix_server(self._client, sock=sock)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        (self.folder / SOCKET_NAME).unlink(missing_ok=True)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            # The applet half-closes after its request, so the request is everything up to EOF.
            data = await reader.read(MAX_REQUEST_BYTES)
            while data and len(data) < MAX_REQUEST_BYTES:
                more = await reader.read(MAX_REQUEST_BYTES - len(data))
                if not more:
                    break
                data += more
            await self._answer(data, writer)
        except (ConnectionError, BrokenPipeError):
            pass  # the applet went away (adb's logcat is usually ended that way)
        finally:
            writer.close()

    async def _answer(self, data: bytes, writer: asyncio.StreamWriter) -> None:
        try:
            command, env_tags, argv, rest = split_request(data)
            if command == "log":
                request = parse_log(argv, rest.decode(errors="replace"))
                pid, uid = _peer(writer)
                self.buffers.write(request.buffer, request.priority, request.tag, request.message, pid=pid, uid=uid)
                writer.write(b"ok\n")
            elif command == "logcat":
                await self._logcat(parse_logcat(argv, env_tags), writer)
            else:
                raise UsageFailure(f"log daemon: unknown command {command!r}; expected log or logcat")
        except UsageFailure as exc:
            writer.write(f"err 1\n{exc}\n".encode())
        await writer.drain()

    async def _logcat(self, request: LogcatRequest, writer: asyncio.StreamWriter) -> None:
        if request.clear:
            self.buffers.clear(request.buffers)
            writer.write(b"ok\n")
            return
        writer.write(b"ok\n")
        if request.sizes:
            for name in request.buffers:
                used_kib = self.buffers.used_bytes(name) // 1024
                writer.write(f"{name}: ring buffer is {self.buffers.capacity_bytes // 1024} KiB ({used_kib} KiB "
                             "consumed), max entry is 5120 B, max payload is 4068 B\n".encode())
            return
        printer = _Printer(request)
        snapshot = self.buffers.entries(request.buffers)  # one read: following resumes right after it
        last_seq = max((e.seq for e in snapshot), default=0)
        entries = [e for e in snapshot if printer.selects(e)]
        since = request.since
        if since is not None and since.count is not None:
            entries = entries[-since.count:] if since.count else []
        elif since is not None and since.time_ns is not None:
            entries = [e for e in entries if e.time_ns >= since.time_ns]
        for entry in entries:
            if printer.done:
                return
            writer.write(printer.line(entry))
        await writer.drain()
        while not request.dump and not printer.done:
            await asyncio.sleep(FOLLOW_POLL_S)
            new = self.buffers.entries(request.buffers, after_seq=last_seq)
            for entry in new:
                last_seq = max(last_seq, entry.seq)
                if printer.selects(entry) and not printer.done:
                    writer.write(printer.line(entry))
            if new:
                await writer.drain()
            if writer.is_closing():
                return


def split_request(data: bytes) -> tuple[str, str, list[str], bytes]:
    """`COMMAND\\0COUNT\\0ANDROID_LOG_TAGS\\0ARG\\0...` (COUNT arguments), then stdin bytes."""
    parts = data.split(b"\0", 3)
    if len(parts) < 4 or not parts[1].isdigit():
        raise UsageFailure("log daemon: malformed request; expected COMMAND, COUNT, TAGS and COUNT arguments")
    command, count, tags, rest = parts[0].decode(), int(parts[1]), parts[2].decode(errors="replace"), parts[3]
    argv = []
    for _ in range(count):
        item, sep, rest = rest.partition(b"\0")
        if not sep:
            raise UsageFailure(f"log daemon: request of {command} ends before its {count} arguments")
        argv.append(item.decode(errors="replace"))
    return command, tags, argv, rest


class _Printer:
    """logcat's output loop state: the buffer headers, -m's count, -e and --pid."""

    def __init__(self, request: LogcatRequest) -> None:
        self.request = request
        self.regex = re.compile(request.regex) if request.regex else None
        self.seen: set[str] = set()
        self.current: str | None = None
        self.printed = 0

    @property
    def done(self) -> bool:
        return self.request.max_count is not None and self.printed >= self.request.max_count

    def selects(self, entry: LogEntry) -> bool:
        if not self.request.tag_filter.shows(entry):
            return False
        if self.request.pid is not None and entry.pid != self.request.pid:
            return False
        return self.regex is None or self.regex.search(entry.message) is not None

    def line(self, entry: LogEntry) -> bytes:
        head = ""
        if entry.buffer not in self.seen:
            self.seen.add(entry.buffer)
            head = f"--------- beginning of {entry.buffer}\n"
        elif self.request.dividers and entry.buffer != self.current:
            head = f"--------- switch to {entry.buffer}\n"
        self.current = entry.buffer
        self.printed += 1
        return (head + self.request.line_format.render(entry)).encode()
