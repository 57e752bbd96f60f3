"""Files a user names on the command line: refuse what is not a regular file, read with a bound.

`/dev/zero` reads forever, a FIFO blocks until a writer comes, a folder cannot be read, and a
huge file would fill this host's memory. These checks say so up front, naming the user's path.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Callable

from edgebench.errors import UsageError

MAX_TEXT_BYTES = 64 * 2**20  # captured tool output; op-profiled benchmark_model logs are ~100 KiB
MAX_MODEL_BYTES = 2 * 2**30  # a single .tflite flatbuffer cannot address more

_KINDS = [(stat.S_ISDIR, "is a folder"), (stat.S_ISCHR, "is a character device, not a regular file"),
          (stat.S_ISBLK, "is a block device, not a regular file"),
          (stat.S_ISFIFO, "is a named pipe (FIFO), not a regular file"),
          (stat.S_ISSOCK, "is a socket, not a regular file")]


def kind_problem(mode: int) -> str | None:
    """What is wrong with a file of this st_mode, or None for a regular file."""
    for test, problem in _KINDS:
        if test(mode):
            return problem
    return None if stat.S_ISREG(mode) else "is not a regular file"


def regular_file_problem(path: Path) -> str | None:
    """None for an existing, non-empty regular file; else what is wrong ("does not exist", ...)."""
    try:
        st = path.stat()  # follows symbolic links: a link to /dev/zero is /dev/zero
    except FileNotFoundError:
        return "is a broken symbolic link" if path.is_symlink() else "does not exist"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    problem = kind_problem(st.st_mode)
    if problem is None and st.st_size == 0:
        return "is empty (0 bytes)"
    return problem


def read_bytes_bounded(path: Path, limit_bytes: int, what: str,
                       limit_for_head: Callable[[bytes], int] | None = None) -> bytes:
    """The bytes of a regular file of at most `limit_bytes`; UsageError naming `path` otherwise.

    Opened without blocking and checked on the open descriptor, so a FIFO or device put in a file's
    place between a check and the read is still refused. `limit_for_head(first bytes)` may lower
    the limit once the file's first bytes say what it is (a model may be larger than a text)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise UsageError(f"file not found: {path}") from None
    except OSError as exc:  # e.g. ENXIO for a socket, EACCES
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}. Expected {what}.") from None
    try:
        st = os.fstat(fd)
        problem = kind_problem(st.st_mode)
        if problem == "is a folder":
            raise UsageError(f"{path} is a folder; give the files inside it")
        if problem is not None:
            raise UsageError(f"{path} {problem}. Expected {what}: give a file saved on disk.")
        if limit_for_head is not None:
            head = os.pread(fd, 8, 0)
            limit_bytes = min(limit_bytes, limit_for_head(head))
        if st.st_size > limit_bytes:
            raise UsageError(_too_big(path, st.st_size, limit_bytes, what))
        chunks, total = [], 0
        while chunk := os.read(fd, min(1 << 20, limit_bytes + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit_bytes:  # it grew while being read
                raise UsageError(_too_big(path, total, limit_bytes, what))
        return b"".join(chunks)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def read_text_bounded(path: Path, limit_bytes: int = MAX_TEXT_BYTES, what: str = "a text capture") -> str:
    # Device output is mostly ASCII; a stray non-UTF-8 byte must not hide the rest.
    return read_bytes_bounded(path, limit_bytes, what).decode("utf-8", errors="replace")


def _too_big(path: Path, size: int, limit: int, what: str) -> str:
    return (f"{path} is {size / 2**20:,.1f} MiB (or more), larger than the {limit / 2**20:,.0f} MiB edgebench "
            f"reads as {what}. Give the part that matters (e.g. one run's output), or check that this is "
            "the file you meant.")
