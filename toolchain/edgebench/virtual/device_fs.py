"""File access for the sync service, confined to the device's own `/` and done as the shell user.

The operations themselves are in fs_ops.py (paths resolved with openat2(RESOLVE_IN_ROOT) against
`/proc/<device init>/root`). When the server runs as root they run in a helper process that holds
the device shell's uid and groups (permissions and file ownership as `adb push` gets on a phone);
this process never changes its own ids, so its other threads (the gauge, which writes root-owned
/sys files every period) keep root. Without root there is no shell uid to take: they run in-process.
"""
from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import threading
from typing import Any

from edgebench.virtual import fs_ops
from edgebench.virtual.image import SHELL_UID
from edgebench.virtual.sandbox import SHELL_GROUPS

HELPER_STOP_S = 5.0


class ShellHelper:
    """The helper process (fs_ops.main) and one request at a time to it."""

    def __init__(self, root_fd: int) -> None:
        self.root_fd = root_fd
        self.lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None

    def start(self) -> None:
        with self.lock:
            if self.sock is None:
                self._start()

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        groups = ",".join(str(g) for g in (*SHELL_GROUPS, SHELL_UID))
        try:
            # Started as root (the interpreter may live under a private prefix); it drops to the shell itself.
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", fs_ops.__file__, str(theirs.fileno()), str(self.root_fd),
                 str(SHELL_UID), str(SHELL_UID), groups],
                pass_fds=(theirs.fileno(), self.root_fd), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        self.sock = ours

    def call(self, op: str, *args: Any) -> Any:
        with self.lock:
            if self.sock is None:
                self._start()
            assert self.sock is not None
            try:
                self.sock.sendall(fs_ops.encode({"op": op, "args": list(args)}))
                header, fds, _, _ = socket.recv_fds(self.sock, fs_ops.LENGTH.size, 1)
                if len(header) < fs_ops.LENGTH.size:  # the fd, if any, comes with the header's bytes
                    header += fs_ops.recv_exact(self.sock, fs_ops.LENGTH.size - len(header)) or b""
                body = fs_ops.recv_exact(self.sock, fs_ops.LENGTH.unpack(header)[0]) if len(header) == 4 else None
            except OSError as exc:
                self._abandon()
                raise OSError(errno.EIO, f"the device file helper failed ({exc}); it restarts on the next "
                                         "request") from exc
            if body is None:
                for fd in fds:
                    os.close(fd)
                code = self.proc.poll() if self.proc else None
                self._abandon()
                raise OSError(errno.EIO, f"the device file helper exited (status {code}); it restarts on the next "
                                         "request, see the device's server.log")
        answer = json.loads(body)
        wanted = 1 if answer.get("fd") else 0
        for fd in fds[wanted:]:  # nothing else is ever sent; never leak what arrives
            os.close(fd)
        if "err" in answer:
            raise fs_ops.error_from_wire(answer["err"])
        if wanted:
            if not fds:
                raise OSError(errno.EIO, f"the device file helper answered {op} without the file descriptor")
            return fds[0]
        return answer["ok"]

    def _abandon(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.proc is not None:
            try:
                self.proc.wait(HELPER_STOP_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def close(self) -> None:
        """End of the socket: the helper reads nothing and exits; reaped in the background, so a
        device reboot does not wait for the helper's interpreter to shut down."""
        with self.lock:
            if self.sock is not None:
                self.sock.close()
                self.sock = None
            if self.proc is not None:
                threading.Thread(target=self.proc.wait, name="fs-helper-reaper", daemon=True).start()
                self.proc = None


class DeviceFS:
    def __init__(self, root_path: str, *, as_shell: bool) -> None:
        self.root_fd = os.open(root_path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        self.helper = ShellHelper(self.root_fd) if as_shell and os.geteuid() == 0 else None
        if self.helper is not None:
            self.helper.start()  # boots while the device finishes starting, not on the first push

    def close(self) -> None:
        if self.helper is not None:
            self.helper.close()
        os.close(self.root_fd)

    def stat(self, path: str, *, follow: bool) -> os.stat_result:
        if self.helper is None:
            return fs_ops.stat(self.root_fd, path, follow)
        return fs_ops.stat_from_wire(self.helper.call("stat", path, follow))

    def listdir(self, path: str) -> list[tuple[str, os.stat_result | OSError]]:
        """Entries with their lstat (or the error), including '.' and '..' as readdir gives them."""
        if self.helper is None:
            return fs_ops.listdir(self.root_fd, path)
        entries: list[tuple[str, os.stat_result | OSError]] = []
        for name, st, *error in self.helper.call("listdir", path):  # [name, stat] or [name, None, error]
            entries.append((name, fs_ops.stat_from_wire(st) if st is not None else fs_ops.error_from_wire(error[0])))
        return entries

    def open_read(self, path: str) -> int:
        if self.helper is None:
            return fs_ops.open_read(self.root_fd, path)
        fd: int = self.helper.call("open_read", path)
        return fd

    def create_file(self, path: str, mode: int) -> int:
        """Open `path` for writing, replacing a file or symlink there (as adbd does), parents made."""
        if self.helper is None:
            return fs_ops.create_file(self.root_fd, path, mode)
        fd: int = self.helper.call("create_file", path, mode)
        return fd

    def symlink(self, target: str, path: str, mtime: int | None = None) -> None:
        if self.helper is None:
            fs_ops.symlink(self.root_fd, target, path, mtime)
        else:
            self.helper.call("symlink", target, path, mtime)

    def unlink(self, path: str) -> None:
        if self.helper is None:
            fs_ops.unlink(self.root_fd, path)
        else:
            self.helper.call("unlink", path)
