"""Lab faults injected into a running virtual device, each seen through a REAL adb server."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterator

import pytest

from edgebench.virtual import control, registry
from edgebench.virtual.faults import FaultRequest
from tests.virtual.helpers import PrivateAdb

pytestmark = pytest.mark.usefixtures("sandbox_available")


@pytest.fixture(scope="module")
def adb(device: registry.DeviceState, shared_adb: PrivateAdb) -> Iterator[PrivateAdb]:
    """The shared private adb 36 server (the state test below runs against both versions)."""
    shared_adb.check("connect", device.config.adb_serial)
    yield shared_adb
    shared_adb.run("disconnect", device.config.adb_serial)


@pytest.fixture(autouse=True)
def cleared(device: registry.DeviceState) -> Iterator[None]:
    yield
    fault(device, clear=True)


def fault(device: registry.DeviceState, **fields: object) -> dict:
    return control.request(device.layout.folder, {"op": "fault", "request": FaultRequest(**fields).to_json()})


def state_in(adb: PrivateAdb, serial: str) -> str | None:
    for line in adb.check("devices").splitlines()[1:]:
        parts = line.split()
        if parts and parts[0] == serial:
            return parts[1]
    return None


def wait_state(adb: PrivateAdb, serial: str, want: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while (seen := state_in(adb, serial)) != want:
        assert time.monotonic() < deadline, f"adb shows {serial} as {seen!r}, expected {want!r}"
        time.sleep(0.1)


def reconnect(adb: PrivateAdb, serial: str) -> None:
    """What a lab does after a drop: connect again (adb 29 would retry by itself only after ~10 s)."""
    adb.run("disconnect", serial)
    adb.check("connect", serial)
    wait_state(adb, serial, "device")


def test_unauthorized_and_offline_come_from_the_handshake(private_adb: PrivateAdb,
                                                           device: registry.DeviceState) -> None:
    serial = device.config.adb_serial
    private_adb.check("connect", serial)
    wait_state(private_adb, serial, "device")
    fault(device, state="unauthorized")
    wait_state(private_adb, serial, "unauthorized")  # the server reconnects and its keys are refused
    private_adb.run("disconnect", serial)
    assert "failed to authenticate" in private_adb.check("connect", serial)
    refused = private_adb.run("-s", serial, "shell", "echo hi")
    assert refused.returncode != 0 and b"unauthorized" in refused.stderr
    fault(device, state="device")  # the user taps "Allow": the pending handshake completes
    wait_state(private_adb, serial, "device")
    fault(device, state="offline")
    wait_state(private_adb, serial, "offline")
    fault(device, state="device")
    wait_state(private_adb, serial, "device")
    assert private_adb.check("-s", serial, "shell", "echo back") == "back\n"
    private_adb.run("disconnect", serial)


def test_drop_after_bytes_cuts_a_push_and_the_port_comes_back(adb: PrivateAdb, device: registry.DeviceState,
                                                              tmp_path: Path) -> None:
    serial = device.config.adb_serial
    (tmp_path / "big.bin").write_bytes(os.urandom(2_000_000))
    status = fault(device, drop_after_bytes=300_000, come_back_after=1.5)
    assert status["drop_after_bytes_left"] == 300_000
    pushed = adb.run("-s", serial, "push", str(tmp_path / "big.bin"), "/data/local/tmp/big.bin")
    assert pushed.returncode != 0
    assert "failed to connect" in adb.check("connect", serial)  # the port is closed for now
    time.sleep(1.6)
    reconnect(adb, serial)
    # adbd removes a file whose push broke off.
    assert adb.run("-s", serial, "shell", "ls /data/local/tmp/big.bin").returncode != 0


def test_drop_after_seconds_ends_a_running_command(adb: PrivateAdb, device: registry.DeviceState) -> None:
    serial = device.config.adb_serial
    fault(device, drop_after_seconds=0.5)
    started = time.monotonic()
    result = adb.run("-s", serial, "shell", "sleep 5; echo finished")
    assert time.monotonic() - started < 4 and b"finished" not in result.stdout
    reconnect(adb, serial)


def test_no_space_fails_pushes_and_shell_writes_like_a_full_phone(adb: PrivateAdb, device: registry.DeviceState,
                                                                  tmp_path: Path) -> None:
    import adbutils

    serial = device.config.adb_serial
    adb.check("-s", serial, "shell", "echo before > /data/local/tmp/before.txt")
    (tmp_path / "f.bin").write_bytes(os.urandom(100_000))
    assert fault(device, no_space=True)["no_space"] is True
    pushed = adb.run("-s", serial, "push", str(tmp_path / "f.bin"), "/data/local/tmp/f.bin")
    assert pushed.returncode != 0 and b"No space left on device" in pushed.stderr
    dev = adbutils.AdbClient(host="127.0.0.1", port=adb.port).device(serial)
    with pytest.raises(adbutils.AdbError, match="FAIL"):  # adbutils does not read the FAIL text
        dev.sync.push(b"x" * 10_000, "/data/local/tmp/g.bin")
    shell = dev.shell2("echo data > /sdcard/new.txt", v2=True)
    assert shell.returncode != 0 and "No space left on device" in shell.stderr
    assert adb.check("-s", serial, "shell", "cat /data/local/tmp/before.txt") == "before\n"  # reads still work
    assert adb.check("-s", serial, "shell", "setprop debug.still 1; getprop debug.still") == "1\n"
    fault(device, no_space=False)
    adb.check("-s", serial, "push", str(tmp_path / "f.bin"), "/data/local/tmp/f.bin")


def test_slow_link_limits_the_transfer_rate(adb: PrivateAdb, device: registry.DeviceState, tmp_path: Path) -> None:
    serial = device.config.adb_serial
    (tmp_path / "s.bin").write_bytes(os.urandom(300_000))
    adb.check("-s", serial, "push", str(tmp_path / "s.bin"), "/data/local/tmp/s.bin")
    fault(device, slow_link_kbps=200)
    started = time.monotonic()
    adb.check("-s", serial, "pull", "/data/local/tmp/s.bin", str(tmp_path / "back.bin"))
    assert time.monotonic() - started >= 1.3  # 300 kB at 200 kB/s
    assert (tmp_path / "back.bin").read_bytes() == (tmp_path / "s.bin").read_bytes()
    fault(device, slow_link_kbps=0)
    started = time.monotonic()
    adb.check("-s", serial, "pull", "/data/local/tmp/s.bin", str(tmp_path / "back.bin"))
    assert time.monotonic() - started < 1.0


def test_kill_harness_kills_runner_and_sampler_only(adb: PrivateAdb, device: registry.DeviceState) -> None:
    serial = device.config.adb_serial
    adb.check("-s", serial, "shell",
              "mkdir -p /data/local/tmp/bin && for n in edgebench_runner edgebench_sampler bystander; do "
              "printf '#!/system/bin/sh\\nwhile :; do sleep 0.2; done\\n' > /data/local/tmp/bin/$n; "
              "chmod 755 /data/local/tmp/bin/$n; nohup /data/local/tmp/bin/$n > /dev/null 2>&1 & done; sleep 0.3")

    def running() -> set[str]:
        ps = adb.check("-s", serial, "shell", "ps -A -o ARGS")
        return {name for name in ("edgebench_runner", "edgebench_sampler", "bystander") if f"bin/{name}" in ps}

    assert running() == {"edgebench_runner", "edgebench_sampler", "bystander"}
    assert len(fault(device, kill_harness=True)["killed"]) == 2
    assert running() == {"bystander"}
    adb.run("-s", serial, "shell", "pkill -f bin/bystander")


def test_reboot_fault_wipes_data_local_tmp_but_keeps_user_data(adb: PrivateAdb, device: registry.DeviceState) -> None:
    serial = device.config.adb_serial
    adb.check("-s", serial, "shell", "echo t > /data/local/tmp/gone.txt; echo s > /sdcard/kept.txt")
    assert fault(device, reboot=True)["rebooted"] is True
    reconnect(adb, serial)
    assert adb.check("-s", serial, "shell", "ls -A /data/local/tmp; cat /sdcard/kept.txt") == "s\n"
