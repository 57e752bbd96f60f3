"""`edgebench virtual-device start|stop|list` with a private adb server (never the default one)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from edgebench.cli import main as cli_main
from tests.virtual.helpers import ADB_BINARIES, PrivateAdb, free_port


@pytest.fixture(scope="module")
def sandbox_ok() -> None:
    from edgebench.virtual.sandbox import probe

    reason = probe()
    if reason is not None:
        pytest.skip(f"virtual devices cannot run here: {reason}")
    if not ADB_BINARIES:
        pytest.skip("no adb binary (adbutils wheel or Debian adb) to test with")


@pytest.fixture
def edgebench(monkeypatch: pytest.MonkeyPatch, workspace: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(cli_main.COMMANDS, "virtual-device",
                        ("edgebench.cli.virtual_device_cmd", "virtual devices"))

    def run(*args: str) -> tuple[int, str, str]:
        code = cli_main.main(["virtual-device", *args])
        out, err = capsys.readouterr()
        return code, out, err

    yield run
    run("stop", "--all")


@pytest.fixture
def adb_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivateAdb]:
    server = PrivateAdb(ADB_BINARIES.get("adb36-adbutils") or next(iter(ADB_BINARIES.values())), free_port())
    server.check("start-server")
    monkeypatch.setenv("ADB_SERVER_SOCKET", f"tcp:localhost:{server.port}")
    monkeypatch.delenv("ANDROID_ADB_SERVER_PORT", raising=False)
    try:
        yield server
    finally:
        server.run("kill-server")


def test_start_list_stop_and_restart_keep_identity(sandbox_ok: None, edgebench, adb_server: PrivateAdb) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = edgebench("start", "--count", "2")
    assert code == 0, out
    lines = out.strip().splitlines()
    assert len(lines) == 2 and all(line.endswith("(connected)") for line in lines)
    serial, adb_serial = lines[0].split()[:2]
    attached = adb_server.check("devices")
    assert all(line.split()[1] in attached for line in lines)
    assert adb_server.check("-s", adb_serial, "shell", "getprop ro.serialno").strip() == serial
    adb_server.check("-s", adb_serial, "shell", "echo kept > /data/local/tmp/mark")

    code, out, _ = edgebench("stop", serial)
    assert code == 0 and "stopped" in out
    assert adb_serial not in adb_server.check("devices")
    code, out, _ = edgebench("list")
    assert f"{serial}   {adb_serial}" in out and "stopped" in out and "running" in out

    port = adb_serial.rpartition(":")[2]
    code, out, _ = edgebench("start", "--port", port)
    assert code == 0 and out.split()[:2] == [serial, adb_serial]
    assert adb_server.check("-s", adb_serial, "shell", "cat /data/local/tmp/mark; getprop ro.serialno").split() == ["kept", serial]


def test_start_refuses_adb_scan_ports_and_changed_profiles(sandbox_ok: None, edgebench) -> None:  # type: ignore[no-untyped-def]
    code, _, err = edgebench("start", "--no-connect", "--port", "5560")
    assert code == 2 and "5554-5585" in err
    port = str(free_port())
    code, out, _ = edgebench("start", "--no-connect", "--port", port, "--profile", "galaxy-s9-like")
    assert code == 0 and "galaxy-s9-like" in out
    code, _, err = edgebench("start", "--no-connect", "--port", port, "--profile", "pixel-8-like")
    assert code == 2 and "cannot change it" in err


def test_start_without_an_answering_adb_server_says_what_to_do(edgebench, monkeypatch: pytest.MonkeyPatch, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ADB_SERVER_SOCKET", f"tcp:localhost:{free_port()}")
    code, _, err = edgebench("start")
    assert code != 0 and "--start-adb-server" in err and "adb -P" in err
    assert not (workspace / "virtual-devices").exists()


def test_start_adb_server_flag_starts_one_only_when_asked(sandbox_ok: None, edgebench, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    monkeypatch.setenv("ADB_SERVER_SOCKET", f"tcp:localhost:{port}")
    from edgebench.virtual.adb_link import adb_binary

    server = PrivateAdb(adb_binary(), port)  # the binary --start-adb-server uses, to stop that server
    try:
        code, out, _ = edgebench("start", "--start-adb-server")
        assert code == 0 and f"started an adb server at localhost:{port}" in out and "(connected)" in out
    finally:
        edgebench("stop", "--all")
        server.run("kill-server")
