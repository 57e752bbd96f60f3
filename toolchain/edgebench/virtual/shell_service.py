"""`shell:`, `shell,v2,...:` and `exec:` services: run a command in the device sandbox over a stream.

As adbd does (daemon/services.cpp, shell_service.cpp): no command means an interactive PTY session,
a command means raw pipes, `raw`/`pty` arguments override that, `v2` selects the shell protocol
(packets of 1-byte id + 4-byte little-endian length + data: stdin 0, stdout 1, stderr 2, exit 3,
close-stdin 4, window-size 5), TERM defaults to "dumb". Without v2, stdout and stderr share the
stream and there is no exit code. An exit by signal N is reported as 128 + N.
"""
from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import struct
import subprocess
import termios
from dataclasses import dataclass

from edgebench.virtual.adb_protocol import Stream, StreamClosed
from edgebench.virtual.sandbox import Sandbox

ID_STDIN, ID_STDOUT, ID_STDERR, ID_EXIT, ID_CLOSE_STDIN, ID_WINDOW_SIZE = 0, 1, 2, 3, 4, 5
SHELL_HEADER = struct.Struct("<BI")
SH = "/system/bin/sh"


@dataclass(frozen=True)
class ShellRequest:
    command: str
    pty: bool
    v2: bool
    term: str


def parse_shell_service(name: str) -> ShellRequest | None:
    """`shell[,arg...]:command` or `exec:command` -> request; None if `name` is not one of them."""
    if name.startswith("exec:"):
        return ShellRequest(command=name[5:], pty=False, v2=False, term="dumb")
    if not name.startswith("shell"):
        return None
    args, sep, command = name[5:].partition(":")
    if not sep or (args and not args.startswith(",")):
        return None
    pty, v2, term = not command, False, "dumb"
    for arg in args.split(","):
        if arg == "raw":
            pty = False
        elif arg == "pty":
            pty = True
        elif arg == "v2":
            v2 = True
        elif arg.startswith("TERM="):
            term = arg[5:]
    return ShellRequest(command=command, pty=pty, v2=v2, term=term)


def shell_packet(packet_id: int, data: bytes = b"") -> bytes:
    return SHELL_HEADER.pack(packet_id, len(data)) + data


def exit_status(returncode: int) -> int:
    return (0x80 | -returncode) & 0xFF if returncode < 0 else returncode & 0xFF


def _set_window_size(fd: int, text: bytes) -> None:
    # "ROWSxCOLS,XPIXELSxYPIXELS"
    try:
        size, _, pixels = text.decode().partition(",")
        rows, cols = (int(x) for x in size.split("x"))
        xpix, ypix = (int(x) for x in pixels.split("x")) if pixels else (0, 0)
    except ValueError:
        return
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, xpix, ypix))


class _ShellPacketReader:
    """Shell-protocol packets from a stream whose WRTE boundaries need not match packet boundaries."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.buffer = bytearray()

    async def next(self) -> tuple[int, bytes] | None:
        while True:
            if len(self.buffer) >= SHELL_HEADER.size:
                packet_id, length = SHELL_HEADER.unpack_from(self.buffer)
                if len(self.buffer) >= SHELL_HEADER.size + length:
                    data = bytes(self.buffer[SHELL_HEADER.size: SHELL_HEADER.size + length])
                    del self.buffer[: SHELL_HEADER.size + length]
                    return packet_id, data
            chunk = await self.stream.read()
            if chunk is None:
                return None
            self.buffer += chunk


async def _read_fd(fd: int, queue: asyncio.Queue[bytes | None]) -> None:
    """Pump a PTY master into `queue` until the slave side is gone (EIO)."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def readable() -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            queue.put_nowait(data)
        else:
            loop.remove_reader(fd)
            queue.put_nowait(None)
            if not done.done():
                done.set_result(None)

    loop.add_reader(fd, readable)
    try:
        await done
    finally:
        loop.remove_reader(fd)


def _kill_group(proc: asyncio.subprocess.Process, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


async def run_shell(stream: Stream, request: ShellRequest, sandbox: Sandbox) -> None:
    argv = [SH, "-c", request.command] if request.command else [SH, "-"]
    if request.pty:
        await _run_pty(stream, request, sandbox, argv)
    else:
        await _run_raw(stream, request, sandbox, argv)


async def _run_raw(stream: Stream, request: ShellRequest, sandbox: Sandbox, argv: list[str]) -> None:
    proc = await asyncio.create_subprocess_exec(
        *sandbox.command(argv), env=sandbox.env(request.term if request.v2 else None),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if request.v2 else subprocess.STDOUT, start_new_session=True)
    assert proc.stdin is not None and proc.stdout is not None
    chunk = max(1024, stream.max_payload - SHELL_HEADER.size)

    async def pump(reader: asyncio.StreamReader, packet_id: int) -> None:
        while data := await reader.read(chunk):
            await stream.write(shell_packet(packet_id, data) if request.v2 else data)

    async def feed() -> None:
        stdin = proc.stdin
        assert stdin is not None
        data: bytes | None
        try:
            if request.v2:
                packets = _ShellPacketReader(stream)
                while (packet := await packets.next()) is not None:
                    packet_id, data = packet
                    if packet_id == ID_STDIN and data:
                        stdin.write(data)
                        await stdin.drain()
                    elif packet_id == ID_CLOSE_STDIN:
                        stdin.close()
            else:
                while (data := await stream.read()) is not None:
                    stdin.write(data)
                    await stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the command stopped reading; what it wrote still goes out
        # The host closed the stream: like adbd, hang up on the command.
        if stream.closed:
            _kill_group(proc, signal.SIGHUP)

    pumps = [asyncio.create_task(pump(proc.stdout, ID_STDOUT))]
    if request.v2 and proc.stderr is not None:
        pumps.append(asyncio.create_task(pump(proc.stderr, ID_STDERR)))
    feeder = asyncio.create_task(feed())
    try:
        await asyncio.gather(*pumps)
        returncode = await proc.wait()
        if request.v2:
            await stream.write(shell_packet(ID_EXIT, bytes([exit_status(returncode)])))
    except StreamClosed:
        _kill_group(proc, signal.SIGHUP)
    finally:
        feeder.cancel()
        for task in pumps:
            task.cancel()
        if proc.returncode is None:
            try:
                await asyncio.wait_for(proc.wait(), 2)
            except asyncio.TimeoutError:
                _kill_group(proc, signal.SIGKILL)
                await proc.wait()


async def _run_pty(stream: Stream, request: ShellRequest, sandbox: Sandbox, argv: list[str]) -> None:
    master, slave = os.openpty()
    os.set_blocking(master, False)
    try:
        proc = await asyncio.create_subprocess_exec(
            *sandbox.command(argv, ctty=True), env=sandbox.env(request.term),
            stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    finally:
        os.close(slave)  # only the device side keeps it, so EOF shows as EIO on the master
    output: asyncio.Queue[bytes | None] = asyncio.Queue()
    reader = asyncio.create_task(_read_fd(master, output))

    async def feed() -> None:
        packets = _ShellPacketReader(stream) if request.v2 else None
        data: bytes | None
        while True:
            if packets is not None:
                packet = await packets.next()
                if packet is None:
                    break
                packet_id, data = packet
                if packet_id == ID_WINDOW_SIZE:
                    _set_window_size(master, data)
                    continue
                if packet_id != ID_STDIN:
                    continue
            else:
                data = await stream.read()
                if data is None:
                    break
            while data:
                try:
                    written = os.write(master, data)
                    data = data[written:]
                except BlockingIOError:
                    await asyncio.sleep(0.01)
        _kill_group(proc, signal.SIGHUP)

    feeder = asyncio.create_task(feed())
    try:
        while (data := await output.get()) is not None:
            await stream.write(shell_packet(ID_STDOUT, data) if request.v2 else data)
        returncode = await proc.wait()
        if request.v2:
            await stream.write(shell_packet(ID_EXIT, bytes([exit_status(returncode)])))
    except StreamClosed:
        _kill_group(proc, signal.SIGHUP)
    finally:
        feeder.cancel()
        reader.cancel()
        os.close(master)
        if proc.returncode is None:
            try:
                await asyncio.wait_for(proc.wait(), 2)
            except asyncio.TimeoutError:
                _kill_group(proc, signal.SIGKILL)
                await proc.wait()
