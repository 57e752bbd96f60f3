"""Sockets made inside a virtual device's network namespace (for `adb forward` and `adb reverse`).

A socket belongs to the network namespace it was created in, for its whole life. So a small helper
process that joined the device's user and network namespaces (with util-linux `nsenter`, as device
commands do) creates sockets on request and passes them back over a Unix socket (SCM_RIGHTS); the
device server then connects, binds and listens on them with asyncio like any other socket. Thus
`127.0.0.1:PORT` and abstract Unix names (`localabstract:`) are the device's own - its loopback, its
processes - and never the host's. The helper only creates sockets: it binds, connects and reads
nothing, and it needs no privilege (its ports are bound by the server, in the device's namespace).

The helper is this file run as a script (`python -I -S netns_sockets.py FD`): standard library only.
"""
from __future__ import annotations

import errno
import os
import socket
import struct
import subprocess
import sys
import threading

REQUEST = struct.Struct("<ii")  # family, type
ANSWER = struct.Struct("<i")  # 0, or the errno of a failed socket()
NSENTER = "/usr/bin/nsenter"
ANSWER_TIMEOUT_S = 5.0


class DeviceSockets:
    """The helper of one running device (its init's namespaces); `socket()` is thread-safe."""

    def __init__(self, init_pid: int) -> None:
        self.init_pid = init_pid
        self.lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            # --preserve-credentials: no setgroups (denied to a rootless device's user namespace);
            # joining the namespace we (or our own uid) own needs no further privilege.
            self.proc = subprocess.Popen(
                [NSENTER, f"--target={self.init_pid}", "--user", "--net", "--preserve-credentials", "--",
                 sys.executable, "-I", "-S", __file__, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        ours.settimeout(ANSWER_TIMEOUT_S)
        self.sock = ours

    def socket(self, family: int, kind: int = socket.SOCK_STREAM) -> socket.socket:
        """A new non-blocking socket in the device's network namespace."""
        with self.lock:
            if self.sock is None:
                self._start()
            assert self.sock is not None
            try:
                self.sock.sendall(REQUEST.pack(family, kind))
                answer, fds, _, _ = socket.recv_fds(self.sock, ANSWER.size, 1)
            except OSError as exc:
                self._abandon()
                raise OSError(errno.EIO, f"the device's socket helper failed ({exc}); it restarts on the "
                                         "next request") from exc
        if len(answer) != ANSWER.size:
            for fd in fds:
                os.close(fd)
            with self.lock:
                self._abandon()
            raise OSError(errno.EIO, "the device's socket helper exited; it restarts on the next request")
        (error,) = ANSWER.unpack(answer)
        if error or not fds:
            for fd in fds:
                os.close(fd)
            raise OSError(error or errno.EIO, os.strerror(error or errno.EIO))
        made = socket.socket(fileno=fds[0])
        made.setblocking(False)
        return made

    def _abandon(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def close(self) -> None:
        """End of the socket: the helper reads EOF and exits; reaped in the background."""
        with self.lock:
            if self.sock is not None:
                self.sock.close()
                self.sock = None
            if self.proc is not None:
                threading.Thread(target=self.proc.wait, name="netns-sockets-reaper", daemon=True).start()
                self.proc = None


def _serve(channel: socket.socket) -> None:
    while True:
        request = b""
        while len(request) < REQUEST.size:
            chunk = channel.recv(REQUEST.size - len(request))
            if not chunk:
                return
            request += chunk
        family, kind = REQUEST.unpack(request)
        try:
            made = socket.socket(family, kind | socket.SOCK_CLOEXEC)
        except OSError as exc:
            channel.sendall(ANSWER.pack(exc.errno or errno.EIO))
            continue
        with made:
            socket.send_fds(channel, [ANSWER.pack(0)], [made.fileno()])


def main(argv: list[str]) -> int:
    channel = socket.socket(fileno=int(argv[1]))
    try:
        _serve(channel)
    except (BrokenPipeError, ConnectionResetError):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
