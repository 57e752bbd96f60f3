"""The plain values the adb transport takes and hands out: shell quoting of a command line, a shell
command's result, what `sync:` STAT tells about a path, one line of `adb devices -l`."""
from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Sequence


def quote(arg: str) -> str:
    """Quote one argument for the device shell (mksh/toybox sh are POSIX here)."""
    return shlex.quote(arg)


def command_line(args: Sequence[str]) -> str:
    return " ".join(quote(a) for a in args)


@dataclass(frozen=True)
class ShellResult:
    exit_code: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class RemoteFile:
    """What `sync:` STAT tells about a path on the device."""

    mode: int
    size_bytes: int

    @property
    def is_regular(self) -> bool:
        return self.mode & 0o170000 == 0o100000


@dataclass(frozen=True)
class AdbDeviceEntry:
    """One line of `adb devices -l`, as the server reports it."""

    serial: str
    state: str  # device | offline | unauthorized | recovery | ...
    product: str | None = None
    model: str | None = None
    device: str | None = None
    transport_id: int | None = None
