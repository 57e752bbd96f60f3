"""Host-side writes into a running device's read-only trees (/sys, /vendor) and safe reads of its /data.

Writes: the device sees /sys and /vendor as read-only bind mounts of folders the host owns, so the
host updates them in place. Each value is written to a staging file outside the device's `/` and
renamed over the old one: a reader on the device opens either the old file or the new one, never
half a value (the harness sampler and `read v < file` open each node afresh).

Reads: files under the device's /data are written by device programs (uid 2000), so they are
opened with openat2(RESOLVE_IN_ROOT) against the device root (a symlink planted there cannot lead
the host outside), non-blocking (a FIFO cannot stall the gauge), regular files only, size-capped.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from edgebench.virtual.fs_ops import openat2

MAX_READ = 1 << 20


class AtomicWriter:
    def __init__(self, root: Path, staging: Path) -> None:
        self.root = root
        self.staging = staging
        self.staging.mkdir(parents=True, exist_ok=True)
        self._last: dict[str, str] = {}
        self._counter = 0

    def write(self, rel: str, text: str, *, force: bool = False) -> None:
        """Replace root/rel with `text` (skipped when unchanged since our last write)."""
        if not force and self._last.get(rel) == text:
            return
        target = self.root / rel
        if not target.parent.is_dir():
            return  # the tree is being rebuilt (device restart); the next period writes again
        self._counter += 1
        tmp = self.staging / f"w{self._counter}"
        try:
            with open(tmp, "w") as f:
                f.write(text)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)  # no stray staging file when a write fails
            raise
        self._last[rel] = text

    def forget(self) -> None:
        """The tree was rebuilt: write everything again on the next period."""
        self._last.clear()


def read_device_text(root_fd: int, rel: str) -> str | None:
    """Text of a device file (relative to the device root), or None if absent/unsafe/unreadable."""
    try:
        fd = openat2(root_fd, rel, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, MAX_READ).decode("utf-8", "replace")
    except OSError:
        return None
    finally:
        os.close(fd)


def read_device_tail(root_fd: int, rel: str, offset: int, limit: int = MAX_READ) -> tuple[bytes, int] | None:
    """(bytes from `offset`, file size) of a device file, or None if absent/unsafe/unreadable."""
    try:
        fd = openat2(root_fd, rel, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        return (os.pread(fd, limit, offset) if offset < st.st_size else b""), st.st_size
    except OSError:
        return None
    finally:
        os.close(fd)


def read_key_values(root_fd: int, rel: str) -> dict[str, str]:
    """NAME=VALUE lines of a device state file (later lines win)."""
    text = read_device_text(root_fd, rel)
    values: dict[str, str] = {}
    for line in (text or "").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    return values
