"""File access for the sync service, confined to the device's own `/` and done as the shell user.

Paths are resolved with openat2(RESOLVE_IN_ROOT) against `/proc/<device init>/root`: `..` and
absolute symlinks made by device programs stay inside the device (a symlink to `/etc` means the
*device's* /etc), magic links are refused, and the sandbox's mounts apply (read-only `/system`,
the fake `/proc/cpuinfo`). While a file operation runs, the server takes the device shell's uid and
groups (when it runs as root), so permissions and file ownership are what `adb push` gets on a phone.
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import stat as stat_mod
from typing import Iterator

from edgebench.virtual.image import SHELL_UID
from edgebench.virtual.sandbox import SHELL_GROUPS

SYS_OPENAT2 = 437  # same number on x86_64 and aarch64 (asm-generic)
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_IN_ROOT = 0x10


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def openat2(dirfd: int, path: str, flags: int, mode: int = 0) -> int:
    how = _OpenHow(flags | os.O_CLOEXEC, mode, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
    fd = _libc.syscall(SYS_OPENAT2, dirfd, path.encode(), ctypes.byref(how), ctypes.sizeof(how))
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), path)
    return fd


def _split(path: str) -> tuple[str, str]:
    """Device path -> (parent, last component); the root itself has no last component."""
    path = "/" + path.strip("/")
    parent, _, name = path.rpartition("/")
    return parent or "/", name


class DeviceFS:
    def __init__(self, root_path: str, *, as_shell: bool) -> None:
        self.root_fd = os.open(root_path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        self.as_shell = as_shell and os.geteuid() == 0

    def close(self) -> None:
        os.close(self.root_fd)

    @contextlib.contextmanager
    def shell_user(self) -> Iterator[None]:
        """Run the body with the device shell's credentials (no await inside: credentials are process-wide)."""
        if not self.as_shell:
            yield
            return
        groups = os.getgroups()
        os.setgroups(list(SHELL_GROUPS) + [SHELL_UID])
        os.setegid(SHELL_UID)
        os.seteuid(SHELL_UID)
        try:
            yield
        finally:
            os.seteuid(0)
            os.setegid(0)
            os.setgroups(groups)

    def _open(self, path: str, flags: int, mode: int = 0) -> int:
        return openat2(self.root_fd, path.lstrip("/") or ".", flags, mode)

    def stat(self, path: str, *, follow: bool) -> os.stat_result:
        with self.shell_user():
            fd = self._open(path, os.O_PATH | (0 if follow else os.O_NOFOLLOW))
        try:
            return os.fstat(fd)
        finally:
            os.close(fd)

    def listdir(self, path: str) -> list[tuple[str, os.stat_result | OSError]]:
        """Entries with their lstat (or the error), including '.' and '..' as readdir gives them."""
        with self.shell_user():
            fd = self._open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            entries: list[tuple[str, os.stat_result | OSError]] = []
            with self.shell_user():
                entries.append((".", os.fstat(fd)))
                try:  # resolved in the device root: '..' of '/' is '/' itself, never the host's folder
                    parent_fd = self._open(path.rstrip("/") + "/..", os.O_PATH)
                    try:
                        entries.append(("..", os.fstat(parent_fd)))
                    finally:
                        os.close(parent_fd)
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

    def open_read(self, path: str) -> int:
        with self.shell_user():
            fd = self._open(path, os.O_RDONLY)
        if stat_mod.S_ISDIR(os.fstat(fd).st_mode):
            os.close(fd)
            raise OSError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        return fd

    def _parent_fd(self, path: str, *, make_parents: bool) -> tuple[int, str]:
        parent, name = _split(path)
        if not name:
            raise OSError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        try:
            return self._open(parent, os.O_PATH | os.O_DIRECTORY), name
        except FileNotFoundError:
            if not make_parents:
                raise
        self.mkdirs(parent)
        return self._open(parent, os.O_PATH | os.O_DIRECTORY), name

    def mkdirs(self, path: str, mode: int = 0o775) -> None:
        """mkdir -p inside the device; each step resolved in the device root (fixed_push_mkdir)."""
        current = "/"
        for part in [p for p in path.split("/") if p]:
            fd = self._open(current, os.O_PATH | os.O_DIRECTORY)
            try:
                os.mkdir(part, mode, dir_fd=fd)
            except FileExistsError:
                pass
            finally:
                os.close(fd)
            current = current.rstrip("/") + "/" + part

    def create_file(self, path: str, mode: int) -> int:
        """Open `path` for writing, replacing a file or symlink there (as adbd does), parents made."""
        with self.shell_user():
            parent_fd, name = self._parent_fd(path, make_parents=True)
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

    def symlink(self, target: str, path: str) -> None:
        with self.shell_user():
            parent_fd, name = self._parent_fd(path, make_parents=True)
            try:
                try:
                    os.unlink(name, dir_fd=parent_fd)
                except FileNotFoundError:
                    pass
                os.symlink(target, name, dir_fd=parent_fd)
            finally:
                os.close(parent_fd)

    def unlink(self, path: str) -> None:
        with self.shell_user():
            parent_fd, name = self._parent_fd(path, make_parents=False)
            try:
                os.unlink(name, dir_fd=parent_fd)
            finally:
                os.close(parent_fd)
