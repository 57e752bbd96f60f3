"""Shell service arguments (as adbd parses them), exit statuses, shell-protocol packet reassembly."""
from __future__ import annotations

import asyncio

import pytest

from edgebench.virtual.shell_service import (ShellRequest, _ShellPacketReader, exit_status, parse_shell_service,
                                             shell_packet)


@pytest.mark.parametrize("name, expected", [
    ("shell:", ShellRequest("", pty=True, v2=False, term="dumb")),
    ("shell:ls -l", ShellRequest("ls -l", pty=False, v2=False, term="dumb")),
    ("shell,v2,raw:echo a:b", ShellRequest("echo a:b", pty=False, v2=True, term="dumb")),
    ("shell,v2,TERM=xterm-256color,pty:", ShellRequest("", pty=True, v2=True, term="xterm-256color")),
    ("shell,v2,pty:top", ShellRequest("top", pty=True, v2=True, term="dumb")),
    ("shell,unknown-arg:id", ShellRequest("id", pty=False, v2=False, term="dumb")),
    ("exec:cat /x", ShellRequest("cat /x", pty=False, v2=False, term="dumb")),
])
def test_parse_shell_service(name: str, expected: ShellRequest) -> None:
    assert parse_shell_service(name) == expected


@pytest.mark.parametrize("name", ["sync:", "shellx:ls", "shell", "reboot:"])
def test_other_services_are_not_shells(name: str) -> None:
    assert parse_shell_service(name) is None


def test_exit_status_of_signals_is_128_plus_signal() -> None:
    assert [exit_status(0), exit_status(3), exit_status(-9), exit_status(-15)] == [0, 3, 137, 143]


class Chunks:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def read(self) -> bytes | None:
        return self.chunks.pop(0) if self.chunks else None


def test_packets_are_reassembled_across_and_within_writes() -> None:
    stream = shell_packet(0, b"hello") + shell_packet(5, b"24x80,0x0") + shell_packet(4)
    reader = _ShellPacketReader(Chunks([stream[:2], stream[2:9], stream[9:]]))  # type: ignore[arg-type]

    async def collect() -> list[tuple[int, bytes] | None]:
        return [await reader.next() for _ in range(4)]

    assert asyncio.run(collect()) == [(0, b"hello"), (5, b"24x80,0x0"), (4, b""), None]
