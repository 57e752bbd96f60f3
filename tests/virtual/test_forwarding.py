"""Reverse-forward bookkeeping and socket specs, with host sockets standing in for the device's namespace."""
from __future__ import annotations

import asyncio
import gc
import os
import re
import socket
import warnings

import pytest

from edgebench.virtual import adb_protocol as p
from edgebench.virtual.adb_stream import Connecting
from edgebench.virtual.forwarding import (
    AbstractSpec,
    Forwarding,
    SpecError,
    TcpSpec,
    connect_addresses,
    listen_address,
    parse_spec,
)


class HostSockets:
    """DeviceSockets' interface on the host's own namespace (the namespace itself is tested end to end)."""

    def socket(self, family: int, kind: int = socket.SOCK_STREAM) -> socket.socket:
        made = socket.socket(family, kind)
        made.setblocking(False)
        return made


def test_socket_specs_as_adbd_names_them() -> None:
    assert parse_spec("tcp:8080") == TcpSpec("", 8080, "tcp:8080")
    assert parse_spec("tcp:localhost:8080") == TcpSpec("localhost", 8080, "tcp:localhost:8080")  # HOST:PORT
    assert parse_spec("tcp:[::1]:8080").port == 8080 and parse_spec("tcp:[::1]:8080").host == "::1"
    assert parse_spec("tcp:localhost").port == 5555  # ParseNetAddress's default: adb's own port
    assert parse_spec("localabstract:chrome_devtools") == AbstractSpec(b"\0chrome_devtools", "localabstract:chrome_devtools")
    for bad, reason in (("tcp:70000", "bad port number '70000'"), ("tcp:localhost:x", "bad port number 'x' in 'localhost:x'"),
                        ("tcp::80", "no host in ':80'"), ("tcp:[::1", "bad IPv6 address '\\[::1'"),
                        ("localfilesystem:/x", "unknown socket specification 'localfilesystem:/x'")):
        with pytest.raises(SpecError, match=reason):
            parse_spec(bad)
    # adbd connects to its own loopback only (127.0.0.1, then ::1), never to another host.
    assert connect_addresses(parse_spec("tcp:localhost:8080")) == [(socket.AF_INET, ("127.0.0.1", 8080)),
                                                                    (socket.AF_INET6, ("::1", 8080))]
    with pytest.raises(SpecError, match="adbd does not support arbitrary tcp connections"):
        connect_addresses(parse_spec("tcp:10.0.0.2:8080"))
    forwarding = Forwarding(lambda: None)
    assert forwarding.open_service("jdwp:123") is None and forwarding.open_service("tcp:10.0.0.2:80") is None
    assert isinstance(forwarding.open_service("tcp:localhost:8080"), Connecting)


def test_a_forward_to_tcp_localhost_port_carries_data() -> None:
    """`adb forward tcp:X tcp:localhost:PORT` (the form adbd documents): the device connects to PORT."""
    forwarding = Forwarding(lambda: HostSockets())  # type: ignore[arg-type, return-value]

    async def body() -> None:
        async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"hello " + await reader.read(100))
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(greet, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        service = forwarding.open_service(f"tcp:localhost:{port}")
        assert isinstance(service, Connecting)
        connected = await service.connect()
        assert connected is not None
        connected.release()
        server.close()

    asyncio.run(asyncio.wait_for(body(), 10))


def test_reverse_tcp_listeners_bind_where_adbd_binds() -> None:
    """A bare port listens on INADDR_ANY (all the device's own addresses, as adbd's socket_spec_listen),
    `localhost` on 127.0.0.1, `::1` on IPv6 loopback; other hosts are refused."""
    assert listen_address(parse_spec("tcp:8080")) == (socket.AF_INET, ("0.0.0.0", 8080))
    assert listen_address(parse_spec("tcp:localhost:8080")) == (socket.AF_INET, ("127.0.0.1", 8080))
    assert listen_address(parse_spec("tcp:[::1]:8080")) == (socket.AF_INET6, ("::1", 8080))
    with pytest.raises(SpecError, match="listening on specified hostname currently unsupported"):
        listen_address(parse_spec("tcp:10.0.0.2:8080"))


async def host_connection(forwarding: Forwarding) -> tuple[p.AdbTransport, socket.socket]:
    """A transport over a real socket, as the device accepts it; (transport, the host's end)."""
    ours, theirs = socket.socketpair()
    transport = p.AdbTransport(*await asyncio.open_connection(sock=theirs), ForwardingHost(forwarding))  # type: ignore[arg-type]
    return transport, ours


def test_reverse_answers_list_and_listeners_end_with_their_connection() -> None:
    forwarding = Forwarding(lambda: HostSockets())  # type: ignore[arg-type, return-value]

    async def body() -> None:
        (one, one_end), (two, two_end) = await host_connection(forwarding), await host_connection(forwarding)
        answer = forwarding._reverse_answer
        assert (await answer(one, "forward:tcp:0;tcp:9000"))[:4] == b"OKAY"
        (local,) = forwarding.listeners
        port = int(local.split(":")[1])
        reply = await answer(one, "forward:tcp:0;tcp:9000")
        assert reply[:4] == b"OKAY" and int(reply[8:]) != port  # tcp:0 picks a new port each time
        assert await answer(two, f"forward:norebind:{local};tcp:1") == b"FAIL" + b"001dcannot rebind existing socket"
        assert await answer(two, f"forward:{local};tcp:9001") == b"OKAY"
        assert forwarding.listeners[local].remote == "tcp:9001"
        assert (await answer(one, "forward:tcp:1")).startswith(b"FAIL")
        assert (await answer(one, "killforward:tcp:1")) == b"FAIL" + b"001alistener 'tcp:1' not found"
        listing = (await answer(one, "list-forward")).decode()
        assert int(listing[:4], 16) == len(listing) - 4
        assert re.fullmatch(rf"host-\d+ {local} tcp:9001\n", listing[4:].splitlines(keepends=True)[0])
        forwarding.drop(two)  # that connection went away: its listener closes
        assert local not in forwarding.listeners
        await asyncio.sleep(0.05)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        assert await answer(one, "killforward-all") == b"OKAY"
        assert forwarding.listeners == {} and await answer(one, "list-forward") == b"0000"
        for transport, end in ((one, one_end), (two, two_end)):
            transport.writer.close()
            end.close()

    asyncio.run(asyncio.wait_for(body(), 10))


def test_reverse_listing_names_each_live_connection_uniquely() -> None:
    """adbd lists a reverse forward under its connection's name, `host-<fd>`: two live connections
    never share a name, also after an earlier connection went away."""
    forwarding = Forwarding(lambda: HostSockets())  # type: ignore[arg-type, return-value]

    async def body() -> None:
        first, first_end = await host_connection(forwarding)
        second, second_end = await host_connection(forwarding)
        assert (await forwarding._reverse_answer(first, "forward:tcp:0;tcp:9001"))[:4] == b"OKAY"
        assert (await forwarding._reverse_answer(second, "forward:tcp:0;tcp:9002"))[:4] == b"OKAY"
        listing = (await forwarding._reverse_answer(second, "list-forward"))[4:].decode()
        assert len({line.split()[0] for line in listing.splitlines()}) == 2, listing
        forwarding.drop(first)
        first.writer.close()
        first_end.close()
        third, third_end = await host_connection(forwarding)
        assert (await forwarding._reverse_answer(third, "forward:tcp:0;tcp:9003"))[:4] == b"OKAY"
        listing = (await forwarding._reverse_answer(third, "list-forward"))[4:].decode()
        names = {line.split()[2]: line.split()[0] for line in listing.splitlines()}
        assert names["tcp:9002"] != names["tcp:9003"], listing
        assert all(re.fullmatch(r"host-\d+", name) for name in names.values()), listing
        forwarding.close()
        for transport, end in ((second, second_end), (third, third_end)):
            transport.writer.close()
            end.close()

    asyncio.run(asyncio.wait_for(body(), 10))


class ForwardingHost:
    """The device's ServiceHost with only the forward services."""

    def __init__(self, forwarding: Forwarding) -> None:
        self.forwarding = forwarding

    def banner(self) -> bytes:
        return b"device::"

    def open_service(self, name: str) -> object:
        return self.forwarding.open_service(name)


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def test_a_forward_torn_down_at_any_step_leaves_no_socket_open() -> None:
    """The host's connection goes away while a `tcp:` OPEN is connecting: at every event-loop step
    from the OPEN to the stream being served, teardown must close what the connect made."""
    forwarding = Forwarding(lambda: HostSockets())  # type: ignore[arg-type, return-value]
    target = socket.socket()
    target.bind(("127.0.0.1", 0))
    target.listen(256)  # never accepts: a forwarded socket stays open until the device closes it
    port = target.getsockname()[1]

    async def one_teardown(steps: int) -> bool:
        ours, theirs = socket.socketpair()
        reader, writer = await asyncio.open_connection(sock=theirs)
        transport = p.AdbTransport(reader, writer, ForwardingHost(forwarding))  # type: ignore[arg-type]
        transport._dispatch(p.Packet(p.A_CNXN, p.A_VERSION, p.MAX_PAYLOAD, b"host::\0"))
        transport._dispatch(p.Packet(p.A_OPEN, 7, 0, f"tcp:{port}\0".encode()))
        for _ in range(steps):
            await asyncio.sleep(0)
        served = bool(transport.streams)
        transport._teardown()  # what run() does when the host's connection ends
        writer.close()
        await asyncio.sleep(0.02)
        ours.close()
        return served

    async def body() -> None:
        await asyncio.sleep(0)
        before = open_fds()
        steps = 0
        while not await one_teardown(steps):  # every step up to the one where the stream is served
            steps += 1
            assert steps < 500, "the forward never connected"
        await asyncio.sleep(0.05)
        assert open_fds() - before == set(), f"sockets left open after teardown at steps 0..{steps}"

    gc.collect()  # what earlier tests left for the collector is not this test's
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        try:
            asyncio.run(asyncio.wait_for(body(), 30))
        finally:
            target.close()
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
