"""Read the sampler's JSON lines into raw device samples and the telemetry the checks need."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from edgebench.errors import ParseError
from edgebench.harness.state import DeviceState
from edgebench.store import DeviceSample

_COOLING = re.compile(r"/thermal/(cooling_device\d+)/cur_state$")
_CPUFREQ = re.compile(r"/devices/system/cpu/cpu(\d+)/cpufreq/(scaling_cur_freq|scaling_max_freq)$")
_CAPACITY = re.compile(r"/power_supply/[^/]+/capacity$")


@dataclass(frozen=True)
class FreqSample:
    t_ns: int  # CLOCK_BOOTTIME, the runner's clock
    cur_khz: int  # scaling_cur_freq: the governor's last request
    ceiling_khz: int | None  # scaling_max_freq at the same instant; None when not sampled (driver < 1.2.0)


@dataclass(frozen=True)
class CoreFrequency:
    """One CPU's sampled frequency over the whole sampler run, and its static facts from the state file."""

    cpu: int
    samples: tuple[FreqSample, ...]
    hardware_max_khz: int | None = None  # cpuinfo_max_freq
    ceiling_before_khz: int | None = None  # scaling_max_freq before the run
    governor: str | None = None


@dataclass(frozen=True)
class Telemetry:
    """What the sampler saw during the run, already converted (empty tuples: nothing readable)."""

    cooling_states: tuple[tuple[str, int], ...] = ()  # (device, max cur_state seen)
    thermal_status_max: int | None = None  # Android thermal status, when the target has one
    cores: tuple[CoreFrequency, ...] = ()  # every sampled CPU; the checks pick the ones the workload used
    battery_level_pct: float | None = None
    has_battery: bool = False


def read_samples(path: Path, *, sysroot: str = "") -> list[DeviceSample]:
    """All samples as (t_ns, channel, raw text). A missing file means the sampler did not run: []."""
    if not path.exists():
        return []
    files: list[str] | None = None
    samples: list[DeviceSample] = []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            raise ParseError("not a JSON line", source=str(path), line_number=number, line=line) from None
        kind = obj.get("type") if isinstance(obj, dict) else None
        if kind == "sampler":
            files = [f[len(sysroot):] if sysroot and f.startswith(sysroot) else f for f in obj.get("files", [])]
        elif kind == "sample":
            if files is None:
                raise ParseError("sample before the sampler header", source=str(path), line_number=number, line=line)
            values = obj.get("values")
            if not isinstance(values, list) or len(values) != len(files) or not isinstance(obj.get("t_ns"), int):
                raise ParseError("sample does not match the header's file list", source=str(path),
                                 line_number=number, line=line)
            samples.extend(DeviceSample(obj["t_ns"], channel, None if v is None else str(v).strip())
                           for channel, v in zip(files, values))
        elif kind in ("sampler_note", "note"):
            continue  # e.g. "buffer full" notes: informative, kept in the pulled file
        else:
            raise ParseError(f"unknown line type {kind!r}", source=str(path), line_number=number, line=line)
    return samples


def _khz(text: str | None) -> int | None:
    return int(text) if text is not None and text.strip().isdigit() else None


def telemetry_from(samples: list[DeviceSample], state_before: DeviceState | None = None) -> Telemetry:
    """Telemetry from the sampler's samples; `state_before` adds each CPU's hardware maximum, ceiling and governor."""
    cooling: dict[str, int] = {}
    cur: dict[int, dict[int, int]] = {}  # cpu -> t_ns -> kHz
    ceiling: dict[int, dict[int, int]] = {}
    capacity: list[float] = []
    has_battery = False
    for s in samples:
        if s.value_text is None:
            continue
        if m := _COOLING.search(s.channel):
            if s.value_text.lstrip("-").isdigit():
                cooling[m.group(1)] = max(cooling.get(m.group(1), 0), int(s.value_text))
        elif m := _CPUFREQ.search(s.channel):
            if (khz := _khz(s.value_text)) is not None:
                bucket = cur if m.group(2) == "scaling_cur_freq" else ceiling
                bucket.setdefault(int(m.group(1)), {})[s.t_ns] = khz
        elif _CAPACITY.search(s.channel):
            has_battery = True
            try:
                capacity.append(float(s.value_text))
            except ValueError:
                pass
    nodes = state_before.nodes if state_before is not None else {}

    def static(cpu: int, name: str) -> str | None:
        return nodes.get(f"/sys/devices/system/cpu/cpu{cpu}/cpufreq/{name}")

    cores = tuple(
        CoreFrequency(cpu, tuple(FreqSample(t, khz, ceiling.get(cpu, {}).get(t)) for t, khz in sorted(series.items())),
                      hardware_max_khz=_khz(static(cpu, "cpuinfo_max_freq")),
                      ceiling_before_khz=_khz(static(cpu, "scaling_max_freq")),
                      governor=(static(cpu, "scaling_governor") or "").strip() or None)
        for cpu, series in sorted(cur.items()))
    return Telemetry(
        cooling_states=tuple(sorted(cooling.items())),
        cores=cores,
        battery_level_pct=min(capacity) if capacity else None,
        has_battery=has_battery,
    )
