"""edgebench's own adb connection (devices/adb_wire.py through devices/adb.py): shell v2 and v1, the
streaming shell, sync pull and push, and the error contract, against a private adb server and a
virtual device; plus a tiny fake adb server that counts connections (the server version is asked once)."""
from __future__ import annotations

import hashlib
import os
import socket
import struct
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from edgebench.devices.adb import (AdbDevice, AdbServer, AdbServerAddress, DeviceConnectionError, DeviceTimeoutError,
                                   ShellStream)
from edgebench.devices import adb_wire
from edgebench.errors import DeviceError
from tests.virtual.helpers import PrivateAdb, cli_lab

REMOTE = "/data/local/tmp/edgebench-wire"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, harness_cache: Path) -> Iterator[tuple[PrivateAdb, AdbDevice]]:
    with cli_lab(tmp_path_factory.mktemp("wire"), harness_cache) as (adb, serials):
        yield adb, AdbServer().device(serials[0])


@pytest.fixture
def device(lab: tuple[PrivateAdb, AdbDevice]) -> AdbDevice:
    return lab[1]


def test_shell_v2_reports_exit_code_stdout_and_stderr_apart(device: AdbDevice):
    assert device.has_shell_v2
    result = device.shell("echo out; echo err >&2; exit 3")
    assert (result.exit_code, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert device.shell(["printf", "%s", "a b"]).stdout == "a b"


def test_shell_v1_fallback_keeps_exit_codes(device: AdbDevice, monkeypatch: pytest.MonkeyPatch):
    """An adbd without shell_v2 (before Android 7): the exit status still comes back, also for `exit N`
    and a trailing comment (which swallowed adbutils' `; echo EXIT:$?`)."""
    monkeypatch.setattr(device, "_features", device.features() - {"shell_v2"})
    assert not device.has_shell_v2
    result = device.shell("echo out; echo err >&2; exit 3")
    assert result.exit_code == 3 and "out\n" in result.stdout and "err\n" in result.stdout
    assert device.shell("printf no-newline # a comment").stdout == "no-newline"
    assert device.shell("true").exit_code == 0 and device.shell("false").exit_code == 1
    with pytest.raises(DeviceError, match="lacks the shell protocol v2"):
        device.open_shell("true")


def test_shell_timeout_bounds_the_whole_command(device: AdbDevice):
    """Output every 0.2 s must not keep a 1 s timeout from firing (a per-read timeout would never fire)."""
    started = time.monotonic()
    with pytest.raises(DeviceTimeoutError) as caught:
        device.shell("for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do echo $i; sleep 0.2; done", timeout=1.0,
                     retry=False)
    assert time.monotonic() - started < 2.5
    assert device.serial in str(caught.value) and "sleep 0.2" in str(caught.value)


def test_shell_stream_delivers_stdout_as_it_arrives(device: AdbDevice):
    with device.open_shell("echo first; sleep 1; echo second; echo oops >&2; exit 4") as stream:
        assert isinstance(stream, ShellStream)
        first = stream.read_stdout(10)
        assert first is not None and first.startswith(b"first") and b"second" not in first
        assert stream.exit_code is None  # the command is still sleeping
        rest = b"" if first == b"first\n" else first[6:]
        while (chunk := stream.read_stdout(10)) is not None:
            rest += chunk
        assert rest == b"second\n" and stream.exit_code == 4 and stream.stderr_text == "oops\n"
        assert stream.read_stdout(1) is None  # stays ended


def test_shell_stream_timeout_leaves_the_stream_usable(device: AdbDevice):
    with device.open_shell("sleep 1; echo late") as stream:
        with pytest.raises(DeviceTimeoutError) as caught:
            stream.read_stdout(0.2)
        assert device.serial in str(caught.value) and "sleep 1; echo late" in str(caught.value)
        assert stream.read_stdout(10) == b"late\n"
        assert stream.read_stdout(10) is None and stream.exit_code == 0


def test_shell_stream_close_stops_the_command(device: AdbDevice):
    stream = device.open_shell("echo $$; exec sleep 30")
    pid = int((stream.read_stdout(10) or b"").strip())
    assert device.shell(f"kill -0 {pid}").exit_code == 0
    stream.close()
    stream.close()  # idempotent
    deadline = time.monotonic() + 10
    while device.shell(f"kill -0 {pid} 2>/dev/null").exit_code == 0:
        assert time.monotonic() < deadline, "the command outlived its closed stream"
        time.sleep(0.1)


def test_broken_link_raises_connection_error(lab: tuple[PrivateAdb, AdbDevice]):
    adb, device = lab
    stream = device.open_shell("sleep 30")
    errors: list[BaseException] = []

    def run_shell() -> None:
        try:
            device.shell("sleep 30", retry=False)
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            errors.append(exc)

    worker = threading.Thread(target=run_shell)
    worker.start()
    time.sleep(0.5)
    try:
        adb.check("disconnect", device.serial)
        with pytest.raises(DeviceConnectionError) as caught:
            stream.read_stdout(20)
        assert not isinstance(caught.value, DeviceTimeoutError) and device.serial in str(caught.value)
        worker.join(20)
        assert len(errors) == 1 and isinstance(errors[0], DeviceConnectionError), errors
        assert not isinstance(errors[0], DeviceTimeoutError)
    finally:
        stream.close()
        adb.check("connect", device.serial)
        deadline = time.monotonic() + 20
        while device.state() != "device" and time.monotonic() < deadline:
            time.sleep(0.2)


def test_pull_of_a_missing_file_names_the_path(device: AdbDevice, tmp_path: Path):
    with pytest.raises(DeviceError) as caught:
        device.pull(f"{REMOTE}-missing.bin", tmp_path / "x.bin")
    assert not isinstance(caught.value, DeviceConnectionError)  # about the file: nothing to wait for
    assert f"{REMOTE}-missing.bin" in str(caught.value) and device.serial in str(caught.value)
    assert not (tmp_path / "x.bin").exists()
    with pytest.raises(DeviceError, match="-missing.txt"):
        device.read_text(f"{REMOTE}-missing.txt")


@pytest.mark.parametrize("size", [0, 1, 64 * 1024, 64 * 1024 + 1, 3 * 1024 * 1024 + 17])
def test_push_pull_round_trip_is_byte_exact(device: AdbDevice, tmp_path: Path, size: int):
    blob = os.urandom(size)
    src, back = tmp_path / "src.bin", tmp_path / "back.bin"
    src.write_bytes(blob)
    remote = f"{REMOTE}-{size}.bin"
    assert device.push_hashed(src, remote) == hashlib.sha256(blob).hexdigest()
    device.pull(remote, back)
    assert back.read_bytes() == blob
    assert device.check_shell(["wc", "-c", remote]).split()[0] == str(size)
    device.shell(["rm", "-f", remote])


@pytest.mark.parametrize("stat_v2", [True, False])
def test_stat_files_tells_regular_files_folders_and_missing_apart(device: AdbDevice, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch, stat_v2: bool):
    if not stat_v2:  # an adbd before Android 8: STAT (32-bit sizes, lstat) instead of STA2
        monkeypatch.setattr(device, "_features", device.features() - {"stat_v2"})
    src = tmp_path / "five.bin"
    src.write_bytes(b"12345")
    device.push(src, f"{REMOTE}-stat.bin")
    found = device.stat_files([f"{REMOTE}-stat.bin", "/data/local/tmp", f"{REMOTE}-none"])
    regular, folder = found[f"{REMOTE}-stat.bin"], found["/data/local/tmp"]
    assert regular is not None and regular.is_regular and regular.size_bytes == 5
    assert folder is not None and not folder.is_regular
    assert found[f"{REMOTE}-none"] is None
    device.shell(["rm", "-f", f"{REMOTE}-stat.bin"])


@pytest.mark.parametrize("exists", [True, False])
def test_stat_and_read_is_one_round_trip_not_held_by_a_delayed_ack(device: AdbDevice, tmp_path: Path, exists: bool):
    """STATs and a RECV asked in one write come back as several writes of the adb server; without a quick
    ACK from us its Nagle holds the second until our delayed ACK fires (40 ms on Linux, every time)."""
    src = tmp_path / "manifest.json"
    src.write_text('{"a": 1}')
    text = f"{REMOTE}-read.json"
    device.push(src, text) if exists else device.shell(["rm", "-f", text])
    paths = [text, "/data/local/tmp", f"{REMOTE}-none"]
    times = []
    for _ in range(5):
        started = time.perf_counter()
        found, content = device.stat_and_read(paths, text)
        times.append(time.perf_counter() - started)
    assert content == ('{"a": 1}' if exists else None)
    assert (found[text] is not None) is exists and found[f"{REMOTE}-none"] is None
    assert min(times) < 0.025, [f"{t * 1000:.1f} ms" for t in times]
    device.shell(["rm", "-f", text])


def test_pipelined_sends_stop_at_the_first_failure_and_name_its_file(device: AdbDevice, tmp_path: Path):
    """adbd serves a session's SENDs in order and ends it at a FAIL: what was queued after it is never written."""
    (tmp_path / "ok.bin").write_bytes(b"ok")
    device.shell(["rm", "-rf", f"{REMOTE}-dir", f"{REMOTE}-after.bin"])
    device.check_shell(["mkdir", f"{REMOTE}-dir"])

    def send(sender: adb_wire.SyncSender) -> None:
        sender.send_file(tmp_path / "ok.bin", f"{REMOTE}-dir", 0o644)  # a folder: adbd cannot create it
        sender.send_bytes(b"after", f"{REMOTE}-after.bin", 0o644, 0)

    with pytest.raises(DeviceError) as caught:
        device.push_batch(f"adb -s {device.serial} push ok.bin", send)
    assert not isinstance(caught.value, DeviceConnectionError)
    assert f"{REMOTE}-dir" in str(caught.value) and device.serial in str(caught.value)
    assert device.stat_files([f"{REMOTE}-after.bin"])[f"{REMOTE}-after.bin"] is None
    device.shell(["rm", "-rf", f"{REMOTE}-dir"])


class _FakeAdbServer:
    """Just enough of an adb server for `shell true`: counts the connections edgebench opens."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.requests: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                self._session(conn)

    def _session(self, conn: socket.socket) -> None:
        while header := conn.recv(4, socket.MSG_WAITALL):
            request = conn.recv(int(header, 16), socket.MSG_WAITALL).decode()
            self.requests.append(request)
            if request == "host:version":
                conn.sendall(b"OKAY00040029")
            elif request.startswith("host:tport:serial:"):
                conn.sendall(b"OKAY" + struct.pack("<Q", 1))
                continue
            elif request.endswith(":features"):
                conn.sendall(b"OKAY%04xshell_v2" % len(b"shell_v2"))
            elif request.startswith("shell,v2"):
                conn.sendall(b"OKAY" + bytes([3]) + struct.pack("<I", 1) + b"\0")
            return


def test_server_version_is_asked_once_per_server():
    fake = _FakeAdbServer()
    try:
        device = AdbServer(AdbServerAddress("127.0.0.1", fake.port)).device("fake-serial")
        for _ in range(5):
            assert device.shell("true").exit_code == 0
        assert fake.requests.count("host:version") == 2  # one "is anybody there", one version
        assert fake.requests.count("host:tport:serial:fake-serial") == 5
    finally:
        fake.listener.close()
