"""One root error for edgebench; every user-facing failure is one of these.

Messages follow "what was expected, what was received, what to do".
"""
from __future__ import annotations


class EdgebenchError(Exception):
    """Root of every error edgebench raises on purpose. `exit_code` is what the CLI returns."""

    exit_code = 1


class UsageError(EdgebenchError):
    """The user asked for something that cannot be done as asked (bad flag, bad value)."""

    exit_code = 2


class ParseError(EdgebenchError):
    """Text from a device or a tool did not have the expected form.

    `line_number` is 1-based when known, and `line` is the offending text.
    """

    def __init__(self, message: str, *, source: str | None = None,
                 line_number: int | None = None, line: str | None = None) -> None:
        where = ""
        if source:
            where += f"{source}"
        if line_number is not None:
            where += f":{line_number}"
        text = f"{where}: {message}" if where else message
        if line is not None:
            text += f"\n  line: {line!r}"
        super().__init__(text)
        self.source = source
        self.line_number = line_number
        self.line = line


class HarnessError(EdgebenchError):
    """The native harness could not be built, found, or its output could not be read."""


class ModelError(EdgebenchError):
    """A model file is missing, unreadable or not a model."""


class StoreError(EdgebenchError):
    """The results store could not be opened or written."""


class StoreUnreachableError(StoreError):
    """The results store's database could not be reached (connection refused or lost): worth waiting for,
    unlike a write it refused."""


class DeviceError(EdgebenchError):
    """A device-facing failure; the message always names the serial and the command."""

    def __init__(self, serial: str, message: str, *, command: str | None = None) -> None:
        text = f"<{serial}> {message}"
        if command:
            text += f"\n  command: {command}"
        super().__init__(text)
        self.serial = serial
        self.command = command
