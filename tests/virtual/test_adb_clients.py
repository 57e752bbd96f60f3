"""Contract runs: adb clients nobody here wrote, against one virtual device.

- adb-shell (pure-Python, talks the adb protocol itself, no adb server): shell, push (file, folder),
  pull, list, stat - each must finish without waiting for a timeout.
- adbutils' framework-free device calls through a private adb server: forward, create_connection,
  reverse, sync push/stat/list, pull_dir.
- adb 36 (adbutils' binary) and Debian's adb 29: `push DIR` with symlinks, `forward` (tcp: and
  localabstract:) and `reverse` carrying data both ways.

Servers inside the device are the host's python3 run in the device (the sandbox binds /usr).
"""
from __future__ import annotations

import filecmp
import os
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from edgebench.virtual import registry
from tests.virtual.helpers import PrivateAdb, free_port

pytestmark = pytest.mark.usefixtures("sandbox_available")
DEVICE_PYTHON = "/usr/bin/python3"
TMP = "/data/local/tmp"

# A device-side server: accepts one connection on `address`, greets, answers what it reads in upper case.
ECHO_SERVER = """
import socket, sys
family = socket.AF_UNIX if sys.argv[1] == "abstract" else socket.AF_INET
address = "\\0" + sys.argv[2] if family == socket.AF_UNIX else ("127.0.0.1", int(sys.argv[2]))
listener = socket.socket(family)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(address)
listener.listen()
print("ready", flush=True)
conn, _ = listener.accept()
conn.sendall(b"hello from the device;")
conn.sendall(conn.recv(100).upper())
conn.close()
"""
# A device-side client: connects to 127.0.0.1:PORT, sends a line, prints the answer.
DEVICE_CLIENT = ("import socket,sys; c=socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10); "
                 "c.sendall(b'from the device'); print(c.recv(100).decode())")


def device_server(adb: PrivateAdb, serial: str, kind: str, address: str) -> subprocess.Popen[bytes]:
    """Start ECHO_SERVER in the device through `adb shell` and wait until it listens."""
    script = ECHO_SERVER.replace('"', '\\"')
    server = subprocess.Popen([adb.binary, "-s", serial, "shell", f'{DEVICE_PYTHON} -c "{script}" {kind} {address}'],
                              env=adb.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert server.stdout is not None
    line = server.stdout.readline()
    assert line == b"ready\n", (line, server.stderr.read() if server.poll() is not None and server.stderr else b"")
    return server


def host_server() -> tuple[int, list[bytes], threading.Thread]:
    """A host listener answering one connection with 'host got <data>'; (port, received, thread)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    received: list[bytes] = []

    def serve() -> None:
        with listener:
            listener.settimeout(20)
            conn, _ = listener.accept()
            with conn:
                data = conn.recv(100)
                received.append(data)
                conn.sendall(b"host got " + data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener.getsockname()[1], received, thread


def symlinked_folder(tmp_path: Path) -> Path:
    """A native-library folder as NDK builds make them: libfoo.so -> libfoo.so.1, plus a nested link."""
    folder = tmp_path / "libs"
    (folder / "sub").mkdir(parents=True)
    (folder / "libfoo.so.1").write_bytes(os.urandom(70_000))
    os.symlink("libfoo.so.1", folder / "libfoo.so")
    os.symlink("../libfoo.so", folder / "sub" / "link")
    return folder


# --- adb-shell: the device talks the protocol without an adb server in between -----------------

@pytest.fixture(scope="module")
def adb_shell_device(device: registry.DeviceState) -> Iterator[object]:
    adb_device = pytest.importorskip("adb_shell.adb_device", reason="adb-shell is in the test extra")
    client = adb_device.AdbDeviceTcp("127.0.0.1", device.config.port, default_transport_timeout_s=5)
    assert client.connect(rsa_keys=None, auth_timeout_s=2)
    yield client
    client.close()


def test_adb_shell_file_operations_finish_without_timeouts(adb_shell_device: object, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Before the device answered the client's CLSE, each of these waited read_timeout_s and failed."""
    client: object = adb_shell_device
    timeout = {"read_timeout_s": 5}
    started = time.monotonic()
    assert client.shell("echo hi; echo err >&2", **timeout) == "hi\nerr\n"  # type: ignore[attr-defined]
    payload = os.urandom(200_000)
    (tmp_path / "blob.bin").write_bytes(payload)
    client.push(str(tmp_path / "blob.bin"), f"{TMP}/adbshell.bin", **timeout)  # type: ignore[attr-defined]
    mode, size, _ = client.stat(f"{TMP}/adbshell.bin", **timeout)  # type: ignore[attr-defined]
    assert size == len(payload) and mode & 0o170000 == 0o100000
    client.pull(f"{TMP}/adbshell.bin", str(tmp_path / "back.bin"), **timeout)  # type: ignore[attr-defined]
    assert (tmp_path / "back.bin").read_bytes() == payload
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    (folder / "b.txt").write_text("bb")
    monkeypatch.chdir(folder)  # adb-shell 0.4.4 opens a folder's files by bare name (relative to the cwd)
    client.push(str(folder), f"{TMP}/adbshell-folder", **timeout)  # type: ignore[attr-defined]
    names = {entry.filename.decode(): entry.size for entry in client.list(f"{TMP}/adbshell-folder", **timeout)}  # type: ignore[attr-defined]
    assert {k: v for k, v in names.items() if k not in (".", "..")} == {"a.txt": 1, "b.txt": 2}
    assert time.monotonic() - started < 5, "a file operation waited for a timeout"


# --- adbutils' framework-free device calls (through a private adb 36 server) -------------------

@pytest.fixture(scope="module")
def adbutils_device(shared_adb: PrivateAdb, device: registry.DeviceState) -> object:
    import adbutils

    assert "connected" in shared_adb.check("connect", device.config.adb_serial)
    return adbutils.AdbClient(host="127.0.0.1", port=shared_adb.port).device(device.config.adb_serial)


def test_adbutils_forward_and_create_connection_reach_device_sockets(shared_adb: PrivateAdb, device: registry.DeviceState,
                                                                     adbutils_device: object) -> None:
    from adbutils import Network

    dev: object = adbutils_device
    # `tcp:HOST:PORT` is adbd's other form (the adb CLI does not write it; libraries pass it through).
    for port, remote in (("7101", "tcp:7101"), ("7103", "tcp:localhost:7103")):
        server = device_server(shared_adb, device.config.adb_serial, "tcp", port)
        try:
            host_port = free_port()
            dev.forward(f"tcp:{host_port}", remote)  # type: ignore[attr-defined]
            assert any(item.local == f"tcp:{host_port}" and item.remote == remote
                       for item in dev.forward_list())  # type: ignore[attr-defined]
            with socket.create_connection(("127.0.0.1", host_port), timeout=10) as conn:
                conn.sendall(b"ping")
                answer = b""
                while chunk := conn.recv(100):
                    answer += chunk
            assert answer == b"hello from the device;PING", remote
            server.wait(10)
            dev.forward_remove(f"tcp:{host_port}")  # type: ignore[attr-defined]
        finally:
            server.kill()
    server = device_server(shared_adb, device.config.adb_serial, "abstract", "edgebench-echo")
    try:
        with dev.create_connection(Network.LOCAL_ABSTRACT, "edgebench-echo") as conn:  # type: ignore[attr-defined]
            conn.sendall(b"abstract")
            answer = b""
            while chunk := conn.recv(100):
                answer += chunk
        assert answer == b"hello from the device;ABSTRACT"
    finally:
        server.kill()


def test_adbutils_reverse_carries_data_both_ways(shared_adb: PrivateAdb, device: registry.DeviceState,
                                                 adbutils_device: object) -> None:
    dev: object = adbutils_device
    port, received, thread = host_server()
    dev.reverse("tcp:7301", f"tcp:{port}")  # type: ignore[attr-defined]
    assert [(item.remote, item.local) for item in dev.reverse_list()] == [("tcp:7301", f"tcp:{port}")]  # type: ignore[attr-defined]
    out = shared_adb.check("-s", device.config.adb_serial, "shell", f'{DEVICE_PYTHON} -c "{DEVICE_CLIENT}" 7301')
    thread.join(10)
    assert received == [b"from the device"] and out == "host got from the device\n"
    dev.reverse_remove_all()  # type: ignore[attr-defined]
    assert dev.reverse_list() == []  # type: ignore[attr-defined]


def test_adbutils_sync_push_stat_list_and_pull_dir(shared_adb: PrivateAdb, device: registry.DeviceState,
                                                   adbutils_device: object, tmp_path: Path) -> None:
    dev: object = adbutils_device
    sync = dev.sync  # type: ignore[attr-defined]
    # adbutils' own e2e test pushes a folder with the adb binary, then pulls it back with sync.pull.
    folder = symlinked_folder(tmp_path)
    shared_adb.check("-s", device.config.adb_serial, "push", str(folder), f"{TMP}/adbutils-tree")
    assert sync.pull(f"{TMP}/adbutils-tree", tmp_path / "tree") == 3 * 70_000  # links arrive as their targets
    compared = filecmp.dircmp(folder, tmp_path / "tree")
    assert not (compared.left_only or compared.right_only or compared.diff_files or compared.subdirs["sub"].diff_files)
    dev.shell(f"mkdir -p {TMP}/adbutils-dir/sub")  # type: ignore[attr-defined]
    (tmp_path / "one.bin").write_bytes(b"1" * 5000)
    sync.push(str(tmp_path / "one.bin"), f"{TMP}/adbutils-dir")  # a folder as destination: STAT, then the name
    sync.push(b"two", f"{TMP}/adbutils-dir/sub/two.txt")
    assert sync.stat(f"{TMP}/adbutils-dir/one.bin").size == 5000
    assert sorted(entry.path for entry in sync.list(f"{TMP}/adbutils-dir")) == [".", "..", "one.bin", "sub"]
    assert sync.pull_dir(f"{TMP}/adbutils-dir", tmp_path / "pulled") == 5003
    assert (tmp_path / "pulled/sub/two.txt").read_bytes() == b"two"


# --- adb 36 and Debian's adb 29 ---------------------------------------------------------------

@pytest.fixture(scope="module")
def adb(private_adb: PrivateAdb, device: registry.DeviceState) -> PrivateAdb:
    assert "connected" in private_adb.check("connect", device.config.adb_serial)
    return private_adb


def test_push_folder_with_symlinks(adb: PrivateAdb, device: registry.DeviceState, tmp_path: Path) -> None:
    serial = device.config.adb_serial
    folder = symlinked_folder(tmp_path)
    dest = f"{TMP}/push-{Path(adb.binary).parent.name}"
    for _ in range(2):  # the second push lands in DEST/libs, as adb does once DEST exists
        result = adb.run("-s", serial, "push", str(folder), dest)
        assert result.returncode == 0, result.stderr
    link_mtime = int(os.lstat(folder / "libfoo.so").st_mtime)
    for where in (dest, f"{dest}/libs"):
        listing = adb.check("-s", serial, "shell",
                            f"cd {where} && readlink libfoo.so sub/link && wc -c < libfoo.so && stat -c %Y libfoo.so")
        assert listing.split() == ["libfoo.so.1", "../libfoo.so", "70000", str(link_mtime)]


def test_forward_tcp_and_localabstract_carry_data_both_ways(adb: PrivateAdb, device: registry.DeviceState) -> None:
    serial = device.config.adb_serial
    for kind, address, remote in (("tcp", "7102", "tcp:7102"), ("abstract", "eb-fwd", "localabstract:eb-fwd")):
        server = device_server(adb, serial, kind, address)
        try:
            host_port = free_port()
            adb.check("-s", serial, "forward", f"tcp:{host_port}", remote)
            with socket.create_connection(("127.0.0.1", host_port), timeout=10) as conn:
                conn.sendall(b"ping")
                answer = b""
                while chunk := conn.recv(100):
                    answer += chunk
            assert answer == b"hello from the device;PING", kind
            server.wait(10)
        finally:
            server.kill()
            adb.run("-s", serial, "forward", "--remove-all")
    # The device's 127.0.0.1 is its own: a port only the HOST listens on is not reachable, so the
    # device refuses the OPEN and the forwarded connection closes at once.
    with socket.socket() as host_only:
        host_only.bind(("127.0.0.1", 0))
        host_only.listen()
        host_port = free_port()
        adb.check("-s", serial, "forward", f"tcp:{host_port}", f"tcp:{host_only.getsockname()[1]}")
        with socket.create_connection(("127.0.0.1", host_port), timeout=10) as conn:
            conn.settimeout(10)
            assert conn.recv(10) == b""
    adb.run("-s", serial, "forward", "--remove-all")


def test_reverse_carries_data_both_ways_and_lists_and_removes(adb: PrivateAdb, device: registry.DeviceState) -> None:
    serial = device.config.adb_serial
    port, received, thread = host_server()
    adb.check("-s", serial, "reverse", "tcp:7302", f"tcp:{port}")
    assert f"tcp:7302 tcp:{port}" in adb.check("-s", serial, "reverse", "--list")
    refused = adb.run("-s", serial, "reverse", "--no-rebind", "tcp:7302", f"tcp:{port}")
    assert refused.returncode != 0 and b"cannot rebind" in refused.stderr
    out = adb.check("-s", serial, "shell", f'{DEVICE_PYTHON} -c "{DEVICE_CLIENT}" 7302')
    thread.join(10)
    assert received == [b"from the device"] and out == "host got from the device\n"
    adb.check("-s", serial, "reverse", "--remove", "tcp:7302")
    assert "tcp:7302" not in adb.check("-s", serial, "reverse", "--list")
    # tcp:0: the device picks a free port and says which.
    picked = adb.check("-s", serial, "reverse", "tcp:0", f"tcp:{port}").strip()
    assert picked.isdigit() and f"tcp:{picked} tcp:{port}" in adb.check("-s", serial, "reverse", "--list")
    adb.check("-s", serial, "reverse", "--remove-all")


# The local address of the device's listener on a TCP port, from its own /proc/net/tcp (hex, as the kernel shows it).
LISTENER_ADDRESS = ("import sys; port = '%04X' % int(sys.argv[1]); "
                    "print([line.split()[1] for line in open('/proc/net/tcp') if line.split()[1].endswith(':' + port)])")


def test_reverse_listens_on_all_device_addresses_for_a_bare_port(shared_adb: PrivateAdb, device: registry.DeviceState,
                                                                 adbutils_device: object) -> None:
    """adbd's socket_spec_listen binds INADDR_ANY for `tcp:PORT` and loopback for `tcp:localhost:PORT`;
    the device's addresses are its sandbox's network namespace, never the host's."""
    dev: object = adbutils_device
    serial = device.config.adb_serial
    port, _, _ = host_server()
    dev.reverse("tcp:7303", f"tcp:{port}")  # type: ignore[attr-defined]
    dev.reverse("tcp:localhost:7304", f"tcp:{port}")  # type: ignore[attr-defined]
    try:
        bare = shared_adb.check("-s", serial, "shell", f'{DEVICE_PYTHON} -c "{LISTENER_ADDRESS}" 7303').strip()
        local = shared_adb.check("-s", serial, "shell", f'{DEVICE_PYTHON} -c "{LISTENER_ADDRESS}" 7304').strip()
        assert bare == "['00000000:1C87']" and local == "['0100007F:1C88']", (bare, local)
    finally:
        dev.reverse_remove_all()  # type: ignore[attr-defined]
