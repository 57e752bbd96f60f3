"""Where the adb server is (--adb, ADB_SERVER_SOCKET, ANDROID_ADB_SERVER_*), whether one answers there,
and starting a local one - only on the user's explicit request, and only where none answers."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from edgebench.devices.adb_errors import AdbServerError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5037
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class AdbServerAddress:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"

    @classmethod
    def resolve(cls, explicit: str | None = None) -> AdbServerAddress:
        """--adb HOST:PORT, else ADB_SERVER_SOCKET (tcp:HOST:PORT), else ANDROID_ADB_SERVER_*, else 5037."""
        text = explicit or os.environ.get("ADB_SERVER_SOCKET")
        if text:
            spec = text[4:] if text.startswith("tcp:") else text
            host, _, port = spec.rpartition(":")
            if not port.isdigit():
                source = "--adb" if explicit else "ADB_SERVER_SOCKET"
                raise AdbServerError(f"{source} must look like HOST:PORT or tcp:HOST:PORT. Received: {text!r}.")
            return cls(host or DEFAULT_HOST, int(port))
        port_text = os.environ.get("ANDROID_ADB_SERVER_PORT", str(DEFAULT_PORT))
        if not port_text.isdigit():
            raise AdbServerError(f"ANDROID_ADB_SERVER_PORT must be a port number. Received: {port_text!r}.")
        return cls(os.environ.get("ANDROID_ADB_SERVER_HOST", DEFAULT_HOST), int(port_text))


def server_answers(address: AdbServerAddress, timeout_s: float = 2.0) -> bool:
    """True when something speaking the adb host protocol answers `host:version` there."""
    try:
        with socket.create_connection((address.host, address.port), timeout=timeout_s) as sock:
            sock.sendall(b"000chost:version")
            return sock.recv(4) == b"OKAY"
    except OSError:
        return False


def adb_binary() -> str:
    """`adb` on PATH, else the one bundled with the adbutils wheel."""
    found = shutil.which("adb")
    if found:
        return found
    import adbutils

    return str(Path(adbutils.__file__).parent / "binaries" / "adb")


def start_server(address: AdbServerAddress) -> None:
    """Start a local adb server at `address` - only when none answers there (checked first)."""
    if server_answers(address):
        return
    if address.host not in LOCAL_HOSTS:
        raise AdbServerError(f"no adb server answers at {address}, and a server can only be started on this host")
    env = {k: v for k, v in os.environ.items() if k not in ("ADB_SERVER_SOCKET", "ANDROID_ADB_SERVER_PORT")}
    binary = adb_binary()
    # `adb -P PORT` names a local server; ADB_SERVER_SOCKET=tcp:127.0.0.1:... counts as remote for adb.
    result = subprocess.run([binary, "-P", str(address.port), "start-server"], env=env,
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0 or not server_answers(address):
        raise AdbServerError(f"`{binary} -P {address.port} start-server` failed: "
                             f"{(result.stderr or result.stdout).strip() or 'no output'}")
