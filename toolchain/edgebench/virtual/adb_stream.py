"""One adb stream as a service sees it: read what the host writes, write back, close.

Flow control as protocol.txt: one WRTE in flight per stream and direction; what the host wrote is
acknowledged (OKAY) only once the service has consumed it. A stream the host opened may be written
at once; one the device opened (`AdbTransport.open_stream`) waits for the host's first OKAY.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Awaitable, Callable, Protocol

from edgebench.virtual.adb_wire import A_CLSE, A_OKAY, A_WRTE, Packet


class StreamTransport(Protocol):
    """What a stream needs of the connection that owns it (adb_protocol.AdbTransport): described here so
    this module does not import the transport, which imports it."""

    max_payload: int

    def send(self, packet: Packet) -> None: ...

    async def pace(self, n: int) -> None: ...

    def forget(self, stream: Stream) -> None: ...


class StreamClosed(Exception):
    """The other end closed the stream (or the connection went away)."""


class Stream:
    """One adb stream as seen by a service: read what the host writes, write back, close."""

    def __init__(self, transport: StreamTransport, local_id: int, remote_id: int, service: str) -> None:
        self.transport = transport
        self.local_id = local_id
        self.remote_id = remote_id
        self.service = service
        self._incoming: asyncio.Queue[bytes | None] = asyncio.Queue()
        # A stream the host opened may be written at once (our OKAY answered its OPEN, which implies
        # its READY); one we opened waits for the host's first OKAY, which also names its end.
        self._acked = asyncio.Event()
        self._opened = asyncio.Event()
        if remote_id:
            self._acked.set()
            self._opened.set()
        self._write_lock = asyncio.Lock()
        self.closed = False  # by either side

    @property
    def max_payload(self) -> int:
        return self.transport.max_payload

    async def read(self) -> bytes | None:
        """Next chunk the host wrote, or None once the host closed the stream."""
        if self.closed and self._incoming.empty():
            return None
        data = await self._incoming.get()
        if data is None:
            return None
        # Acknowledge only once the data is consumed: that is the protocol's back-pressure.
        if not self.closed:
            self.transport.send(Packet(A_OKAY, self.local_id, self.remote_id))
        return data

    async def write(self, data: bytes) -> None:
        """Send `data` in WRTE packets of at most max_payload bytes, one unacknowledged at a time."""
        async with self._write_lock:
            view = memoryview(data)
            while view:
                if self.closed:
                    raise StreamClosed(self.service)
                await self._acked.wait()
                if self.closed:
                    raise StreamClosed(self.service)
                chunk, view = view[: self.max_payload], view[self.max_payload:]
                await self.transport.pace(len(chunk))
                if self.closed:
                    raise StreamClosed(self.service)
                self._acked.clear()
                self.transport.send(Packet(A_WRTE, self.local_id, self.remote_id, bytes(chunk)))
            await self._acked.wait()  # return only when the host has taken all of it

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.remote_id:
                self.transport.send(Packet(A_CLSE, self.local_id, self.remote_id))
            self._release()
        self.transport.forget(self)

    # Called by the transport.
    def _on_write(self, payload: bytes) -> None:
        if not self.closed:
            self._incoming.put_nowait(payload)

    def _on_okay(self, remote_id: int) -> None:
        if not self.remote_id:  # the first READY of a stream we opened names the peer's end
            self.remote_id = remote_id
            self._opened.set()
        self._acked.set()

    def _on_close(self) -> None:
        self.closed = True
        self._release()

    def _release(self) -> None:
        self._acked.set()
        self._opened.set()
        self._incoming.put_nowait(None)


ServiceHandler = Callable[[Stream], Awaitable[None]]


@dataclass(frozen=True)
class Connected:
    """What a `Connecting` service reached: `serve` runs it on the opened stream (and closes what it
    holds when done); `release` closes it too, idempotently, for when the stream never gets served."""
    serve: ServiceHandler
    release: Callable[[], None]


@dataclass(frozen=True)
class Connecting:
    """A service that must reach something first (`tcp:`, `localabstract:`): the OPEN is answered
    with OKAY once `connect()` returns, with CLSE when it returns None, as adbd does when its connect
    fails. `connect()` closes what it opened if it is cancelled."""
    connect: Callable[[], Awaitable[Connected | None]]
