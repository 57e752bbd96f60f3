"""The sync service's file operations on a device root, and the helper process that runs them as the shell.

Paths are resolved with openat2(RESOLVE_IN_ROOT) against an fd of `/proc/<device init>/root`: `..`
and absolute symlinks made by device programs stay inside the device, magic links are refused, and
the sandbox's mounts apply (read-only `/system`, the fake `/proc/cpuinfo`).

Why a helper process: the operations must run with the device shell's uid and groups (permissions
and file ownership as `adb push` gets on a phone), but setuid/seteuid in a threaded process changes
every thread's ids (glibc broadcasts setxid), which broke the gauge thread's root-only writes. So
the device server starts this file as a separate process (as root, for the interpreter under a
private prefix), which drops to the shell's ids for good and then serves requests on a socket:
4-byte length + JSON, answers the same way, with an opened fd passed as SCM_RIGHTS.

Standard library only: it runs as `python -I -S fs_ops.py ...` without the package on the path.
"""
from __future__ import annotations

import ctypes
import errno
import json
import os
import socket
import stat as stat_mod
import struct
import sys
from typing import Any, Callable

SYS_OPENAT2 = 437  # same number on x86_64 and aarch64 (asm-generic)
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_IN_ROOT = 0x10
PR_SET_DUMPABLE = 4
LENGTH = struct.Struct("<I")


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def openat2(dirfd: int, path: str, flags: int, mode: int = 0) -> int:
    how = _OpenHow(flags | os.O_CLOEXEC, mode, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
    fd: int = _libc.syscall(SYS_OPENAT2, dirfd, os.fsencode(path), ctypes.byref(how), ctypes.sizeof(how))
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), path)
    return fd


def _open(root_fd: int, path: str, flags: int, mode: int = 0) -> int:
    return openat2(root_fd, path.lstrip("/") or ".", flags, mode)


def _split(path: str) -> tuple[str, str]:
    """Device path -> (parent, last component); the root itself has no last component."""
    path = "/" + path.strip("/")
    parent, _, name = path.rpartition("/")
    return parent or "/", name


# --- the operations (run in the helper as the shell, or in-process when the server is not root) ---

def stat(root_fd: int, path: str, follow: bool) -> os.stat_result:
    fd = _open(root_fd, path, os.O_PATH | (0 if follow else os.O_NOFOLLOW))
    try:
        return os.fstat(fd)
    finally:
        os.close(fd)


def listdir(root_fd: int, path: str) -> list[tuple[str, os.stat_result | OSError]]:
    """Entries with their lstat (or the error), including '.' and '..' as readdir gives them."""
    fd = _open(root_fd, path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        entries: list[tuple[str, os.stat_result | OSError]] = [(".", os.fstat(fd))]
        try:  # resolved in the device root: '..' of '/' is '/' itself, never the host's folder
            entries.append(("..", stat(root_fd, path.rstrip("/") + "/..", True)))
        except OSError as exc:
            entries.append(("..", exc))
        for name in sorted(os.listdir(fd)):
            try:
                entries.append((name, os.stat(name, dir_fd=fd, follow_symlinks=False)))
            except OSError as exc:
                entries.append((name, exc))
        return entries
    finally:
        os.close(fd)


def open_read(root_fd: int, path: str) -> int:
    fd = _open(root_fd, path, os.O_RDONLY)
    if stat_mod.S_ISDIR(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    return fd


def mkdirs(root_fd: int, path: str, mode: int = 0o775) -> None:
    """mkdir -p inside the device; each step resolved in the device root (fixed_push_mkdir)."""
    current = "/"
    for part in [p for p in path.split("/") if p]:
        fd = _open(root_fd, current, os.O_PATH | os.O_DIRECTORY)
        try:
            os.mkdir(part, mode, dir_fd=fd)
        except FileExistsError:
            pass
        finally:
            os.close(fd)
        current = current.rstrip("/") + "/" + part


def _parent_fd(root_fd: int, path: str, *, make_parents: bool) -> tuple[int, str]:
    parent, name = _split(path)
    if not name:
        raise OSError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    try:
        return _open(root_fd, parent, os.O_PATH | os.O_DIRECTORY), name
    except FileNotFoundError:
        if not make_parents:
            raise
    mkdirs(root_fd, parent)
    return _open(root_fd, parent, os.O_PATH | os.O_DIRECTORY), name


def create_file(root_fd: int, path: str, mode: int) -> int:
    """Open `path` for writing, replacing a file or symlink there (as adbd does), parents made."""
    parent_fd, name = _parent_fd(root_fd, path, make_parents=True)
    try:
        try:
            st = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
            if stat_mod.S_ISREG(st.st_mode) or stat_mod.S_ISLNK(st.st_mode):
                os.unlink(name, dir_fd=parent_fd)
        except FileNotFoundError:
            pass
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC,
                     mode & 0o7777, dir_fd=parent_fd)
    finally:
        os.close(parent_fd)
    os.fchmod(fd, mode & 0o777)  # the umask must not narrow what the host asked for
    return fd


def symlink(root_fd: int, target: str, path: str, mtime: int | None = None) -> None:
    """Make (or replace) a symlink; `mtime` is set on the link itself, as adbd does on push."""
    parent_fd, name = _parent_fd(root_fd, path, make_parents=True)
    try:
        try:
            os.unlink(name, dir_fd=parent_fd)
        except FileNotFoundError:
            pass
        os.symlink(target, name, dir_fd=parent_fd)
        if mtime is not None:
            os.utime(name, (mtime, mtime), dir_fd=parent_fd, follow_symlinks=False)
    finally:
        os.close(parent_fd)


def unlink(root_fd: int, path: str) -> None:
    parent_fd, name = _parent_fd(root_fd, path, make_parents=False)
    try:
        os.unlink(name, dir_fd=parent_fd)
    finally:
        os.close(parent_fd)


OPERATIONS: dict[str, Callable[..., Any]] = {"stat": stat, "listdir": listdir, "open_read": open_read,
                                             "create_file": create_file, "symlink": symlink, "unlink": unlink}
RETURNS_FD = {"open_read", "create_file"}


# --- wire format (shared by the helper and its client in device_fs.py) ---

def stat_to_wire(st: os.stat_result) -> list[Any]:
    return [*tuple(st)[:10], st.st_atime, st.st_mtime, st.st_ctime]


def stat_from_wire(values: list[Any]) -> os.stat_result:
    return os.stat_result(values)


def error_to_wire(exc: OSError) -> list[Any]:
    return [exc.errno or errno.EIO, exc.strerror or str(exc), exc.filename]


def error_from_wire(values: list[Any]) -> OSError:
    return OSError(*values) if values[2] is not None else OSError(values[0], values[1])


def encode(message: Any) -> bytes:
    data = json.dumps(message, separators=(",", ":")).encode()  # lone surrogates (odd names) escape as \udcXX
    return LENGTH.pack(len(data)) + data


def recv_exact(sock: socket.socket, n: int) -> bytes | None:
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def _answer(root_fd: int, op: str, args: list[Any]) -> tuple[Any, int | None]:
    try:
        result = OPERATIONS[op](root_fd, *args)
    except OSError as exc:
        return {"err": error_to_wire(exc)}, None
    except ValueError as exc:  # a NUL inside a path: refused like any bad path, never the end of the helper
        return {"err": [errno.EINVAL, str(exc), None]}, None
    if op in RETURNS_FD:
        return {"fd": True}, result
    if op == "stat":
        return {"ok": stat_to_wire(result)}, None
    if op == "listdir":
        return {"ok": [[name, stat_to_wire(st)] if isinstance(st, os.stat_result) else [name, None, error_to_wire(st)]
                       for name, st in result]}, None
    return {"ok": None}, None


def serve(sock: socket.socket, root_fd: int) -> None:
    while (header := recv_exact(sock, LENGTH.size)) is not None:
        body = recv_exact(sock, LENGTH.unpack(header)[0])
        if body is None:
            return
        request = json.loads(body)
        answer, fd = _answer(root_fd, request["op"], request["args"])
        if fd is None:
            sock.sendall(encode(answer))
        else:
            data = encode(answer)
            sent = socket.send_fds(sock, [data], [fd])
            os.close(fd)
            if sent < len(data):
                sock.sendall(data[sent:])


def main(argv: list[str]) -> None:
    """argv: socket fd, root fd, uid, gid, supplementary groups (comma-separated)."""
    sock_fd, root_fd, uid, gid = (int(a) for a in argv[:4])
    groups = [int(g) for g in argv[4].split(",") if g]
    os.setgroups(groups)  # this process only: it has no other threads
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)  # for good: no way back to root
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # device programs (same uid) cannot ptrace it
    serve(socket.socket(fileno=sock_fd), root_fd)


if __name__ == "__main__":
    main(sys.argv[1:])
