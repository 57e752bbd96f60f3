"""Read the driver's state files (state_before.txt / state_after.txt, PROTOCOL.md): meta and nodes."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DeviceState:
    meta: dict[str, str]
    nodes: dict[str, str | None]  # device path -> first line, None when missing or unreadable

    @property
    def thermal_status(self) -> int | None:
        value = self.meta.get("thermal_status", "").strip()
        return int(value) if value.lstrip("-").isdigit() else None


def read_state(path: Path) -> DeviceState | None:
    """None when the driver did not write the file (it failed before)."""
    if not path.exists():
        return None
    meta: dict[str, str] = {}
    nodes: dict[str, str | None] = {}
    for line in path.read_text(errors="replace").splitlines():
        kind, _, rest = line.partition("\t")
        key, _, value = rest.partition("\t")
        if kind == "meta":
            meta[key] = value
        elif kind in ("ok", "err", "missing"):
            nodes[key] = value if kind == "ok" else None
    return DeviceState(meta, nodes)
