"""The adb transport's errors, and what a failure of adbutils or of the wire means for a device: the
DeviceError (naming the serial and the command) it becomes, whether it is worth waiting for the device
(DeviceConnectionError), and a hint at what to do for the usual causes."""
from __future__ import annotations

from edgebench.devices import adb_wire
from edgebench.errors import DeviceError, EdgebenchError


class AdbServerError(EdgebenchError):
    """No adb server answers where edgebench was told to look."""


class DeviceConnectionError(DeviceError):
    """The transport to the device broke (unplugged, rebooting, offline): worth waiting for it."""


class DeviceTimeoutError(DeviceConnectionError):
    """A command gave no answer within its timeout. The link may be dead (then it is a lost connection,
    as its base class says) or the command may just hang on a live device: a caller that can tell the
    two apart (the harness driver: ask the device to echo) catches this first."""


# Words adb and adbutils use when the device, not the command, is the problem.
_CONNECTION_WORDS = ("not found", "offline", "closed", "connection reset", "broken pipe", "eof",
                     "no devices", "device still connecting", "timeout", "timed out", "connection refused")


def device_error(serial: str, exc: Exception, command: str) -> Exception:
    """The DeviceError for a failure of adbutils or of the wire; anything else unchanged."""
    from adbutils.errors import AdbError, AdbTimeout

    if isinstance(exc, (AdbTimeout, TimeoutError)):  # adbutils' read timeout, or the socket's own
        return DeviceTimeoutError(serial, f"no answer within the timeout ({exc})", command=command)
    if isinstance(exc, adb_wire.LocalFileError):  # this host's file: not the device's fault, not retried
        return EdgebenchError(f"{exc} (while running: {command})")
    if isinstance(exc, adb_wire.SyncFailure):  # about the file, never the link
        return DeviceError(serial, _explain(str(exc)), command=command)
    if isinstance(exc, (AdbError, adb_wire.AdbFailure)):
        text = str(exc)
        kind = DeviceConnectionError if any(w in text.lower() for w in _CONNECTION_WORDS) else DeviceError
        return kind(serial, _explain(text), command=command)
    if isinstance(exc, (OSError, EOFError)):
        return DeviceConnectionError(serial, f"connection lost: {exc}", command=command)
    return exc


def _explain(message: str) -> str:
    lowered = message.lower()
    if "unauthorized" in lowered:
        return (f"{message}: the device has not authorized this computer. Unlock it and accept the "
                "'Allow USB debugging' prompt, then retry.")
    if "offline" in lowered:
        return f"{message}: the device is offline. Replug the cable or run `adb reconnect`, then retry."
    if "no space left" in lowered or "enospc" in lowered:
        return (f"{message}: the device's storage is full. Free space in /data/local/tmp (old run folders: "
                "rm -rf /data/local/tmp/edgebench/runs) or on the device, then retry; `edgebench doctor` shows it.")
    if "permission denied" in lowered:
        return (f"{message}: the shell user may not write or execute there. edgebench runs from "
                "/data/local/tmp, which the shell user owns on every Android version; check `edgebench doctor`.")
    if "not found" in lowered:
        return f"{message}: no such device on this adb server. `edgebench devices` lists what is attached."
    return message
