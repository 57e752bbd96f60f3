"""Device locks: two edgebench processes never measure one device at once.

Two layers: a host lock (flock on a file named after the device identity; the kernel drops it when
the holder dies, so it is never stale) stops two processes on this host; a lock folder on the device
(`mkdir` is atomic) stops two hosts of a lab. A device lock whose holder is gone is detected as stale:
same host and the pid is dead, or its heartbeat is older than STALE_AFTER_S. The holder heartbeats
from a background thread (LockHeartbeat) for as long as it holds the lock, idle or not: a battery run
and its cool-down take longer than the stale limit without a single harness command.
"""
from __future__ import annotations

import fcntl
import getpass
import json
import math
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from edgebench.errors import DeviceError, EdgebenchError, UsageError

STALE_AFTER_S = 15 * 60  # a lock whose heartbeat is older than this is taken over
STALE_ENV = "EDGEBENCH_LOCK_STALE_S"  # override (tests, labs with slow links); every host should agree
HEARTBEATS_PER_STALE_LIMIT = 6  # five may be missed (a slow link, a busy host) before the lock looks stale
DEFAULT_LOCK_DIR = "/tmp/edgebench-locks"


def stale_after_s() -> float:
    """Seconds without a heartbeat after which a device lock is stale: $EDGEBENCH_LOCK_STALE_S, else 15 min."""
    text = os.environ.get(STALE_ENV)
    if text is None:
        return float(STALE_AFTER_S)
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise UsageError(f"{STALE_ENV} must be a positive number of seconds. Received: {text!r}. "
                         f"Unset it for the default ({STALE_AFTER_S} s).")
    return value


def is_stale(holder: Mapping[str, Any] | None, age_s: float | None) -> bool:
    """Whether a device lock may be taken over. `holder`: its owner record, None when empty or
    half-written (a host that just won the mkdir is writing it: judged by age alone, never stale
    because it is empty); `age_s`: seconds since its last heartbeat, None when unreadable."""
    if holder is not None and holder.get("host") == socket.gethostname() and isinstance(holder.get("pid"), int):
        if not pid_alive(holder["pid"]):
            return True  # same host, holder dead: no need to wait for the stale limit
    return age_s is not None and age_s > stale_after_s()


class LockHeartbeat:
    """Calls `beat` every stale-limit/6 seconds from a daemon thread until stop().

    A failed beat (the device dropped) is kept in `last_error` and the beats go on: the lock is
    still ours when the device comes back within the stale limit."""

    def __init__(self, beat: Callable[[], None], *, name: str, interval_s: float | None = None) -> None:
        self.interval_s = interval_s if interval_s is not None else stale_after_s() / HEARTBEATS_PER_STALE_LIMIT
        self.beats = 0
        self.last_error: Exception | None = None
        self._beat = beat
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self._beat()
                self.beats += 1
            except (EdgebenchError, OSError) as exc:
                self.last_error = exc

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=30)


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
    _heartbeat: LockHeartbeat | None = None

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
        # The kernel drops a flock with its holder, so this lock is never stale; its file's mtime
        # still tells a person looking at the lock folder that the holder is alive.
        self._heartbeat = LockHeartbeat(lambda: os.utime(fd), name=f"host-lock-heartbeat-{self.serial}")

    def release(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.stop()
            self._heartbeat = None
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
