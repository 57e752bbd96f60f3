"""Content hashes with a cache, so re-staging an unchanged file costs a stat, not a re-hash."""
from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

_CHUNK = 1 << 20
# (resolved path, device, inode, size, mtime_ns): a file rewritten in place or replaced by a rename
# (a new inode, even with the same size and mtime) is hashed again.
_Key = tuple[str, int, int, int, int]
_cache: dict[_Key, str] = {}
_lock = threading.Lock()


def _key(path: Path, st: os.stat_result) -> _Key:
    return (str(path.resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def file_sha256(path: Path) -> str:
    """sha256 of a file, cached by (path, inode, size, mtime) for this process."""
    key = _key(path, path.stat())
    with _lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    value = digest.hexdigest()
    with _lock:
        _cache[key] = value
    return value


def cached_sha256(path: Path, st: os.stat_result) -> str | None:
    """The hash of `path` as it is now (`st`), if this process already read it (a session hashes its models
    when it loads them), else None."""
    with _lock:
        return _cache.get(_key(path, st))


def remember_sha256(path: Path, before: os.stat_result, digest: str) -> None:
    """Record a hash computed elsewhere (while the file was pushed) - only when the file did not change
    while it was read: `before` is its stat from before the read."""
    after = path.stat()
    if _key(path, after) == _key(path, before):
        with _lock:
            _cache[_key(path, after)] = digest
