"""Extract a tar archive that came from a device without letting it write outside the target folder.

Python 3.11.4 (and 3.10.12, 3.9.17) added `extractall(filter="data")`; Debian 12's Python 3.11.2 and
older point releases do not have it, and passing the keyword there raises TypeError. Each member is
checked here, on every interpreter, before it is extracted (where the filter exists it is applied
too): no absolute names, nothing that resolves outside the target (`..`, or a path through a
symlink extracted earlier), no link pointing outside it, no devices or FIFOs, and no permission
bits from the archive (files get the umask's modes).
"""
from __future__ import annotations

import os
import tarfile
from pathlib import Path
from typing import IO

from edgebench.errors import EdgebenchError

HAS_DATA_FILTER = hasattr(tarfile, "data_filter")
_FILTER_ERROR = getattr(tarfile, "FilterError", ())  # `except ()` catches nothing where it is absent


class UnsafeArchiveError(EdgebenchError):
    """A member of the archive would land outside the target folder or is not a file, folder or link."""


def extract_tar(archive: str | os.PathLike[str] | IO[bytes], dest: Path, *, use_data_filter: bool = HAS_DATA_FILTER) -> None:
    """Extract `archive` (a path, or a file object at the archive's start) into the existing folder `dest`;
    UnsafeArchiveError names a refused member.

    Every member is checked here first (the same rules on every interpreter, and an absolute name is
    refused rather than silently re-rooted); where tarfile has the "data" filter it is applied too.
    """
    root = os.path.realpath(dest)
    opened = tarfile.open(archive) if isinstance(archive, (str, os.PathLike)) else tarfile.open(fileobj=archive)
    with opened as tar:
        for member in tar:
            reason = _refusal(member, root)
            if reason is None:
                try:
                    # set_attrs=False: no owner, mode or mtime from the archive (no setuid or world-writable bits).
                    if use_data_filter:
                        tar.extract(member, root, set_attrs=False, filter="data")
                    else:
                        tar.extract(member, root, set_attrs=False)
                    continue
                except _FILTER_ERROR as exc:
                    reason = str(exc)
            raise UnsafeArchiveError(f"{archive}: member {member.name!r} refused: {reason}. "
                                     f"Expected only files and folders inside the archive's root.")


def _refusal(member: tarfile.TarInfo, root: str) -> str | None:
    """Why `member` must not be extracted under `root` (a resolved folder), or None if it is safe."""
    name = member.name
    if name.startswith("/") or os.path.isabs(name):
        return "absolute path"
    # realpath follows symlinks already extracted, so "link/../x" and "link/x" are judged where they land.
    target = os.path.realpath(os.path.join(root, name))
    if not _inside(target, root):
        return f"it would be written to {target}, outside {root}"
    if member.issym():
        if os.path.isabs(member.linkname):
            return f"symlink to the absolute path {member.linkname!r}"
        pointee = os.path.realpath(os.path.join(os.path.dirname(target), member.linkname))
        if not _inside(pointee, root):
            return f"symlink to {member.linkname!r}, which points outside {root}"
    elif member.islnk():
        pointee = os.path.realpath(os.path.join(root, member.linkname))
        if os.path.isabs(member.linkname) or not _inside(pointee, root):
            return f"hard link to {member.linkname!r}, outside {root}"
    elif not (member.isfile() or member.isdir()):
        return "a device, FIFO or other special file"
    return None


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root
