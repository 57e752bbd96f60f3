"""Where edgebench keeps its files on an adb device: one folder that every part of the adb target
(staging, runs, slices, the device lock) builds its paths from.

/data/local/tmp is executable for the shell user on every Android version (see
docs/measurement-methodology.md §2.5). Its own module so those parts share it without importing
targets/adb.py, which imports them.
"""
from __future__ import annotations

import posixpath

DEVICE_ROOT = "/data/local/tmp/edgebench"


def device_path(relative: str) -> str:
    """The absolute path on the device of a path relative to edgebench's folder there."""
    return posixpath.join(DEVICE_ROOT, relative)
