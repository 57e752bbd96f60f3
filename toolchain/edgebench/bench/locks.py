"""Device locks: two edgebench processes never measure one device at once.

Two layers: a host lock (flock on a file named after the device identity; the kernel drops it when
the holder dies, so it is never stale) stops two processes on this host; a lock folder on the device
(`mkdir` is atomic) stops two hosts of a lab. A device lock whose holder is gone is detected as stale:
same host and the pid is dead, or its heartbeat is older than STALE_AFTER_S.
"""
from __future__ import annotations

import fcntl
import getpass
import json
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgebench.errors import DeviceError

STALE_AFTER_S = 15 * 60  # a holder refreshes its heartbeat before every run
DEFAULT_LOCK_DIR = "/tmp/edgebench-locks"


class DeviceBusyError(DeviceError):
    """Another edgebench process holds the device."""

    exit_code = 3


def owner_record(session: str) -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "user": getpass.getuser(), "session": session,
            "since_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def describe_owner(owner: dict[str, Any]) -> str:
    return (f"{owner.get('user', '?')}@{owner.get('host', '?')} pid {owner.get('pid', '?')} "
            f"(session {owner.get('session', '?')}, since {owner.get('since_utc', '?')})")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


@dataclass
class HostLock:
    """flock-based lock on this host, keyed by device identity."""

    device_id: str
    serial: str
    lock_dir: Path = field(default_factory=lambda: Path(os.environ.get("EDGEBENCH_LOCK_DIR", DEFAULT_LOCK_DIR)))
    _fd: int | None = None

    @property
    def path(self) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.device_id)
        return self.lock_dir / f"{safe}.lock"

    def acquire(self, session: str) -> None:
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        try:
            os.chmod(self.lock_dir, 0o1777)  # shared by every user of this host
        except PermissionError:
            pass
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                owner = json.loads(os.pread(fd, 4096, 0) or b"{}")
            except ValueError:
                owner = {}
            os.close(fd)
            raise DeviceBusyError(self.serial, f"device is being measured by {describe_owner(owner)} on this host. "
                                  "Wait for that run to finish, or stop it.", command="lock") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(owner_record(session)).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
