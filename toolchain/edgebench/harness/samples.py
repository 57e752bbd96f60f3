"""Read the sampler's JSON lines into raw device samples and the telemetry the checks need."""
from __future__ import annotations

import json
import re
from pathlib import Path

from edgebench.bench.checks import Telemetry
from edgebench.errors import ParseError
from edgebench.store import DeviceSample

_COOLING = re.compile(r"/thermal/(cooling_device\d+)/cur_state$")
_FREQ = re.compile(r"/(cpu\d+)/cpufreq/scaling_cur_freq$")
_CAPACITY = re.compile(r"/power_supply/[^/]+/capacity$")


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


def telemetry_from(samples: list[DeviceSample]) -> Telemetry:
    cooling: dict[str, int] = {}
    freqs: dict[str, list[int]] = {}
    capacity: list[float] = []
    has_battery = False
    for s in samples:
        if s.value_text is None:
            continue
        if m := _COOLING.search(s.channel):
            if s.value_text.lstrip("-").isdigit():
                cooling[m.group(1)] = max(cooling.get(m.group(1), 0), int(s.value_text))
        elif m := _FREQ.search(s.channel):
            if s.value_text.isdigit():
                freqs.setdefault(m.group(1), []).append(int(s.value_text))
        elif _CAPACITY.search(s.channel):
            has_battery = True
            try:
                capacity.append(float(s.value_text))
            except ValueError:
                pass
    return Telemetry(
        cooling_states=tuple(sorted(cooling.items())),
        core_freqs_khz=tuple((cpu, tuple(v)) for cpu, v in sorted(freqs.items())),
        battery_level_pct=min(capacity) if capacity else None,
        has_battery=has_battery,
    )
