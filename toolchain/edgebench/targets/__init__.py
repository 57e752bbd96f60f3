"""Targets: where models run. `resolve_targets` turns a --target value into Target objects."""
from __future__ import annotations

import os

from edgebench.errors import DeviceError, UsageError
from edgebench.targets.base import DeviceInfo, DriverResult, Target
from edgebench.targets.local import LocalTarget
from edgebench.workspace import Workspace

__all__ = ["DeviceInfo", "DriverResult", "LocalTarget", "Target", "default_target", "resolve_targets"]

_STATE_ADVICE = {
    "unauthorized": "unlock the phone and accept the 'Allow USB debugging' prompt",
    "offline": "replug the cable or run `adb reconnect`; if it stays offline, reboot the phone",
    "no permissions": "add a udev rule for the phone (see `adb devices -l`) or run the adb server as your user",
}


def default_target() -> str:
    """ANDROID_SERIAL names the device when set, as for adb itself; else this host."""
    return os.environ.get("ANDROID_SERIAL") or "local"


def resolve_targets(spec: str, workspace: Workspace, *, adb: str | None = None) -> list[Target]:
    """`local`, an adb serial, a comma-separated list of them, or `all` (every attached device, else local)."""
    names = [n.strip() for n in spec.split(",") if n.strip()]
    if not names:
        raise UsageError(f"--target needs a value: local, a device serial, or all. Received: {spec!r}.")
    targets: list[Target] = []
    server = None
    for name in names:
        if name == "local":
            targets.append(LocalTarget(workspace.local_device_root))
            continue
        from edgebench.devices.adb import AdbServer, AdbServerAddress, AdbServerError, server_answers
        from edgebench.targets.adb import AdbTarget

        if name == "all":
            address = AdbServerAddress.resolve(adb)
            entries = AdbServer(address).devices() if server_answers(address) else []
            ready = [e for e in entries if e.state == "device"]
            if not ready:
                targets.append(LocalTarget(workspace.local_device_root))
                continue
            server = server or AdbServer(address)
            targets.extend(AdbTarget(server.device(e.serial)) for e in ready)
            continue
        try:
            server = server or AdbServer(AdbServerAddress.resolve(adb))
        except AdbServerError as exc:
            raise UsageError(f"target {name!r} is not 'local', so it is an adb serial, but {exc}") from exc
        entry = next((e for e in server.devices() if e.serial == name), None)
        if entry is None:
            known = ", ".join(e.serial for e in server.devices()) or "none"
            raise DeviceError(name, f"no such device on the adb server at {server.address} (attached: {known}). "
                              "Check `edgebench devices`.", command="adb devices -l")
        if entry.state != "device":
            advice = _STATE_ADVICE.get(entry.state, "check the device and `adb devices -l`")
            raise DeviceError(name, f"device is {entry.state}: {advice}", command="adb devices -l")
        targets.append(AdbTarget(server.device(name)))
    # The same device named twice would race with itself.
    unique: dict[str, Target] = {}
    for t in targets:
        unique.setdefault(t.name, t)
    return list(unique.values())
