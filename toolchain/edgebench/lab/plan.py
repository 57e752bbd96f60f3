"""What a lab session measures, as `lab submit` stored it: every worker rebuilds its runs from this.

One job is one model × config × repeat on one device. A job's queue and lock are named after its device's
identity (ro.serialno and build, never the adb serial, which repeats across hosts: emulator-5554): only a
worker that reaches that device takes it, and never two jobs on one device at once.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from edgebench.protocols import ResolvedProtocol, resolve

MEASURE_TASK = "edgebench.lab.measure"


@dataclass(frozen=True)
class LabModel:
    sha256: str
    name: str
    size_bytes: int


@dataclass(frozen=True)
class LabPlan:
    protocol: str  # preset name
    overrides: Mapping[str, Any]  # runs, warmup, min_seconds, repeats, cooldown, run_delay_ms (None: preset's)
    threads: tuple[int, ...]
    accelerators: tuple[str, ...]
    cpu_mask: str | None
    input_shapes: tuple[str, ...] | None  # the --input-shape values, as given
    models: tuple[LabModel, ...]
    devices: tuple[tuple[str, str], ...]  # (device id, adb serial when submitted) of the devices it runs on

    def resolved_protocol(self) -> ResolvedProtocol:
        return resolve(self.protocol, **dict(self.overrides))

    def job_kwargs(self, session: str) -> list[dict[str, Any]]:
        """Every job of the session, repeats outermost (as push-and-run orders them, so slow drift spreads
        over all variants), each device's jobs in that order."""
        repeats = self.resolved_protocol().effective.repeats
        return [{"session": session, "device_id": device_id, "serial": serial, "model_sha256": model.sha256,
                 "threads": threads, "accelerator": accelerator, "repeat": repeat}
                for device_id, serial in self.devices for repeat in range(repeats) for model in self.models
                for accelerator in self.accelerators for threads in self.threads]

    def to_json(self) -> str:
        return json.dumps({
            "protocol": self.protocol, "overrides": dict(self.overrides), "threads": list(self.threads),
            "accelerators": list(self.accelerators), "cpu_mask": self.cpu_mask,
            "input_shapes": list(self.input_shapes) if self.input_shapes is not None else None,
            "models": [{"sha256": m.sha256, "name": m.name, "size_bytes": m.size_bytes} for m in self.models],
            "devices": [list(d) for d in self.devices]}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LabPlan:
        raw = json.loads(text)
        return cls(protocol=raw["protocol"], overrides=raw["overrides"], threads=tuple(raw["threads"]),
                   accelerators=tuple(raw["accelerators"]), cpu_mask=raw["cpu_mask"],
                   input_shapes=tuple(raw["input_shapes"]) if raw["input_shapes"] is not None else None,
                   models=tuple(LabModel(m["sha256"], m["name"], m["size_bytes"]) for m in raw["models"]),
                   devices=tuple((d[0], d[1]) for d in raw["devices"]))


def device_queue(device_id: str) -> str:
    return f"device:{device_id}"


def device_lock(device_id: str) -> str:
    return f"device:{device_id}"
