"""The workspace registry of virtual devices: `<workspace>/virtual-devices/<ro.serialno>/`.

Starts each device as a detached process (`python -m edgebench.virtual.serve FOLDER`, its own
session, log in FOLDER/server.log), finds devices by serial or port, stops them by pid. A stopped
device keeps its folder, identity and port, so starting it again gives the same device.
"""
from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebench.errors import EdgebenchError, UsageError
from edgebench.virtual.device import DeviceConfig, DeviceLayout

REGISTRY_DIR = "virtual-devices"
PORT_FIRST, PORT_LAST = 16520, 17519  # far from 5555-5585, which adb servers scan for emulators
ADB_SCAN_PORTS = range(5554, 5586)
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


class VirtualDeviceError(EdgebenchError):
    """A virtual device could not be started or stopped; the message points at its log."""


@dataclass(frozen=True)
class DeviceState:
    layout: DeviceLayout
    config: DeviceConfig
    pid: int | None  # the device process, when running

    @property
    def running(self) -> bool:
        return self.pid is not None

    @property
    def status(self) -> dict[str, Any] | None:
        try:
            status: dict[str, Any] = json.loads(self.layout.status_file.read_text())
            return status
        except (OSError, json.JSONDecodeError):
            return None


def registry_root(workspace_root: Path) -> Path:
    return workspace_root / REGISTRY_DIR


def _alive_server_pid(layout: DeviceLayout) -> int | None:
    """The pid in server.pid if that process is still this device's server (not a reused pid)."""
    try:
        pid = int(layout.pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    if b"edgebench.virtual.serve" in cmdline and str(layout.folder).encode() in cmdline:
        return pid
    return None


def load_state(layout: DeviceLayout) -> DeviceState:
    return DeviceState(layout, layout.load_config(), _alive_server_pid(layout))


def list_devices(root: Path) -> list[DeviceState]:
    if not root.is_dir():
        return []
    states = []
    for folder in sorted(root.iterdir()):
        layout = DeviceLayout(folder)
        if layout.config.is_file():
            states.append(load_state(layout))
    return states


def find_device(root: Path, ref: str) -> DeviceState:
    """By ro.serialno, by adb serial (127.0.0.1:PORT / localhost:PORT) or by port number."""
    port_text = ref.rpartition(":")[2] if ":" in ref else ref
    for state in list_devices(root):
        if ref == state.config.serial or (port_text.isdigit() and int(port_text) == state.config.port
                                          and (":" not in ref or ref.split(":")[0] in ("127.0.0.1", "localhost"))):
            return state
    known = ", ".join(f"{s.config.serial} ({s.config.adb_serial})" for s in list_devices(root)) or "none"
    raise UsageError(f"no virtual device {ref!r} in {root}. Known: {known}.")


def port_is_free(port: int) -> bool:
    """True if a device could listen on the port. SO_REUSEADDR as the device's own listening
    socket has it: connections the device closed linger in TIME_WAIT and must not block a restart."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def allocate_port(root: Path, reserved: set[int] | None = None) -> int:
    """A free port in PORT_FIRST..PORT_LAST not kept by a registered (even stopped) device.

    The scan starts at a random offset: two workspaces (or test workers) starting devices at the same
    moment cannot see each other's registries, and both taking the first free port made one of them
    fail with "address already in use" when its device bound it.
    """
    taken = {s.config.port for s in list_devices(root)} | (reserved or set())
    width = PORT_LAST - PORT_FIRST + 1
    start = random.SystemRandom().randrange(width)
    for step in range(width):
        port = PORT_FIRST + (start + step) % width
        if port not in taken and port_is_free(port):
            return port
    raise VirtualDeviceError(f"no free port in {PORT_FIRST}-{PORT_LAST}; stop devices or pass --port")


def check_port(port: int) -> None:
    if port in ADB_SCAN_PORTS:
        raise UsageError(f"--port {port} is in 5554-5585, which adb servers probe for emulators; "
                         f"choose another (default range {PORT_FIRST}-{PORT_LAST})")
    if not 1024 <= port <= 65535:
        raise UsageError(f"--port must be in 1024-65535. Received: {port}.")


def create_device(root: Path, config: DeviceConfig) -> DeviceLayout:
    layout = DeviceLayout(root / config.serial)
    layout.save_config(config)
    return layout


def _log_tail(layout: DeviceLayout, lines: int = 8) -> str:
    try:
        text = layout.log_file.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return "\n  ".join(text[-lines:]) or "(empty log)"


def start_device(layout: DeviceLayout) -> DeviceState:
    """Start the device process for `layout` (no-op if it runs) and wait until it listens."""
    state = load_state(layout)
    if state.running and state.status is not None:
        return state
    config = state.config
    if not port_is_free(config.port):
        raise VirtualDeviceError(f"port {config.port} of device {config.serial} is in use by another program; "
                                 f"free it, or start a new device with another --port")
    layout.status_file.unlink(missing_ok=True)
    package_parent = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    with open(layout.log_file, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "edgebench.virtual.serve", str(layout.folder)],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                start_new_session=True, close_fds=True, cwd="/")
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if layout.status_file.is_file():
            return load_state(layout)
        if proc.poll() is not None:
            raise VirtualDeviceError(f"virtual device {config.serial} exited during start "
                                     f"(code {proc.returncode}); its log {layout.log_file} ends with:\n  {_log_tail(layout)}")
        time.sleep(0.05)
    proc.terminate()
    raise VirtualDeviceError(f"virtual device {config.serial} did not listen within {START_TIMEOUT_S:.0f} s; "
                             f"see {layout.log_file}:\n  {_log_tail(layout)}")


def stop_device(state: DeviceState) -> bool:
    """Stop a running device (SIGTERM, then SIGKILL after STOP_TIMEOUT_S). False if it was not running."""
    if state.pid is None:
        return False
    try:
        os.kill(state.pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        if _alive_server_pid(state.layout) is None or not Path(f"/proc/{state.pid}").exists():
            return True
        time.sleep(0.05)
    try:
        os.kill(state.pid, signal.SIGKILL)  # its init process follows (parent-death signal)
    except ProcessLookupError:
        pass
    state.layout.pid_file.unlink(missing_ok=True)
    state.layout.status_file.unlink(missing_ok=True)
    return True
