"""Targets: where models run. `resolve_targets` turns a --target value into Target objects."""
from __future__ import annotations

from edgebench.errors import UsageError
from edgebench.targets.base import DeviceInfo, DriverResult, Target
from edgebench.targets.local import LocalTarget
from edgebench.workspace import Workspace

__all__ = ["DeviceInfo", "DriverResult", "LocalTarget", "Target", "resolve_targets"]


def resolve_targets(spec: str, workspace: Workspace) -> list[Target]:
    """`local`, an adb serial, a comma-separated list of them, or `all` (every attached device, else local)."""
    names = [n.strip() for n in spec.split(",") if n.strip()]
    if not names:
        raise UsageError(f"--target needs a value: local, a device serial, or all. Received: {spec!r}.")
    targets: list[Target] = []
    for name in names:
        if name == "local":
            targets.append(LocalTarget(workspace.local_device_root))
        elif name == "all":
            targets.append(LocalTarget(workspace.local_device_root))
        else:
            raise UsageError(f"target {name!r}: adb devices are not supported by this build yet. "
                             "Use --target local.")
    return targets
