"""`--auth`: adb's RSA authentication, checked with the real adb server's own keys (adb 36 and 29).

An unknown host key leaves the device `unauthorized` (AUTH TOKEN, refused SIGNATURE, RSAPUBLICKEY
waiting for the user); allowing it (`fault --state device`) remembers the key, so the next
connection from that host is accepted by its signature alone, while another host's key is not.
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from edgebench.virtual import adb_protocol as p
from edgebench.virtual import control, registry
from edgebench.virtual.adb_auth import AdbKeys, parse_public_key
from edgebench.virtual.device import DeviceConfig
from edgebench.virtual.faults import FaultRequest
from tests.virtual.helpers import ADB_BINARIES, PrivateAdb, free_port, stop_all
from tests.virtual.test_adb_protocol import Host, Services, run


class FakeKeys:
    def __init__(self, good_signature: bytes) -> None:
        self.good_signature = good_signature
        self.tokens: list[bytes] = []
        self.remembered: list[bytes] = []

    def verify(self, token: bytes, signature: bytes) -> bool:
        self.tokens.append(token)
        return signature == self.good_signature

    def remember(self, public_key: bytes) -> None:
        self.remembered.append(public_key)


def test_auth_handshake_token_signature_public_key_and_allow() -> None:
    keys = FakeKeys(b"good")

    async def body() -> None:
        import socket

        a, b = socket.socketpair()
        host = Host(*await asyncio.open_connection(sock=a))
        transport = p.AdbTransport(*await asyncio.open_connection(sock=b), Services({}), auth=keys)
        task = asyncio.get_running_loop().create_task(transport.run())
        host.send(p.A_CNXN, 0x01000001, 4096, b"host::\0")
        first = await host.recv()
        assert (first.command, first.arg0, len(first.payload)) == (p.A_AUTH, p.ADB_AUTH_TOKEN, p.TOKEN_SIZE)
        host.send(p.A_AUTH, p.ADB_AUTH_SIGNATURE, 0, b"bad")
        second = await host.recv()  # refused: a fresh token for the next key
        assert second.command == p.A_AUTH and second.payload != first.payload
        assert keys.tokens == [first.payload]
        host.send(p.A_AUTH, p.ADB_AUTH_RSAPUBLICKEY, 0, b"KEY user@host\0")
        assert await host.nothing_for(0.2)  # the dialog waits for the user
        transport.user_allows()
        cnxn = await host.recv()
        assert cnxn.command == p.A_CNXN and keys.remembered == [b"KEY user@host\0"]
        # Next connection: the signature alone is enough.
        host.send(p.A_CNXN, 0x01000001, 4096, b"host::\0")
        token = await host.recv()
        host.send(p.A_AUTH, p.ADB_AUTH_SIGNATURE, 0, b"good")
        assert (await host.recv()).command == p.A_CNXN and keys.tokens[-1] == token.payload
        task.cancel()

    run(body)


def test_malformed_public_keys_are_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a base64"):
        parse_public_key(b"@@@ user@host\0")
    with pytest.raises(ValueError, match="expected 524"):
        parse_public_key(b"QUJD user@host\0")
    keys = AdbKeys(tmp_path / "adb_keys")
    keys.remember(b"QUJD user@host\0")
    assert keys.keys() == [] and not keys.verify(b"t" * 20, b"s" * 256)


@dataclass
class KeyedAdb(PrivateAdb):
    """A private adb server with its own HOME, so its own ~/.android/adbkey (made on first start)."""

    home: str = ""

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in super().env.items() if k not in ("ADB_VENDOR_KEYS", "ANDROID_USER_HOME", "ANDROID_SDK_HOME")}
        env["HOME"] = self.home
        return env


@pytest.fixture(scope="module")
def auth_device(virtual_root: Path, sandbox_available: None) -> Iterator[registry.DeviceState]:
    port = registry.allocate_port(virtual_root)
    layout = registry.create_device(virtual_root, DeviceConfig.new("pixel-8-like", "x86_64", port, auth=True))
    yield registry.start_device(layout)
    stop_all(virtual_root)


def state_of(adb: PrivateAdb, serial: str, wanted: str, timeout_s: float = 10) -> str:
    deadline = time.monotonic() + timeout_s
    state = ""
    while time.monotonic() < deadline:
        line = next((l for l in adb.check("devices").splitlines() if l.startswith(serial + "\t")), "")
        state = line.split("\t")[1] if line else "absent"
        if state == wanted:
            break
        time.sleep(0.2)
    return state


@pytest.mark.parametrize("adb_name", sorted(ADB_BINARIES))
def test_unknown_key_is_unauthorized_until_allowed_then_remembered(adb_name: str, auth_device: registry.DeviceState,
                                                                   tmp_path: Path) -> None:
    serial = auth_device.config.adb_serial
    servers = [KeyedAdb(ADB_BINARIES[adb_name], free_port(), home=str(tmp_path / name)) for name in ("alice", "bob")]
    for server in servers:
        os.makedirs(server.home)
    # Started side by side: adb 36 takes ~3 s to start a server.
    starting = [subprocess.Popen([server.binary, "start-server"], env=server.env) for server in servers]
    assert [proc.wait(60) for proc in starting] == [0, 0]
    alice, bob = servers
    try:
        alice.run("connect", serial)
        assert state_of(alice, serial, "unauthorized") == "unauthorized"
        assert alice.run("-s", serial, "shell", "true").returncode != 0
        control.request(auth_device.layout.folder, {"op": "fault", "request": FaultRequest(state="device").to_json()})
        assert state_of(alice, serial, "device") == "device"
        assert alice.check("-s", serial, "shell", "echo allowed") == "allowed\n"
        # Reconnecting: alice's key is remembered and her signature verified - no dialog.
        alice.check("disconnect", serial)
        alice.run("connect", serial)
        assert state_of(alice, serial, "device") == "device"
        # Bob's key was never allowed.
        bob.run("connect", serial)
        assert state_of(bob, serial, "unauthorized", timeout_s=5) == "unauthorized"
        assert len((auth_device.layout.folder / "adb_keys").read_text().splitlines()) >= 1
    finally:
        for server in servers:
            server.run("kill-server")
        (auth_device.layout.folder / "adb_keys").unlink(missing_ok=True)


def test_cli_start_auth_waits_for_allow_and_a_restart_remembers(tmp_path: Path, harness_cache: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from edgebench.cli.main import main
    from tests.virtual.helpers import cli_lab

    workspace = tmp_path / "ws"
    with cli_lab(workspace, harness_cache, "--auth") as (adb, serials):
        assert "unauthorized: allow this host with `edgebench virtual-device fault" in capsys.readouterr().out
        assert state_of(adb, serials[0], "unauthorized") == "unauthorized"
        assert main(["--workspace", str(workspace), "virtual-device", "fault", serials[0], "--state", "device"]) == 0
        assert state_of(adb, serials[0], "device") == "device"
        assert main(["--workspace", str(workspace), "virtual-device", "stop", "--all"]) == 0
        # The same device restarted with --auth knows this host's key now: connected at once.
        assert main(["--workspace", str(workspace), "virtual-device", "start", "--auth"]) == 0
        assert "(connected)" in capsys.readouterr().out
        assert state_of(adb, serials[0], "device") == "device"
