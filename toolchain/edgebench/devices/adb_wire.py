"""edgebench's own client of the adb server's socket protocol, for the hot paths: shell, sync pull
(RECV), sync push (SEND) and sync STAT. adbutils stays for everything else (devices, connect, features).

Why not adbutils here: its every connection closes with `shutdown(); sleep(0.01)`, every transport
asks the server's version first (one more connection, one more sleep), and a pull is STAT + RECV on
two transports: `adb shell true` took 25-36 ms through it, 6.6 ms through the adb CLI.

Written from AOSP's SERVICES.TXT, SYNC.TXT and shell_protocol.h. Errors are raised as the socket's
own (OSError, TimeoutError, EOFError) or as AdbFailure (the server or adbd said FAIL); devices/adb.py
turns them into DeviceErrors naming the serial and the command.
"""
from __future__ import annotations

import hashlib
import io
import itertools
import os
import socket
import struct
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

IO_TIMEOUT_S = 30.0  # a transfer that makes no progress for this long is a dead link
SYNC_DATA_MAX = 64 * 1024  # the sync protocol's largest DATA payload
TPORT_MIN_SERVER_VERSION = 41  # `host:tport:` exists from adb 1.0.41 on
_RECV_BYTES = 256 * 1024
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)
_BLOCK_PACKETS = 16  # DATA packets read, hashed and sent as one block (1 MiB of payload)
# shell protocol v2 packet ids (system/core/adb/shell_protocol.h)
SHELL_STDOUT, SHELL_STDERR, SHELL_EXIT = 1, 2, 3
_SHELL_HEADER = struct.Struct("<BI")
_SYNC_HEADER = struct.Struct("<4sI")
_STAT1 = struct.Struct("<3I")
_STAT2 = struct.Struct("<IQQIIIIQqqq")


class AdbFailure(Exception):
    """The adb server or adbd answered FAIL: no such device, unknown service, ..."""


class SyncFailure(AdbFailure):
    """A sync request FAILed: about the file (missing, no permission, disk full), not the link."""


class LocalFileError(Exception):
    """A file to push cannot be read on this host: nothing about the device or its link."""


def server_version(host: str, port: int, timeout_s: float = IO_TIMEOUT_S) -> int:
    """The adb server's protocol version (`host:version`: 41 for adb 1.0.41)."""
    with Connection.to_server(host, port, timeout_s) as conn:
        conn.request("host:version")
        return int(conn.read_exact(int(conn.read_exact(4), 16)), 16)


class Connection:
    """One socket to the adb server; after `to_device` it speaks to adbd through the server."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = bytearray()

    @classmethod
    def to_server(cls, host: str, port: int, timeout_s: float = IO_TIMEOUT_S) -> Connection:
        sock = socket.create_connection((host, port), timeout=timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small requests go out at once
        return cls(sock)

    @classmethod
    def to_device(cls, host: str, port: int, serial: str, version: int,
                  timeout_s: float = IO_TIMEOUT_S) -> Connection:
        conn = cls.to_server(host, port, timeout_s)
        try:
            if version >= TPORT_MIN_SERVER_VERSION:
                conn.request(f"host:tport:serial:{serial}")
                conn.read_exact(8)  # the transport id, not needed
            else:
                conn.request(f"host:transport:{serial}")
        except BaseException:
            conn.close()
            raise
        return conn

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close at once: adb's own client does not linger either."""
        self.sock.close()

    def request(self, service: str) -> None:
        """Send one service request and wait for its OKAY (FAIL raises AdbFailure with the reason)."""
        data = service.encode()
        self.sock.sendall(b"%04x" % len(data) + data)
        status = self.read_exact(4)
        if status == b"FAIL":
            raise AdbFailure(self.read_exact(int(self.read_exact(4), 16)).decode(errors="replace"))
        if status != b"OKAY":
            raise AdbFailure(f"{service}: expected OKAY or FAIL from the adb server, received {status!r}")

    def fill(self, deadline: float | None = None) -> None:
        """Receive what has arrived (at least one byte) into the buffer; TimeoutError at the deadline,
        EOFError when the peer closed. The buffer survives a timeout: reading can go on."""
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("deadline passed")
            self.sock.settimeout(remaining)
        global _QUICKACK
        if _QUICKACK is not None:
            try:
                self.sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
            except OSError:  # a TCP stack that has the name but refuses it (WSL1, ...): only costs latency
                _QUICKACK = None
        chunk = self.sock.recv(_RECV_BYTES)
        if not chunk:
            raise EOFError("the adb server closed the connection")
        self._buffer += chunk

    def read_exact(self, n: int, deadline: float | None = None) -> bytes:
        while len(self._buffer) < n:
            self.fill(deadline)
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    def buffered(self) -> int:
        return len(self._buffer)

    def peek(self, n: int) -> bytes:
        return bytes(self._buffer[:n])


class ShellV2Reader:
    """Packets of a `shell,v2:` service. A timeout mid-packet loses nothing: call again."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def next_packet(self, deadline: float | None) -> tuple[int, bytes]:
        while self.conn.buffered() < _SHELL_HEADER.size:
            self.conn.fill(deadline)
        packet_id, length = _SHELL_HEADER.unpack(self.conn.peek(_SHELL_HEADER.size))
        while self.conn.buffered() < _SHELL_HEADER.size + length:
            self.conn.fill(deadline)
        self.conn.read_exact(_SHELL_HEADER.size)
        return packet_id, self.conn.read_exact(length)


def run_shell_v2(conn: Connection, command: str, deadline: float) -> tuple[int, bytes, bytes]:
    """(exit code, stdout, stderr) of `command` run with the shell protocol."""
    conn.request(f"shell,v2,raw:{command}")
    reader = ShellV2Reader(conn)
    stdout, stderr = bytearray(), bytearray()
    while True:
        packet_id, data = reader.next_packet(deadline)
        if packet_id == SHELL_STDOUT:
            stdout += data
        elif packet_id == SHELL_STDERR:
            stderr += data
        elif packet_id == SHELL_EXIT:
            return (data[0] if data else 255), bytes(stdout), bytes(stderr)


def run_shell_v1(conn: Connection, command: str, deadline: float, marker: str) -> tuple[int, bytes]:
    """(exit code, output with stderr merged) on an adbd without the shell protocol. v1 carries no exit
    status, so the command runs in a subshell followed by `echo MARKER$?`; each on its own line, so a
    trailing comment, `exit N` or an unclosed quote-free heredoc in `command` cannot swallow the echo."""
    conn.request(f"shell:(\n{command}\n)\necho {marker}$?")
    output = bytearray()
    try:
        while True:
            conn.fill(deadline)
            output += conn.read_exact(conn.buffered())
    except EOFError:
        pass  # v1 ends the output by closing the stream
    at = output.rfind(marker.encode())
    code = output[at + len(marker):].strip() if at >= 0 else b""
    if not code.isdigit():
        raise EOFError(f"the shell's output ended without its exit status ({bytes(output[-200:])!r})")
    return int(code), bytes(output[:at])


def sync_recv(conn: Connection, remote: str, sink: BinaryIO) -> int:
    """Pull one file (`sync:` RECV) into `sink`; the number of bytes. SyncFailure when adbd refuses."""
    conn.request("sync:")
    conn.sock.sendall(_recv_request(remote))
    return _recv_replies(conn, remote, sink)


def _recv_request(remote: str) -> bytes:
    path = remote.encode()
    return _SYNC_HEADER.pack(b"RECV", len(path)) + path


def _recv_replies(conn: Connection, remote: str, sink: BinaryIO) -> int:
    """adbd's answer to a RECV, written to `sink`; the number of bytes. SyncFailure when it refuses."""
    total = 0
    while True:
        kind, length = _SYNC_HEADER.unpack(conn.read_exact(_SYNC_HEADER.size))
        if kind == b"DATA":
            sink.write(conn.read_exact(length))
            total += length
        elif kind == b"DONE":
            return total
        elif kind == b"FAIL":
            raise SyncFailure(conn.read_exact(length).decode(errors="replace"))
        else:
            raise AdbFailure(f"sync RECV {remote}: expected DATA, DONE or FAIL, received {kind!r}")


def sync_stat(conn: Connection, remotes: list[str], *, v2: bool) -> list[tuple[int, int] | None]:
    """(mode, size in bytes) of each path, None where there is none: `sync:` STAT (an lstat; 32-bit
    sizes) or, with the device's stat_v2, STA2 (a stat; 64-bit). All requests go out at once and the
    replies come back in order: one round trip for any number of files, and no process on the device."""
    conn.request("sync:")
    conn.sock.sendall(_stat_requests(remotes, v2=v2))
    return _stat_replies(conn, remotes, v2=v2)


def sync_stat_and_recv(conn: Connection, remotes: list[str], *, v2: bool,
                       recv: str) -> tuple[list[tuple[int, int] | None], bytes | None]:
    """sync_stat() of `remotes` and the content of the file `recv` (None when adbd cannot send it: missing,
    unreadable), all asked in one write: one round trip on one connection. The STATs go first because
    adbd ends the session after a RECV that FAILs."""
    conn.request("sync:")
    conn.sock.sendall(_stat_requests(remotes, v2=v2) + _recv_request(recv))
    found = _stat_replies(conn, remotes, v2=v2)
    content = io.BytesIO()
    try:
        _recv_replies(conn, recv, content)
    except SyncFailure:  # why (no such file) does not matter: the caller treats every refusal alike
        return found, None
    return found, content.getvalue()


def _stat_requests(remotes: list[str], *, v2: bool) -> bytes:
    kind = b"STA2" if v2 else b"STAT"
    return b"".join(_SYNC_HEADER.pack(kind, len(p)) + p for p in (r.encode() for r in remotes))


def _stat_replies(conn: Connection, remotes: list[str], *, v2: bool) -> list[tuple[int, int] | None]:
    kind = b"STA2" if v2 else b"STAT"
    found: list[tuple[int, int] | None] = []
    for remote in remotes:
        if conn.read_exact(4) != kind:
            raise AdbFailure(f"sync {kind.decode()} {remote}: unexpected reply")
        if v2:  # error, dev, ino, mode, nlink, uid, gid, size, atime, mtime, ctime
            error, _dev, _ino, mode, _nlink, _uid, _gid, size = _STAT2.unpack(conn.read_exact(_STAT2.size))[:8]
            found.append(None if error else (mode, size))
        else:  # mode, size, mtime; all zero when the path does not exist
            mode, size, _mtime = _STAT1.unpack(conn.read_exact(_STAT1.size))
            found.append((mode, size) if mode else None)
    return found


def sync_send(conn: Connection, local: Path, remote: str, mode: int, *, sha256: bool = False) -> str | None:
    """Push one file (`sync:` SEND) in full 64 KiB DATA packets; the sha256 of the bytes sent when asked."""
    sender = SyncSender(conn)
    digest = sender.send_file(local, remote, mode, sha256=sha256)
    sender.finish()
    return digest


class SyncSender:
    """SENDs pipelined on one `sync:` session: each file goes out without waiting for adbd's answer, and
    finish() reads the answers, one per SEND, in order. adbd serves the requests one after another and
    ends the session at the first FAIL, so nothing sent after a failed SEND is ever written."""

    def __init__(self, conn: Connection) -> None:
        conn.request("sync:")
        self.conn = conn
        self._unanswered: list[str] = []

    def send_file(self, local: Path, remote: str, mode: int, *, sha256: bool = False) -> str | None:
        """Send `local` in full 64 KiB DATA packets; the sha256 of the bytes sent when asked. The file is
        read once: each 1 MiB block is hashed on a second thread while it is sent (hashlib and sendall
        both release the GIL)."""
        try:  # opened before the SEND: adbd would unlink the device's copy for a file we cannot read
            src = local.open("rb")
        except OSError as exc:
            raise LocalFileError(f"cannot read {local} to push it to {remote}: {exc}") from exc
        with src:
            try:
                self._header(remote, mode)
                digest = _send_data(self.conn.sock, src, sha256=sha256)
                self.conn.sock.sendall(_SYNC_HEADER.pack(b"DONE", int(os.fstat(src.fileno()).st_mtime)))
            except OSError:
                self._raise_answered_failure()  # adbd said why it hung up (disk full, ...), if it did
                raise
        return digest

    def send_bytes(self, data: bytes, remote: str, mode: int, mtime_s: int) -> None:
        """Send a small file held in memory, as one write."""
        try:
            self._header(remote, mode)
            chunks = (data[at:at + SYNC_DATA_MAX] for at in range(0, len(data), SYNC_DATA_MAX))
            self.conn.sock.sendall(b"".join(_SYNC_HEADER.pack(b"DATA", len(c)) + c for c in chunks)
                                   + _SYNC_HEADER.pack(b"DONE", mtime_s))
        except OSError:
            self._raise_answered_failure()
            raise

    def finish(self) -> None:
        """adbd's answer to every SEND: SyncFailure naming the file at the first FAIL."""
        while self._unanswered:
            self._read_answer()

    def _header(self, remote: str, mode: int) -> None:
        target = f"{remote},{0o100000 | mode}".encode()
        self.conn.sock.sendall(_SYNC_HEADER.pack(b"SEND", len(target)) + target)
        self._unanswered.append(remote)

    def _read_answer(self) -> None:
        remote = self._unanswered.pop(0)
        kind, length = _SYNC_HEADER.unpack(self.conn.read_exact(_SYNC_HEADER.size))
        if kind == b"FAIL":
            raise SyncFailure(f"{remote}: {self.conn.read_exact(length).decode(errors='replace')}")
        if kind != b"OKAY":
            raise AdbFailure(f"sync SEND {remote}: expected OKAY or FAIL, received {kind!r}")

    def _raise_answered_failure(self) -> None:
        """After the link refused our bytes: raise the FAIL adbd sent before closing, if one arrived."""
        try:
            self.conn.sock.settimeout(0.2)  # a FAIL sent before the hang-up is already here
            while self._unanswered:
                self._read_answer()
        except SyncFailure:
            raise
        except (OSError, EOFError, AdbFailure):
            pass  # no FAIL to tell: the caller re-raises the link's own error


def _send_data(sock: socket.socket, src: BinaryIO, *, sha256: bool) -> str | None:
    """Write the open file `src` as DATA packets, blocks of 16 laid out header+payload in place, sent in one
    sendall; with `sha256`, hash each block on a second thread while the next one is read and sent."""
    digest = hashlib.sha256() if sha256 else None
    stride = _SYNC_HEADER.size + SYNC_DATA_MAX
    # Two buffers of packets: read into one while the other is hashed.
    buffers = [bytearray(stride * _BLOCK_PACKETS) for _ in range(2)]
    pending: list[Future[None] | None] = [None, None]
    hasher = ThreadPoolExecutor(1, thread_name_prefix="push-sha256") if digest else None
    try:
        for turn in itertools.count():
            slot = turn % 2
            if (previous := pending[slot]) is not None:
                previous.result()  # the hasher is done with this buffer
            spans = _read_block(src, memoryview(buffers[slot]))
            if not spans:
                break
            if hasher is not None and digest is not None:
                pending[slot] = hasher.submit(_update_all, digest, spans)
            end = spans[-1].nbytes + (len(spans) - 1) * stride + _SYNC_HEADER.size
            sock.sendall(memoryview(buffers[slot])[:end])
        for future in pending:
            if future is not None:
                future.result()
    finally:
        if hasher is not None:
            hasher.shutdown(cancel_futures=True)
    return digest.hexdigest() if digest else None


def _read_block(src: BinaryIO, view: memoryview) -> list[memoryview]:
    """Fill `view` with DATA packets (header, then up to 64 KiB read from `src`); their payloads. A short
    read ends the block, so packets stay back to back and the block goes out in one sendall."""
    stride = _SYNC_HEADER.size + SYNC_DATA_MAX
    spans: list[memoryview] = []
    for packet in range(_BLOCK_PACKETS):
        start = packet * stride
        payload = view[start + _SYNC_HEADER.size:start + stride]
        n = src.readinto(payload)  # type: ignore[attr-defined]
        if not n:
            break
        _SYNC_HEADER.pack_into(view, start, b"DATA", n)
        spans.append(payload[:n])
        if n < SYNC_DATA_MAX:
            break
    return spans


def _update_all(digest: hashlib._Hash, spans: list[memoryview]) -> None:
    for span in spans:
        digest.update(span)
