"""What a device said to one command: the record every service method that can be refused returns."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from edgebench.devices.adb import AdbDevice, command_line


@dataclass(frozen=True)
class Reply:
    command: str  # as typed into `adb shell`, for messages
    exit_code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def text(self) -> str:
        """stdout without surrounding whitespace (CRLF of old adbd included)."""
        return self.stdout.strip()

    def said(self, chars: int = 200) -> str:
        """What the device answered, for a message: stderr if any, else stdout, cut to `chars`."""
        return (self.stderr or self.stdout).strip()[:chars]


class Service:
    """Base of the services: sends through the transport and wraps the answer in a Reply."""

    def __init__(self, device: AdbDevice, name: str) -> None:
        self._device = device
        self.name = name

    def _run(self, args: Sequence[str] | str, *, timeout: float | None = None) -> Reply:
        result = self._device.shell(args) if timeout is None else self._device.shell(args, timeout=timeout)
        command = args if isinstance(args, str) else command_line(args)
        return Reply(command, result.exit_code, result.stdout, result.stderr)

    def _check(self, args: Sequence[str] | str, *, timeout: float | None = None) -> str:
        """stdout of a command that must succeed; DeviceError naming the serial and command otherwise."""
        if timeout is None:
            return self._device.check_shell(args)
        return self._device.check_shell(args, timeout=timeout)
