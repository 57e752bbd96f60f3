"""Expand a push-and-run request into the ordered list of runs to do.

Repeats are the outer loop: each repeat runs every model and config once before the next repeat
starts, so slow drift (heat, background load) spreads over all variants instead of biasing one.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from edgebench.errors import UsageError
from edgebench.protocols import ResolvedProtocol
from edgebench.records import RunConfig

ACCELERATORS = ("cpu", "gpu", "npu")


@dataclass(frozen=True)
class ModelFile:
    path: Path
    name: str  # file name as the user knows it
    sha256: str
    size_bytes: int


@dataclass(frozen=True)
class PlannedRun:
    model: ModelFile
    config: RunConfig
    repeat: int


def parse_int_list(text: str, flag: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise UsageError(f"{flag} takes comma-separated whole numbers, e.g. 1,2,4. Received: {text!r}.") from None
    if not values or any(v < 1 for v in values):
        raise UsageError(f"{flag} needs at least one value, each >= 1. Received: {text!r}.")
    return values


def parse_accelerators(text: str) -> tuple[str, ...]:
    values = tuple(v.strip().lower() for v in text.split(",") if v.strip())
    bad = [v for v in values if v not in ACCELERATORS]
    if not values or bad:
        raise UsageError(f"--accel takes a comma-separated list of {', '.join(ACCELERATORS)}. Received: {text!r}.")
    return values


def configs(threads: Sequence[int], accelerators: Sequence[str], cpu_mask: str | None) -> list[RunConfig]:
    return [RunConfig(threads=t, accelerator=a, cpu_mask=cpu_mask) for a in accelerators for t in threads]


def plan_runs(models: Sequence[ModelFile], run_configs: Sequence[RunConfig], repeats: int) -> list[PlannedRun]:
    return [PlannedRun(m, c, r) for r in range(repeats) for m in models for c in run_configs]


def run_key(*, session: str, model_sha256: str, harness_build_id: str, runtime_sha256: str, device_id: str,
            config: RunConfig, protocol: ResolvedProtocol, repeat: int,
            input_shapes: Sequence[Sequence[Any]] = ()) -> str:
    """Identity of one run within a session: what it ran, where, how, which repeat. Never uses the adb serial.

    `input_shapes`: the [name, dims] passed to the runner (a run at another shape is another run);
    absent from the hash when none are passed, so keys of static models are what they were."""
    payload = {
        "session": session, "model": model_sha256, "harness": harness_build_id, "runtime": runtime_sha256,
        "device": device_id, "config": config.to_json(), "protocol": protocol.effective.to_json(),
        "repeat": repeat,
    }
    if input_shapes:
        payload["input_shapes"] = [[str(n), [int(d) for d in dims]] for n, dims in input_shapes]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
