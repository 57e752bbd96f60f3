"""The `sync:` service (adb push/pull/ls/stat), written from AOSP SYNC.TXT and file_sync_protocol.h.

Requests are a byte stream across WRTE packets (a request may span packets, one packet may hold
several): 4-byte id + 4-byte little-endian length + payload. Implemented: STAT (lstat, v1), STA2
(stat) and LST2 (lstat) with the 72-byte v2 record, LIST/LIS2 (ending with DONE and a full zeroed
entry), SEND "path,mode" + DATA* + DONE(mtime) (symlinks when mode is S_IFLNK: the DATA is the
target, NUL-terminated as the adb client sends it, and the link gets the mtime, as
fixed_push_symlink_timestamp promises; parents made as with fixed_push_mkdir), RECV,
QUIT. Paths and link targets are C strings, as adbd passes them to the kernel. sendrecv_v2 (SND2,
RCV2, compression) is not implemented, so the device does not advertise it and clients use v1. Failures answer FAIL + message; unknown requests end the session.
"""
from __future__ import annotations

import asyncio
import os
import stat as stat_mod
import struct

from edgebench.virtual.adb_protocol import Stream
from edgebench.virtual.device_fs import DeviceFS

REQUEST = struct.Struct("<4sI")
STAT_V1 = struct.Struct("<4sIII")
STAT_V2 = struct.Struct("<4sIQQIIIIQqqq")
DENT_V1 = struct.Struct("<4sIIII")
DENT_V2 = struct.Struct("<4sIQQIIIIQqqqI")
SYNC_DATA_MAX = 64 * 1024
MAX_PATH = 1024


class _Requests:
    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.buffer = bytearray()

    async def read(self, n: int) -> bytes | None:
        while len(self.buffer) < n:
            chunk = await self.stream.read()
            if chunk is None:
                return None
            self.buffer += chunk
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data


class _Output:
    """Batches responses so a listing or a pull fills WRTE packets instead of sending tiny ones."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.buffer = bytearray()

    async def add(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) >= self.stream.max_payload:
            await self.flush()

    async def flush(self) -> None:
        if self.buffer:
            data, self.buffer = bytes(self.buffer), bytearray()
            await self.stream.write(data)


def _fail(message: str) -> bytes:
    data = message.encode()
    return REQUEST.pack(b"FAIL", len(data)) + data


def _c_string(text: str) -> str:
    """adbd hands paths and link targets to the kernel as C strings: they end at the first NUL.
    The adb client sends a symlink's target with its terminating NUL (`readlink` + '\\0')."""
    return text.split("\0", 1)[0]


def _u32(value: int) -> int:
    return value & 0xFFFFFFFF


def stat_v2_record(request_id: bytes, st: os.stat_result | None, error: int = 0) -> bytes:
    if st is None:
        return STAT_V2.pack(request_id, error, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    return STAT_V2.pack(request_id, 0, st.st_dev, st.st_ino, st.st_mode, st.st_nlink, st.st_uid, st.st_gid,
                        st.st_size, int(st.st_atime), int(st.st_mtime), int(st.st_ctime))


async def run_sync(stream: Stream, fs: DeviceFS) -> None:
    requests = _Requests(stream)
    out = _Output(stream)
    while True:
        header = await requests.read(REQUEST.size)
        if header is None:
            return
        request_id, length = REQUEST.unpack(header)
        if request_id == b"QUIT":
            await out.flush()
            return
        if request_id not in (b"STAT", b"STA2", b"LST2", b"LIST", b"LIS2", b"SEND", b"RECV"):
            await out.add(_fail(f"unknown command {request_id!r}"))
            await out.flush()
            return
        if length > MAX_PATH:
            await out.add(_fail(f"path too long: {length} bytes, at most {MAX_PATH}"))
            await out.flush()
            return
        raw = await requests.read(length)
        if raw is None:
            return
        path = raw.decode("utf-8", "surrogateescape")
        if request_id != b"SEND":
            path = _c_string(path)
        if request_id == b"STAT":
            try:
                st = fs.stat(path, follow=False)
                await out.add(STAT_V1.pack(b"STAT", _u32(st.st_mode), _u32(st.st_size), _u32(int(st.st_mtime))))
            except OSError:
                await out.add(STAT_V1.pack(b"STAT", 0, 0, 0))
        elif request_id in (b"STA2", b"LST2"):
            try:
                await out.add(stat_v2_record(request_id, fs.stat(path, follow=request_id == b"STA2")))
            except OSError as exc:
                await out.add(stat_v2_record(request_id, None, exc.errno or 0))
        elif request_id in (b"LIST", b"LIS2"):
            await _list(out, fs, path, v2=request_id == b"LIS2")
        elif not await (_recv(out, fs, path) if request_id == b"RECV" else _send(requests, out, fs, path)):
            await out.flush()
            return
        await out.flush()


async def _list(out: _Output, fs: DeviceFS, path: str, *, v2: bool) -> None:
    try:
        entries = fs.listdir(path)
    except OSError:
        entries = []  # adbd answers an unreadable folder with an empty listing
    for name, st in entries:
        encoded = name.encode("utf-8", "surrogateescape")
        if v2:
            if isinstance(st, OSError):
                record = DENT_V2.pack(b"DNT2", st.errno or 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, len(encoded))
            else:
                record = DENT_V2.pack(b"DNT2", 0, st.st_dev, st.st_ino, st.st_mode, st.st_nlink, st.st_uid,
                                      st.st_gid, st.st_size, int(st.st_atime), int(st.st_mtime),
                                      int(st.st_ctime), len(encoded))
        else:
            if isinstance(st, OSError):
                continue  # v1 has no error field; adbd skips entries it cannot stat
            record = DENT_V1.pack(b"DENT", _u32(st.st_mode), _u32(st.st_size), _u32(int(st.st_mtime)), len(encoded))
        await out.add(record + encoded)
    done = DENT_V2 if v2 else DENT_V1
    await out.add(b"DONE" + bytes(done.size - 4))


async def _recv(out: _Output, fs: DeviceFS, path: str) -> bool:
    """Send one file; False (session ends, as in adbd) after a FAIL."""
    try:
        fd = fs.open_read(path)
    except OSError as exc:
        await out.add(_fail(f"open failed: {exc.strerror}"))
        return False
    try:
        while True:
            try:
                data = os.read(fd, SYNC_DATA_MAX)
            except OSError as exc:
                await out.add(_fail(f"read failed: {exc.strerror}"))
                return False
            if not data:
                break
            await out.add(REQUEST.pack(b"DATA", len(data)) + data)
    finally:
        os.close(fd)
    await out.add(REQUEST.pack(b"DONE", 0))
    return True


async def _drain_until_done(requests: _Requests) -> None:
    """After a failure adbd keeps reading (and dropping) DATA until DONE, then ends the session."""
    while (header := await requests.read(REQUEST.size)) is not None:
        chunk_id, length = REQUEST.unpack(header)
        if chunk_id != b"DATA" or length > SYNC_DATA_MAX or await requests.read(length) is None:
            return


def _remove_partial(fs: DeviceFS, path: str, fd: int | None) -> None:
    """The link broke mid-push: adbd's `fail:` path unlinks the half-written file."""
    if fd is not None:
        try:
            fs.unlink(path)
        except OSError:
            pass


async def _send(requests: _Requests, out: _Output, fs: DeviceFS, spec: str) -> bool:
    """Receive one file; False when the session must end (after a FAIL, as adbd does)."""
    path, comma, mode_text = spec.rpartition(",")
    path = _c_string(path)
    if not comma:
        await out.add(_fail("missing , in ID_SEND_V1"))
        return False
    try:
        mode = int(mode_text, 0)
    except ValueError:
        await out.add(_fail("bad mode"))
        return False

    async def fail(message: str, *, remove: bool) -> bool:
        await out.add(_fail(message))
        await out.flush()
        await _drain_until_done(requests)
        if remove:
            try:
                fs.unlink(path)
            except OSError:
                pass
        return False

    is_link = stat_mod.S_ISLNK(mode)
    fd: int | None = None
    if not is_link:
        try:
            fd = fs.create_file(path, mode)
        except OSError as exc:
            return await fail(f"couldn't create file: {exc.strerror}", remove=False)
    link_target = bytearray()
    try:
        while True:
            header = await requests.read(REQUEST.size)
            if header is None:
                _remove_partial(fs, path, fd)
                return False
            chunk_id, length = REQUEST.unpack(header)
            if chunk_id == b"DONE":
                mtime = length
                break
            if chunk_id != b"DATA":
                return await fail("invalid data message", remove=fd is not None)
            if length > SYNC_DATA_MAX:
                return await fail("oversize data message", remove=fd is not None)
            data = await requests.read(length)
            if data is None:
                _remove_partial(fs, path, fd)
                return False
            if is_link:
                link_target += data
                continue
            assert fd is not None
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            except OSError as exc:
                return await fail(f"write failed: {exc.strerror}", remove=True)
        if fd is not None:
            os.utime(fd, (mtime, mtime))
        else:
            try:
                fs.symlink(_c_string(link_target.decode("utf-8", "surrogateescape")), path, mtime)
            except OSError as exc:
                await out.add(_fail(f"symlink failed: {exc.strerror}"))
                return False
    except asyncio.CancelledError:  # the connection went away mid-push
        _remove_partial(fs, path, fd)
        raise
    finally:
        if fd is not None:
            os.close(fd)
    await out.add(REQUEST.pack(b"OKAY", 0))
    return True
