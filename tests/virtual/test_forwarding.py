"""Reverse-forward bookkeeping and socket specs, with host sockets standing in for the device's namespace."""
from __future__ import annotations

import asyncio
import re
import socket

import pytest

from edgebench.virtual.forwarding import Forwarding, SpecError, parse_spec


class HostSockets:
    """DeviceSockets' interface on the host's own namespace (the namespace itself is tested end to end)."""

    def socket(self, family: int, kind: int = socket.SOCK_STREAM) -> socket.socket:
        made = socket.socket(family, kind)
        made.setblocking(False)
        return made


def test_socket_specs_as_adbd_names_them() -> None:
    assert parse_spec("tcp:8080").address == ("127.0.0.1", 8080)
    assert parse_spec("tcp:8080:10.0.0.2").address == ("10.0.0.2", 8080)
    assert parse_spec("localabstract:chrome_devtools").address == b"\0chrome_devtools"
    with pytest.raises(SpecError, match="bad port number 'x'"):
        parse_spec("tcp:x")
    with pytest.raises(SpecError, match="unknown socket specification 'localfilesystem:/x'"):
        parse_spec("localfilesystem:/x")
    assert Forwarding(lambda: None).open_service("jdwp:123") is None


def test_reverse_answers_list_and_listeners_end_with_their_connection() -> None:
    forwarding = Forwarding(lambda: HostSockets())  # type: ignore[arg-type, return-value]
    one, two = object(), object()

    async def body() -> None:
        answer = forwarding._reverse_answer
        assert (await answer(one, "forward:tcp:0;tcp:9000"))[:4] == b"OKAY"  # type: ignore[arg-type]
        (local,) = forwarding.listeners
        port = int(local.split(":")[1])
        reply = await answer(one, "forward:tcp:0;tcp:9000")  # type: ignore[arg-type]
        assert reply[:4] == b"OKAY" and int(reply[8:]) != port  # tcp:0 picks a new port each time
        assert await answer(two, f"forward:norebind:{local};tcp:1") == b"FAIL" + b"001dcannot rebind existing socket"  # type: ignore[arg-type]
        assert await answer(two, f"forward:{local};tcp:9001") == b"OKAY"  # type: ignore[arg-type]
        assert forwarding.listeners[local].remote == "tcp:9001"
        assert (await answer(one, "forward:tcp:1")).startswith(b"FAIL")  # type: ignore[arg-type]
        assert (await answer(one, "killforward:tcp:1")) == b"FAIL" + b"001alistener 'tcp:1' not found"  # type: ignore[arg-type]
        listing = (await answer(one, "list-forward")).decode()  # type: ignore[arg-type]
        assert int(listing[:4], 16) == len(listing) - 4
        assert re.fullmatch(rf"host-\d+ {local} tcp:9001\n", listing[4:].splitlines(keepends=True)[0])
        forwarding.drop(two)  # that connection went away: its listener closes
        assert local not in forwarding.listeners
        await asyncio.sleep(0.05)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        assert await answer(one, "killforward-all") == b"OKAY"  # type: ignore[arg-type]
        assert forwarding.listeners == {} and await answer(one, "list-forward") == b"0000"  # type: ignore[arg-type]

    asyncio.run(asyncio.wait_for(body(), 10))
