"""DeviceFS as the shell user (host root): a phone's permissions, without touching this process's ids."""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Iterator

import pytest

from edgebench.virtual.device_fs import DeviceFS
from edgebench.virtual.hostfiles import AtomicWriter
from edgebench.virtual.image import SHELL_UID

NEEDS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="the shell-user path needs host root")
SDCARD_RW = 1015  # one of the shell's supplementary groups


@pytest.fixture
def device_root(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "root"
    for rel, mode, owner in (("data/local/tmp", 0o771, SHELL_UID), ("sys/class", 0o755, 0),
                             ("data/system", 0o700, 0), ("storage/sd", 0o770, 0)):
        (root / rel).mkdir(parents=True)
        os.chown(root / rel, owner, SDCARD_RW if rel == "storage/sd" else owner)
        os.chmod(root / rel, mode)
    os.chmod(tmp_path, 0o755)
    yield root


@pytest.fixture
def fs(device_root: Path) -> Iterator[DeviceFS]:
    fs = DeviceFS(str(device_root), as_shell=True)
    yield fs
    fs.close()


@NEEDS_ROOT
def test_files_get_a_phones_owner_and_permission_errors(fs: DeviceFS, device_root: Path) -> None:
    fd = fs.create_file("/data/local/tmp/new/dir/f.bin", 0o640)
    os.write(fd, b"abc")
    os.close(fd)
    st = (device_root / "data/local/tmp/new/dir/f.bin").stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777, st.st_size) == (SHELL_UID, SHELL_UID, 0o640, 3)
    assert (device_root / "data/local/tmp/new").stat().st_uid == SHELL_UID  # parents made as the shell too
    with pytest.raises(PermissionError):
        fs.create_file("/data/system/x", 0o644)  # root's 0700 folder
    with pytest.raises(PermissionError):
        fs.create_file("/sys/class/x", 0o644)  # root's 0755 folder: readable, not writable
    with pytest.raises(PermissionError):
        fs.listdir("/data/system")
    os.close(fs.create_file("/storage/sd/ok", 0o644))  # writable through the sdcard_rw group
    fd = fs.open_read("/data/local/tmp/new/dir/f.bin")
    assert os.read(fd, 10) == b"abc"
    os.close(fd)
    names = {name: st for name, st in fs.listdir("/data/local/tmp/new/dir")}
    assert set(names) == {".", "..", "f.bin"} and names["f.bin"].st_size == 3
    assert fs.stat("/data/local/tmp/new/dir/f.bin", follow=False).st_uid == SHELL_UID
    fs.symlink("/data/system", "/data/local/tmp/link")
    assert os.readlink(device_root / "data/local/tmp/link") == "/data/system"
    fs.unlink("/data/local/tmp/link")
    with pytest.raises(FileNotFoundError):
        fs.unlink("/data/local/tmp/link")


@NEEDS_ROOT
def test_shell_operations_leave_other_threads_root(fs: DeviceFS, device_root: Path, tmp_path: Path) -> None:
    """The gauge thread writes root-owned sysfs files every period while files move: none may fail.

    Before: DeviceFS switched the whole process to uid 2000 (glibc applies setxid to every
    thread), so the gauge's writes failed with PermissionError and left staging files behind."""
    staging = tmp_path / "host-staging"
    staging.mkdir(mode=0o700)
    writer = AtomicWriter(device_root, staging)
    failures: list[str] = []
    writes = 0
    stop = threading.Event()

    def gauge() -> None:
        nonlocal writes
        while not stop.is_set():
            try:
                if os.geteuid() != 0:
                    failures.append(f"euid {os.geteuid()}")
                writer.write("sys/class/current_now", f"{writes}\n")
                writes += 1
            except OSError as exc:
                failures.append(repr(exc))

    thread = threading.Thread(target=gauge)
    thread.start()
    try:
        for i in range(300):
            fd = fs.create_file(f"/data/local/tmp/f{i % 10}", 0o644)
            os.write(fd, b"x" * 100)
            os.close(fd)
            fs.stat(f"/data/local/tmp/f{i % 10}", follow=True)
            fs.listdir("/data/local/tmp")
            os.close(fs.open_read(f"/data/local/tmp/f{i % 10}"))
    finally:
        stop.set()
        thread.join()
    assert writes > 0 and failures == [], f"{len(failures)} failed gauge writes of {writes + len(failures)}: {failures[:3]}"
    assert list(staging.iterdir()) == []
    assert (os.geteuid(), os.getegid()) == (0, 0)


@NEEDS_ROOT
def test_a_dead_helper_is_an_error_then_replaced(fs: DeviceFS) -> None:
    fs.stat("/", follow=True)
    assert fs.helper is not None and fs.helper.proc is not None
    fs.helper.proc.kill()
    fs.helper.proc.wait()
    with pytest.raises(OSError, match="device file helper"):
        fs.stat("/", follow=True)
    assert fs.stat("/data/local/tmp", follow=True).st_uid == SHELL_UID  # a new helper serves again


def test_a_failed_staged_write_leaves_no_stray_file(tmp_path: Path) -> None:
    root, staging = tmp_path / "root", tmp_path / "staging"
    (root / "sys/class/node").mkdir(parents=True)  # a folder where the file should go: the rename fails
    writer = AtomicWriter(root, staging)
    with pytest.raises(OSError):
        writer.write("sys/class/node", "1\n")
    assert list(staging.iterdir()) == []
