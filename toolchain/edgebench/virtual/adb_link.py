"""The few adb-server calls `edgebench virtual-device` makes.

TO MOVE into edgebench/devices/adb.py (the only module that talks to adb). It already delegates
there for connect/disconnect; `start_server` (run only on an explicit user flag) is the piece to move.
Rule kept here too: never start, kill or restart a server that already answers.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from edgebench.devices.adb import AdbServer, AdbServerAddress, AdbServerError, server_answers

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def resolve(explicit: str | None) -> AdbServerAddress:
    return AdbServerAddress.resolve(explicit)


def answers(address: AdbServerAddress) -> bool:
    return server_answers(address)


def connect(address: AdbServerAddress, device: str) -> str:
    return AdbServer(address).connect(device)


def disconnect(address: AdbServerAddress, device: str) -> None:
    AdbServer(address).disconnect(device)


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
