"""The sync service against a plain folder: framing across/within packets, stat/list/send/recv, failures."""
from __future__ import annotations

import asyncio
import errno
import os
import stat
import struct
from pathlib import Path

import pytest

from edgebench.virtual.device_fs import DeviceFS
from edgebench.virtual.sync_service import DENT_V1, DENT_V2, STAT_V1, STAT_V2, run_sync


class FakeStream:
    """Feeds pre-cut chunks as the host's WRTE packets and collects what the service writes."""

    max_payload = 4096

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = list(chunks)
        self.output = bytearray()
        self.closed = False

    async def read(self) -> bytes | None:
        return self.chunks.pop(0) if self.chunks else None

    async def write(self, data: bytes) -> None:
        self.output += data


def req(request_id: bytes, payload: bytes = b"") -> bytes:
    return request_id + struct.pack("<I", len(payload)) + payload


def data(payload: bytes) -> bytes:
    return b"DATA" + struct.pack("<I", len(payload)) + payload


def done(value: int = 0) -> bytes:
    return b"DONE" + struct.pack("<I", value)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "data/local/tmp").mkdir(parents=True)
    return tmp_path


def sync(root: Path, chunks: list[bytes]) -> bytes:
    fs = DeviceFS(str(root), as_shell=False)
    stream = FakeStream(chunks)
    try:
        asyncio.run(run_sync(stream, fs))  # type: ignore[arg-type]
    finally:
        fs.close()
    return bytes(stream.output)


def test_requests_split_across_packets_and_packed_together(root: Path) -> None:
    (root / "data/local/tmp/f").write_bytes(b"12345")
    stream = req(b"STAT", b"/data/local/tmp/f") + req(b"STAT", b"/nope") + req(b"QUIT")
    # One request cut in three, then the rest in one packet.
    out = sync(root, [stream[:3], stream[3:11], stream[11:]])
    first, second = STAT_V1.unpack(out[:16]), STAT_V1.unpack(out[16:32])
    assert first[0] == b"STAT" and stat.S_ISREG(first[1]) and first[2] == 5
    assert second == (b"STAT", 0, 0, 0)  # v1 says "missing" with an all-zero record
    assert len(out) == 32


def test_stat_v2_reports_errno_and_follows_or_not(root: Path) -> None:
    os.symlink("/data/local/tmp", root / "link")
    out = sync(root, [req(b"STA2", b"/link") + req(b"LST2", b"/link") + req(b"STA2", b"/missing")])
    followed, itself, missing = (STAT_V2.unpack(out[i * 72:(i + 1) * 72]) for i in range(3))
    assert followed[0] == b"STA2" and stat.S_ISDIR(followed[4])
    assert itself[0] == b"LST2" and stat.S_ISLNK(itself[4])
    assert missing[:2] == (b"STA2", errno.ENOENT)


@pytest.mark.parametrize("request_id, dent", [(b"LIST", DENT_V1), (b"LIS2", DENT_V2)])
def test_listing_includes_dot_entries_and_ends_with_a_zeroed_entry(root: Path, request_id: bytes, dent: struct.Struct) -> None:
    (root / "data/local/tmp/a.txt").write_text("a")
    out = sync(root, [req(request_id, b"/data/local/tmp")])
    names, offset = [], 0
    while out[offset:offset + 4] != b"DONE":
        fields = dent.unpack_from(out, offset)
        offset += dent.size
        names.append(out[offset:offset + fields[-1]].decode())
        offset += fields[-1]
    assert names == [".", "..", "a.txt"]
    assert out[offset:] == b"DONE" + bytes(dent.size - 4)  # a full, zeroed entry


def test_send_makes_parents_sets_mode_and_mtime(root: Path) -> None:
    chunks = [req(b"SEND", b"/data/local/tmp/x/y/f.bin,33261"), data(b"a" * 70000)[:5000], data(b"a" * 70000)[5000:]]
    out = sync(root, chunks)
    assert out.startswith(b"FAIL")  # 70000 > 64 KiB: oversize data message
    good = [req(b"SEND", b"/data/local/tmp/x/y/f.bin,33261") + data(b"abc") + data(b"def") + done(1_700_000_000)]
    assert sync(root, good) == b"OKAY" + bytes(4)
    target = root / "data/local/tmp/x/y/f.bin"
    assert target.read_bytes() == b"abcdef"
    assert stat.S_IMODE(target.stat().st_mode) == 0o755 and int(target.stat().st_mtime) == 1_700_000_000


def test_send_symlink_and_recv(root: Path) -> None:
    out = sync(root, [req(b"SEND", b"/data/local/tmp/l,%d" % (stat.S_IFLNK | 0o777)) + data(b"/system") + done()])
    assert out == b"OKAY" + bytes(4)
    assert os.readlink(root / "data/local/tmp/l") == "/system"
    (root / "data/local/tmp/r.bin").write_bytes(b"z" * 100_000)
    out = sync(root, [req(b"RECV", b"/data/local/tmp/r.bin")])
    payload, offset = bytearray(), 0
    while out[offset:offset + 4] == b"DATA":
        (size,) = struct.unpack_from("<I", out, offset + 4)
        payload += out[offset + 8:offset + 8 + size]
        offset += 8 + size
    assert bytes(payload) == b"z" * 100_000 and out[offset:] == done()


def test_paths_never_leave_the_root(root: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret").write_text("host")
    os.symlink(str(outside), root / "data/local/tmp/abs")  # absolute: means the *device's* path
    out = sync(root, [req(b"RECV", b"/data/local/tmp/abs/secret")])
    assert out.startswith(b"FAIL")
    out = sync(root, [req(b"RECV", b"/../../../../" + str(outside).encode() + b"/secret")])
    assert out.startswith(b"FAIL")
    out = sync(root, [req(b"SEND", b"/data/local/tmp/abs/new,420") + data(b"x") + done()])
    assert out.startswith(b"FAIL")  # the link dangles inside the device, as it would on a phone
    assert not (outside / "new").exists()
    (root / str(outside).lstrip("/")).mkdir(parents=True)
    out = sync(root, [req(b"SEND", b"/data/local/tmp/abs/new,420") + data(b"x") + done()])
    assert out == b"OKAY" + bytes(4)
    assert not (outside / "new").exists()
    assert (root / str(outside).lstrip("/") / "new").read_bytes() == b"x"


def test_failures_end_the_session(root: Path) -> None:
    out = sync(root, [req(b"RECV", b"/missing") + req(b"STAT", b"/")])
    assert out.startswith(b"FAIL") and b"open failed" in out and b"STAT" not in out
    assert sync(root, [req(b"XXXX", b"/")]).startswith(b"FAIL")
    assert sync(root, [req(b"SEND", b"/data/local/tmp/no-comma")]).startswith(b"FAIL")


def test_symlink_targets_and_paths_are_c_strings_as_the_adb_client_sends_them(root: Path) -> None:
    """`adb push DIR` sends a link's target as readlink() + NUL; over an existing file it replaces it."""
    (root / "data/local/tmp/libfoo.so").write_bytes(b"old")
    mode = b"%d" % (stat.S_IFLNK | 0o777)
    out = sync(root, [req(b"SEND", b"/data/local/tmp/libfoo.so," + mode) + data(b"libfoo.so.1\0") + done(1_600_000_000),
                      req(b"SEND", b"/data/local/tmp/sub/link," + mode) + data(b"../libfoo.so\0") + done(),
                      req(b"LST2", b"/data/local/tmp/libfoo.so\0ignored")])
    assert out[:16] == (b"OKAY" + bytes(4)) * 2
    assert os.readlink(root / "data/local/tmp/libfoo.so") == "libfoo.so.1"
    assert os.lstat(root / "data/local/tmp/libfoo.so").st_mtime == 1_600_000_000  # fixed_push_symlink_timestamp
    assert os.readlink(root / "data/local/tmp/sub/link") == "../libfoo.so"
    lst2 = STAT_V2.unpack(out[16:])
    assert lst2[0] == b"LST2" and lst2[1] == 0 and stat.S_ISLNK(lst2[4])
    out = sync(root, [req(b"SEND", b"/data/local/tmp/a\0b,420") + data(b"x") + done()])
    assert out == b"OKAY" + bytes(4) and (root / "data/local/tmp/a").read_bytes() == b"x"


@pytest.mark.skipif(os.geteuid() != 0, reason="the shell-uid file helper runs only when the server is root")
def test_file_helper_refuses_a_nul_in_a_path_and_stays_up(root: Path) -> None:
    """A path with a NUL used to raise ValueError inside the helper, which then exited mid-push."""
    for folder in (root, root / "data", root / "data/local"):
        folder.chmod(0o755)
    (root / "data/local/tmp").chmod(0o777)
    fs = DeviceFS(str(root), as_shell=True)
    try:
        assert fs.helper is not None
        with pytest.raises(OSError) as raised:
            fs.symlink("libfoo.so.1\0", "/data/local/tmp/link")
        assert raised.value.errno == errno.EINVAL
        proc = fs.helper.proc
        assert proc is not None and proc.poll() is None
        assert stat.S_ISDIR(fs.stat("/data/local/tmp", follow=True).st_mode)
        assert fs.helper.proc is proc  # the same helper answered
    finally:
        fs.close()
