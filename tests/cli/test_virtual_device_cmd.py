"""`edgebench virtual-device start|stop|list|fault|energy-truth` with a private adb server (never the default one)."""
from __future__ import annotations

import json
import time
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


@pytest.fixture(scope="module")
def module_adb_server() -> Iterator[PrivateAdb]:
    """One private server for the module (adb 36 takes 3 s to start); each test's devices differ."""
    if not ADB_BINARIES:
        pytest.skip("no adb binary (adbutils wheel or Debian adb) to test with")
    server = PrivateAdb(ADB_BINARIES.get("adb36-adbutils") or next(iter(ADB_BINARIES.values())), free_port())
    server.check("start-server")
    try:
        yield server
    finally:
        server.run("kill-server")


@pytest.fixture
def adb_server(module_adb_server: PrivateAdb, monkeypatch: pytest.MonkeyPatch) -> PrivateAdb:
    monkeypatch.setenv("ADB_SERVER_SOCKET", f"tcp:localhost:{module_adb_server.port}")
    monkeypatch.delenv("ANDROID_ADB_SERVER_PORT", raising=False)
    return module_adb_server


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
    from edgebench.devices.adb import adb_binary

    server = PrivateAdb(adb_binary(), port)  # the binary --start-adb-server uses, to stop that server
    try:
        code, out, _ = edgebench("start", "--start-adb-server")
        assert code == 0 and f"started an adb server at localhost:{port}" in out and "(connected)" in out
    finally:
        edgebench("stop", "--all")
        server.run("kill-server")


def test_fault_command_shows_and_changes_a_devices_faults(sandbox_ok: None, edgebench, adb_server: PrivateAdb) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = edgebench("start")
    assert code == 0, out
    serial, adb_serial = out.split()[:2]
    code, out, _ = edgebench("fault", serial)
    assert code == 0 and "state: device" in out and "throttle: 0" in out
    code, out, _ = edgebench("fault", adb_serial, "--throttle", "2", "--usb-power", "off", "--json")
    status = json.loads(out)
    assert code == 0 and (status["throttle"], status["usb_power"]) == (2, False)
    assert adb_server.check("-s", adb_serial, "shell", "dumpsys thermalservice | grep 'Thermal Status'") == "Thermal Status: 2\n"
    code, _, err = edgebench("fault", serial, "--throttle", "9")
    assert code == 2 and "0..6" in err
    code, out, _ = edgebench("fault", serial, "--weak-charger", "50", "--json")
    status = json.loads(out)
    assert code == 0 and (status["usb_power"], status["weak_charger_ma"]) == (True, 50.0)
    assert adb_server.check("-s", adb_serial, "shell", "cat /sys/class/power_supply/usb/online") == "1\n"
    code, out, _ = edgebench("fault", serial, "--clear", "--json")
    assert json.loads(out)["throttle"] == 0 and json.loads(out)["usb_power"] is True
    assert json.loads(out)["weak_charger_ma"] is None
    edgebench("fault", serial, "--battery-level", "42")
    edgebench("stop", serial)
    code, _, err = edgebench("fault", serial, "--no-space")
    assert code != 0 and "not running" in err
    # Started again on its port: same identity, and the battery kept its charge.
    code, out, _ = edgebench("start", "--port", adb_serial.rpartition(":")[2])
    assert code == 0 and out.split()[:2] == [serial, adb_serial]
    assert adb_server.check("-s", adb_serial, "shell", "cat /sys/class/power_supply/battery/capacity") == "42\n"


def test_energy_truth_lists_the_windows_a_run_marked(sandbox_ok: None, edgebench, adb_server: PrivateAdb) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = edgebench("start")
    serial, adb_serial = out.split()[:2]
    adb_server.check("-s", adb_serial, "shell", "setprop debug.edgebench.window 'cli-1 start'; yes > /dev/null & p=$!; "
                                                "sleep 0.6; kill $p; setprop debug.edgebench.window 'cli-1 end 40'")
    time.sleep(0.5)
    code, out, _ = edgebench("energy-truth", serial, "--json")
    (record,) = json.loads(out)
    assert code == 0 and record["run_id"] == "cli-1" and record["inferences"] == 40
    assert record["energy_per_inference_mj"] > 0 and record["status"] == "ok"
    code, out, _ = edgebench("energy-truth", serial)
    assert "cli-1" in out and "ok" in out


def test_start_with_a_state_fault_shows_the_device_unauthorized(sandbox_ok: None, edgebench, adb_server: PrivateAdb) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = edgebench("start", "--state", "unauthorized")
    assert code == 0 and "failed to authenticate" in out
    adb_serial = out.split()[1]
    assert f"{adb_serial}\tunauthorized" in adb_server.check("devices")
