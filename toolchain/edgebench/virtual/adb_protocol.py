"""The device side of the adb transport protocol (packets, CNXN handshake, streams), asyncio only.

Written from AOSP's protocol.txt (packets: adb_wire.py; a stream's reads and writes: adb_stream.py). The
adb server opens streams with OPEN("service:args"); we answer OKAY(local, remote) or CLSE(0, remote).
Data flows in WRTE packets and each WRTE must be acknowledged with OKAY before the next one is sent
on that stream (one WRTE in flight per stream, both directions). Stream lifecycle as adbd's
handle_packet: a CLSE for an open stream is answered with our own CLSE (pure-protocol clients such
as adb-shell wait for it); WRTE/OKAY/CLSE for unknown streams, or naming another peer id, are
ignored. The device also opens streams itself (`adb reverse`): OPEN(id, 0, "tcp:PORT"), the host's
first OKAY names its end. No AUTH by default: a TCP device that answers CNXN directly is accepted
by `adb connect`.

A `LinkPolicy` (faults.LinkFaults) may change how the link behaves: `handshake()` says whether a
CNXN is answered with CNXN ("device"), with AUTH TOKEN and refused signatures ("unauthorized": the
server offers its keys, sends its public key and waits for the user, showing the device as
unauthorized) or not at all ("offline"); `count()` sees every byte; `pace()` slows transfers. An
`AuthPolicy` (adb_auth.AdbKeys, `--auth`) makes a "device" link require a signature from a known
host key; an offered public key waits for `user_allows()`.

What runs behind a stream is decided by a `ServiceHost` (the virtual device): it maps a service
name to a coroutine that talks through a `Stream`.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from typing import Any, Coroutine, Protocol

from edgebench.virtual.adb_stream import Connected, Connecting, ServiceHandler, Stream, StreamClosed
from edgebench.virtual.adb_wire import (
    A_AUTH,
    A_CLSE,
    A_CNXN,
    A_OKAY,
    A_OPEN,
    A_STLS,
    A_SYNC,
    A_VERSION,
    A_VERSION_MIN,
    A_VERSION_SKIP_CHECKSUM,
    A_WRTE,
    ADB_AUTH_RSAPUBLICKEY,
    ADB_AUTH_SIGNATURE,
    ADB_AUTH_TOKEN,
    COMMAND_NAMES,
    FEATURES,
    HEADER,
    MAX_PAYLOAD,
    MAX_PAYLOAD_V1,
    TOKEN_SIZE,
    Packet,
    ProtocolError,
    banner,
    checksum,
    encode,
    read_packet,
)

# What the rest of the package (and the tests) import from here: the transport plus the wire and stream types.
__all__ = [
    "A_AUTH", "A_CLSE", "A_CNXN", "A_OKAY", "A_OPEN", "A_STLS", "A_SYNC", "A_VERSION", "A_VERSION_MIN",
    "A_VERSION_SKIP_CHECKSUM", "A_WRTE", "ADB_AUTH_RSAPUBLICKEY", "ADB_AUTH_SIGNATURE", "ADB_AUTH_TOKEN",
    "COMMAND_NAMES", "FEATURES", "HEADER", "MAX_PAYLOAD", "MAX_PAYLOAD_V1", "TOKEN_SIZE", "Packet", "ProtocolError",
    "banner", "checksum", "encode", "read_packet", "Connected", "Connecting", "ServiceHandler", "Stream",
    "StreamClosed", "ServiceHost", "AuthPolicy", "LinkPolicy", "AdbTransport",
]

log = logging.getLogger(__name__)


class ServiceHost(Protocol):
    def banner(self) -> bytes: ...
    def open_service(self, name: str) -> ServiceHandler | Connecting | None: ...


class AuthPolicy(Protocol):
    """The device requires adb's RSA authentication (adb_auth.AdbKeys)."""
    def verify(self, token: bytes, signature: bytes) -> bool: ...
    def remember(self, public_key: bytes) -> None: ...


class LinkPolicy(Protocol):
    def handshake(self) -> str: ...  # device | unauthorized | offline
    def count(self, n: int) -> None: ...
    async def pace(self, direction: str, n: int) -> None: ...


_unnamed = itertools.count(1)


def _connection_name(writer: asyncio.StreamWriter) -> str:
    """adbd's name for a TCP host connection, "host-<fd>": unique among live connections, as fds are.
    (`adb reverse --list` shows it.) A connection without a socket gets a number of its own."""
    sock = writer.get_extra_info("socket")
    fd = sock.fileno() if sock is not None else -1
    return f"host-{fd}" if fd >= 0 else f"host-unnamed-{next(_unnamed)}"


class AdbTransport:
    """One connection from an adb server: handshake, then multiplex streams until EOF."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: ServiceHost,
                 link: LinkPolicy | None = None, auth: AuthPolicy | None = None) -> None:
        self.reader = reader
        self.writer = writer
        self.host = host
        self.link = link
        self.auth = auth
        self.token = b""  # the last AUTH TOKEN we sent
        self.offered_key: bytes | None = None  # RSAPUBLICKEY waiting for the user (auth only)
        self.pending_cnxn = False  # a CNXN we have not answered yet (unauthorized/offline)
        self.version = A_VERSION
        self.max_payload = MAX_PAYLOAD_V1
        self.streams: dict[int, Stream] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self._next_id = 1
        self.connected = False
        self.name = _connection_name(writer)
        self.session = 0  # counts teardowns: a connect that outlives its session must not serve

    def send(self, packet: Packet) -> None:
        if self.writer.is_closing():
            return
        data = encode(packet, with_checksum=self.version < A_VERSION_SKIP_CHECKSUM)
        self.writer.write(data)
        if self.link is not None:
            self.link.count(len(data))

    async def pace(self, n: int) -> None:
        if self.link is not None:
            await self.link.pace("out", n)

    def user_allows(self) -> None:
        """The user answered "Allow USB debugging?" (or the device woke up): with authentication,
        the offered host key is remembered; a held CNXN is answered."""
        if self.auth is not None and self.pending_cnxn:
            if self.offered_key is None:
                return  # no key offered yet: there is no dialog to answer
            self.auth.remember(self.offered_key)
            self.offered_key = None
        self.complete_handshake()

    def complete_handshake(self) -> None:
        """Answer a CNXN held back while the device was unauthorized or offline."""
        if self.pending_cnxn and not self.writer.is_closing():
            self.pending_cnxn = False
            self.send(Packet(A_CNXN, self.version, self.max_payload, self.host.banner()))
            self.connected = True

    def forget(self, stream: Stream) -> None:
        self.streams.pop(stream.local_id, None)

    async def run(self) -> None:
        peer = self.writer.get_extra_info("peername")
        try:
            while True:
                packet = await read_packet(self.reader, max_payload=self.max_payload,
                                           verify_checksum=self.version < A_VERSION_SKIP_CHECKSUM)
                if self.link is not None:
                    self.link.count(HEADER.size + len(packet.payload))
                    await self.link.pace("in", HEADER.size + len(packet.payload))
                self._dispatch(packet)
                await self.writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            log.info("adb peer %s disconnected", peer)
        except ProtocolError as exc:
            log.warning("dropping adb peer %s: %s", peer, exc)
        finally:
            self._teardown()
            self.writer.close()

    def _teardown(self) -> None:
        self.session += 1
        for stream in list(self.streams.values()):
            stream._on_close()
        self.streams.clear()
        for task in list(self.tasks):
            task.cancel()

    def _dispatch(self, packet: Packet) -> None:
        if packet.command == A_CNXN:
            self._teardown()  # a new CNXN restarts the session
            self.version = min(packet.arg0, A_VERSION)
            if self.version < A_VERSION_MIN:
                raise ProtocolError(f"peer speaks adb protocol version {packet.arg0:#x}, older than {A_VERSION_MIN:#x}")
            self.max_payload = max(MAX_PAYLOAD_V1, min(packet.arg1, MAX_PAYLOAD))
            self.connected = False
            self.pending_cnxn = True
            self.offered_key = None
            mode = self.link.handshake() if self.link is not None else "device"
            if mode == "device" and self.auth is None:
                self.complete_handshake()
            elif mode != "offline":
                self._send_auth_token()
            return  # offline: the CNXN stays unanswered
        if packet.command == A_AUTH and not self.connected:
            self._on_auth(packet)
            return
        if not self.connected:
            log.debug("ignoring %s before CNXN", packet.name)
            return
        if packet.command == A_OPEN:
            self._open(packet)
        elif packet.command == A_WRTE:
            # Late data for a stream already closed is ignored (protocol.txt; adbd sends nothing).
            stream = self._find(packet.arg1, packet.arg0)
            if stream is not None and packet.arg0 != 0:
                stream._on_write(packet.payload)
        elif packet.command == A_OKAY:
            stream = self._find(packet.arg1, packet.arg0)
            if stream is not None and packet.arg0 != 0:
                stream._on_okay(packet.arg0)
        elif packet.command == A_CLSE:
            # CLSE(0, id) is what old servers send for a normal close too: accepted, as adbd does.
            stream = self._find(packet.arg1, packet.arg0)
            if stream is not None:
                self.streams.pop(stream.local_id, None)
                stream._on_close()
                if stream.remote_id:
                    # adbd answers with its own CLSE while the stream was still open: closing its
                    # local socket shuts the remote side down. Clients (adb-shell, dadb) wait for it.
                    self.send(Packet(A_CLSE, stream.local_id, stream.remote_id))
        else:
            log.debug("ignoring %s", packet.name)

    def _find(self, local_id: int, remote_id: int) -> Stream | None:
        """The stream `local_id` if `remote_id` is its peer (or 0, or the peer is not known yet), as
        adbd's find_local_socket: a packet naming another peer's id is not for this stream."""
        stream = self.streams.get(local_id)
        if stream is None or (remote_id and stream.remote_id and remote_id != stream.remote_id):
            return None
        return stream

    def _on_auth(self, packet: Packet) -> None:
        mode = self.link.handshake() if self.link is not None else "device"
        if not self.pending_cnxn or mode == "offline":
            return
        if self.auth is None:
            if mode == "device":
                self.complete_handshake()  # an injected "unauthorized" was lifted: the key is accepted
            elif packet.arg0 == ADB_AUTH_SIGNATURE:
                self._send_auth_token()  # signature refused: ask for the next key
            # ADB_AUTH_RSAPUBLICKEY: the "Allow USB debugging?" dialog waits for a user who never comes
            return
        if packet.arg0 == ADB_AUTH_SIGNATURE:
            if mode == "device" and self.token and self.auth.verify(self.token, packet.payload):
                self.complete_handshake()
            else:
                self._send_auth_token()  # a new token: the host tries its next key
        elif packet.arg0 == ADB_AUTH_RSAPUBLICKEY:
            self.offered_key = packet.payload  # the dialog is up; user_allows() answers it
        else:
            raise ProtocolError(f"AUTH of unknown type {packet.arg0}")

    def _send_auth_token(self) -> None:
        self.token = secrets.token_bytes(TOKEN_SIZE)
        self.send(Packet(A_AUTH, ADB_AUTH_TOKEN, 0, self.token))

    def _new_id(self) -> int:
        local_id = self._next_id
        self._next_id = (self._next_id % 0x7FFFFFFF) + 1
        return local_id

    def _open(self, packet: Packet) -> None:
        remote_id = packet.arg0
        if remote_id == 0 or packet.arg1 != 0:
            log.debug("ignoring OPEN(%d, %d): not a valid open", packet.arg0, packet.arg1)
            return
        name = packet.payload.split(b"\0", 1)[0].decode("utf-8", "replace")
        service = self.host.open_service(name)
        if service is None:
            log.info("refusing service %r", name)
            self.send(Packet(A_CLSE, 0, remote_id))
            return
        if isinstance(service, Connecting):
            self._spawn(self._connect_then_serve(remote_id, name, service))
            return
        stream = Stream(self, self._new_id(), remote_id, name)
        self.streams[stream.local_id] = stream
        self.send(Packet(A_OKAY, stream.local_id, remote_id))
        self._spawn(self._serve(stream, service))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _connect_then_serve(self, remote_id: int, name: str, service: Connecting) -> None:
        session = self.session
        try:
            connected = await service.connect()
        except Exception:  # a broken connector must not take the device down
            log.exception("service %r failed to connect", name)
            connected = None
        if connected is None:
            log.info("service %r: nothing to connect to; closing", name)
            self.send(Packet(A_CLSE, 0, remote_id))
            return
        try:
            if self.writer.is_closing() or self.session != session:
                # The connection (or its session) ended while connecting and the cancellation was lost
                # (3.11's wait_for returns a result that is ready when it is cancelled): nobody to serve.
                log.info("service %r: connected after the host left; closing", name)
                return
            stream = Stream(self, self._new_id(), remote_id, name)
            self.streams[stream.local_id] = stream
            self.send(Packet(A_OKAY, stream.local_id, remote_id))
            await self._serve(stream, connected.serve)
        finally:
            connected.release()  # idempotent: whatever serve did not get to close

    async def open_stream(self, destination: str, *, timeout_s: float = 10.0) -> Stream | None:
        """Open a stream towards the host (`adb reverse`: OPEN(id, 0, "tcp:PORT")); None when the
        host refuses it (CLSE) or does not answer within `timeout_s`."""
        if not self.connected:
            return None
        stream = Stream(self, self._new_id(), 0, destination)
        self.streams[stream.local_id] = stream
        self.send(Packet(A_OPEN, stream.local_id, 0, destination.encode() + b"\0"))
        try:
            await asyncio.wait_for(stream._opened.wait(), timeout_s)
        except asyncio.TimeoutError:
            pass
        if stream.closed or not stream.remote_id:
            stream.closed = True
            self.forget(stream)
            return None
        return stream

    async def _serve(self, stream: Stream, handler: ServiceHandler) -> None:
        try:
            await handler(stream)
        except StreamClosed:
            pass
        except asyncio.CancelledError:
            raise
        except Exception:  # a broken service must not take the device down
            log.exception("service %r failed", stream.service)
        finally:
            await stream.close()
