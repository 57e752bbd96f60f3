"""The adb transport: framing, CNXN handshake, OPEN refusal, flow control (one WRTE in flight)."""
from __future__ import annotations

import asyncio
import socket
from typing import Awaitable, Callable

import pytest

from edgebench.virtual import adb_protocol as p


def test_packet_round_trip_and_magic() -> None:
    packet = p.Packet(p.A_WRTE, 5, 9, b"hello")
    raw = p.encode(packet)
    command, arg0, arg1, length, check, magic = p.HEADER.unpack(raw[:24])
    assert (command, arg0, arg1, length, check, magic) == (p.A_WRTE, 5, 9, 5, sum(b"hello"), p.A_WRTE ^ 0xFFFFFFFF)
    assert p.HEADER.unpack(p.encode(packet, with_checksum=False)[:24])[4] == 0

    async def decode(data: bytes) -> p.Packet:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        return await p.read_packet(reader, max_payload=4096, verify_checksum=True)

    assert asyncio.run(decode(raw)) == packet
    bad_magic = raw[:20] + b"\0\0\0\0" + raw[24:]
    with pytest.raises(p.ProtocolError, match="bad magic"):
        asyncio.run(decode(bad_magic))
    bad_sum = raw[:16] + (1).to_bytes(4, "little") + raw[20:]
    with pytest.raises(p.ProtocolError, match="checksum"):
        asyncio.run(decode(bad_sum))


def test_banner_lists_identity_props_and_only_implemented_features() -> None:
    text = p.banner({"ro.product.name": "shiba", "ro.product.model": "Pixel 8", "ro.product.device": "shiba"}).decode()
    assert text == ("device::ro.product.name=shiba;ro.product.model=Pixel 8;ro.product.device=shiba;"
                    "features=shell_v2,stat_v2,ls_v2,fixed_push_mkdir,fixed_push_symlink_timestamp")
    assert "sendrecv_v2" not in text  # not implemented, so never advertised: clients fall back to v1


class Host:
    """Plays the adb server's side of one connection to an AdbTransport."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    def send(self, command: int, arg0: int, arg1: int, payload: bytes = b"") -> None:
        self.writer.write(p.encode(p.Packet(command, arg0, arg1, payload)))

    async def recv(self, timeout: float = 2.0) -> p.Packet:
        return await asyncio.wait_for(p.read_packet(self.reader, max_payload=p.MAX_PAYLOAD, verify_checksum=True), timeout)

    async def nothing_for(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self.reader.readexactly(1), seconds)
        except asyncio.TimeoutError:
            return True
        return False


class Services:
    def __init__(self, handlers: dict[str, Callable[[p.Stream], Awaitable[None]]]) -> None:
        self.handlers = handlers

    def banner(self) -> bytes:
        return b"device::features=shell_v2"

    def open_service(self, name: str):  # type: ignore[no-untyped-def]
        return self.handlers.get(name)


async def connected(services: Services) -> tuple[Host, asyncio.Task[None]]:
    a, b = socket.socketpair()
    host = Host(*await asyncio.open_connection(sock=a))
    dev_reader, dev_writer = await asyncio.open_connection(sock=b)
    task = asyncio.get_running_loop().create_task(p.AdbTransport(dev_reader, dev_writer, services).run())
    return host, task


def run(coro_fn: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(coro_fn(), 10))


def test_cnxn_reply_negotiates_version_and_payload() -> None:
    async def body() -> None:
        host, task = await connected(Services({}))
        host.send(p.A_CNXN, 0x01000001, 256 * 1024, b"host::\0")
        reply = await host.recv()
        assert (reply.command, reply.arg0, reply.arg1) == (p.A_CNXN, 0x01000001, 256 * 1024)
        assert reply.payload == b"device::features=shell_v2"
        # An old peer (no checksum skipping) gets checksummed packets and its own version back.
        host.send(p.A_CNXN, 0x01000000, 4096, b"host::\0")
        reply = await host.recv()
        assert (reply.arg0, reply.arg1) == (0x01000000, 4096)
        task.cancel()

    run(body)


def test_unknown_service_is_refused_with_clse() -> None:
    async def body() -> None:
        host, task = await connected(Services({}))
        host.send(p.A_CNXN, 0x01000001, 4096, b"host::\0")
        await host.recv()
        host.send(p.A_OPEN, 77, 0, b"framebuffer:\0")
        reply = await host.recv()
        assert (reply.command, reply.arg0, reply.arg1) == (p.A_CLSE, 0, 77)
        task.cancel()

    run(body)


def test_one_wrte_in_flight_and_okay_after_consuming() -> None:
    received: list[bytes] = []

    async def echo_big(stream: p.Stream) -> None:
        data = await stream.read()
        assert data is not None
        received.append(data)
        await stream.write(b"x" * 10000)  # 3 WRTEs at a 4096-byte max payload

    async def body() -> None:
        host, task = await connected(Services({"echo:": echo_big}))
        host.send(p.A_CNXN, 0x01000001, 4096, b"host::\0")
        await host.recv()
        host.send(p.A_OPEN, 5, 0, b"echo:\0")
        okay = await host.recv()
        assert (okay.command, okay.arg1) == (p.A_OKAY, 5)
        local = okay.arg0
        host.send(p.A_WRTE, 5, local, b"ping")
        ack = await host.recv()
        assert (ack.command, ack.arg0, ack.arg1) == (p.A_OKAY, local, 5)
        sizes = []
        for _ in range(3):
            wrte = await host.recv()
            assert wrte.command == p.A_WRTE
            sizes.append(len(wrte.payload))
            # The device must wait for our OKAY before sending more on this stream.
            assert await host.nothing_for(0.15)
            host.send(p.A_OKAY, 5, local)
        assert sizes == [4096, 4096, 10000 - 8192]
        close = await host.recv()
        assert (close.command, close.arg0, close.arg1) == (p.A_CLSE, local, 5)
        assert received == [b"ping"]
        task.cancel()

    run(body)


async def opened(services: Services, name: bytes, remote: int = 5) -> tuple[Host, asyncio.Task[None], int]:
    host, task = await connected(services)
    host.send(p.A_CNXN, 0x01000001, 4096, b"host::\0")
    await host.recv()
    host.send(p.A_OPEN, remote, 0, name + b"\0")
    okay = await host.recv()
    assert (okay.command, okay.arg1) == (p.A_OKAY, remote)
    return host, task, okay.arg0


async def wait_forever(stream: p.Stream) -> None:
    while await stream.read() is not None:
        pass


def test_host_clse_is_answered_with_clse_once() -> None:
    """adbd's local socket close shuts its remote peer down: the host's CLSE gets a CLSE back
    (adb-shell waits for it after every sync command); a CLSE for a forgotten stream gets nothing."""
    async def body() -> None:
        host, task, local = await opened(Services({"sync:": wait_forever}), b"sync:")
        host.send(p.A_CLSE, 5, local)
        reply = await host.recv()
        assert (reply.command, reply.arg0, reply.arg1) == (p.A_CLSE, local, 5)
        host.send(p.A_CLSE, 5, local)  # as adb-shell does after a device-side close
        assert await host.nothing_for(0.2)
        task.cancel()

    run(body)


def test_packets_for_unknown_streams_or_other_peers_are_ignored() -> None:
    async def body() -> None:
        host, task, local = await opened(Services({"sync:": wait_forever}), b"sync:")
        host.send(p.A_WRTE, 9, 4242, b"late data")  # no such stream: adbd stays silent
        assert await host.nothing_for(0.2)
        host.send(p.A_WRTE, 6, local, b"not from this stream's peer")
        host.send(p.A_CLSE, 6, local)
        assert await host.nothing_for(0.2)
        host.send(p.A_OPEN, 0, 0, b"sync:\0")  # local-id 0 is not a valid OPEN
        assert await host.nothing_for(0.2)
        host.send(p.A_WRTE, 5, local, b"x")
        ack = await host.recv()
        assert (ack.command, ack.arg0, ack.arg1) == (p.A_OKAY, local, 5)
        task.cancel()

    run(body)


def test_connecting_service_answers_okay_after_connect_and_clse_when_it_fails() -> None:
    async def echo(stream: p.Stream) -> None:
        data = await stream.read()
        await stream.write(b"echo:" + (data or b""))

    async def reach() -> p.Connected | None:
        await asyncio.sleep(0.05)
        return p.Connected(echo, lambda: None)

    async def unreachable() -> p.Connected | None:
        return None

    services = Services({"tcp:1": p.Connecting(reach), "tcp:2": p.Connecting(unreachable)})  # type: ignore[dict-item]

    async def body() -> None:
        host, task, local = await opened(services, b"tcp:1")
        host.send(p.A_WRTE, 5, local, b"hi")
        assert (await host.recv()).command == p.A_OKAY
        data = await host.recv()
        assert (data.command, data.payload) == (p.A_WRTE, b"echo:hi")
        host.send(p.A_OPEN, 7, 0, b"tcp:2\0")
        refused = await host.recv()
        assert (refused.command, refused.arg0, refused.arg1) == (p.A_CLSE, 0, 7)
        task.cancel()

    run(body)


def test_device_opened_stream_waits_for_the_hosts_okay_and_carries_data_both_ways() -> None:
    holder: list[p.AdbTransport] = []

    async def body() -> None:
        a, b = socket.socketpair()
        host = Host(*await asyncio.open_connection(sock=a))
        transport = p.AdbTransport(*await asyncio.open_connection(sock=b), Services({}))
        holder.append(transport)
        task = asyncio.get_running_loop().create_task(transport.run())
        host.send(p.A_CNXN, 0x01000001, 4096, b"host::\0")
        await host.recv()
        opening = asyncio.get_running_loop().create_task(transport.open_stream("tcp:8080"))
        open_packet = await host.recv()
        assert (open_packet.command, open_packet.arg1, open_packet.payload) == (p.A_OPEN, 0, b"tcp:8080\0")
        device_id = open_packet.arg0
        host.send(p.A_OKAY, 31, device_id)
        stream = await opening
        assert stream is not None and stream.remote_id == 31
        writer = asyncio.get_running_loop().create_task(stream.write(b"from device"))
        wrte = await host.recv()
        assert (wrte.command, wrte.arg0, wrte.arg1, wrte.payload) == (p.A_WRTE, device_id, 31, b"from device")
        host.send(p.A_OKAY, 31, device_id)
        await writer
        host.send(p.A_WRTE, 31, device_id, b"from host")
        assert await stream.read() == b"from host"
        # A refused OPEN (CLSE(0, id)) gives None.
        refusing = asyncio.get_running_loop().create_task(transport.open_stream("tcp:9"))
        refused_open = await host.recv()
        while refused_open.command != p.A_OPEN:
            refused_open = await host.recv()
        host.send(p.A_CLSE, 0, refused_open.arg0)
        assert await refusing is None
        task.cancel()

    run(body)
