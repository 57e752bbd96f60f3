"""Device profiles: what a virtual device claims to be (getprop, /proc/cpuinfo, cpufreq, thermal, battery).

`battery_model` (power_profile.py) says how the device's fuel gauge reports (units, sign, update
period, resolution, drift) and what draws power; the live model is gauge.py + power_host.py.

Profiles are JSON files in `device_profiles/` beside this module (derived from real captures by
`fixtures/profiles/derive_profiles.py`; each says where every section came from). A profile is named
by its file stem (`pixel-8-like`) or given as a path to a `.json` file.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebench.errors import UsageError
from edgebench.package_files import DEVICE_PROFILES
from edgebench.virtual.power_profile import BatteryModelSpec, parse_battery_model

SCHEMA_VERSION = 1
DEFAULT_PROFILE = "pixel-8-like"
ABIS = ("x86_64", "arm64-v8a")


def profiles_dir() -> Path:
    """`$EDGEBENCH_PROFILES_DIR`, else the profiles shipped in the package (virtual/device_profiles/)."""
    env = os.environ.get("EDGEBENCH_PROFILES_DIR")
    if env:
        return Path(env)
    return DEVICE_PROFILES


@dataclass(frozen=True)
class Cluster:
    cpus: tuple[int, ...]
    cpu_capacity: int
    cpufreq: dict[str, Any]  # *_khz / *_ns keyed values, see derive_profiles.py


@dataclass(frozen=True)
class ThermalZone:
    type: str
    temp_millic: int
    hal_type: int | None  # android.os.Temperature TYPE_* when the thermal HAL reports this zone
    hal_name: str | None


@dataclass(frozen=True)
class Profile:
    name: str
    summary: str
    properties: dict[str, str]
    proc_cpuinfo: str
    cpu_kernel_max: int
    cpu_possible: str
    cpu_present: str
    cpu_online: str
    clusters: tuple[Cluster, ...]
    thermal_zones: tuple[ThermalZone, ...]
    power_supply: dict[str, Any]
    battery: BatteryModelSpec  # how the fuel gauge reports and what draws power (power_profile.py)
    provenance: dict[str, str]
    path: Path


def list_profiles() -> list[str]:
    folder = profiles_dir()
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


def _require(data: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in data:
        raise UsageError(f"profile {where}: missing field {key!r}; regenerate it with fixtures/profiles/derive_profiles.py")
    value = data[key]
    if not isinstance(value, kind):
        raise UsageError(f"profile {where}: field {key!r} should be {kind.__name__}, got {type(value).__name__}")
    return value


def load_profile(name_or_path: str | os.PathLike[str] | None = None) -> Profile:
    """Load a profile by name (file stem in profiles_dir()) or by path to a JSON file."""
    ref = str(name_or_path or DEFAULT_PROFILE)
    path = Path(ref) if ref.endswith(".json") else profiles_dir() / f"{ref}.json"
    if not path.is_file():
        known = ", ".join(list_profiles()) or f"none found in {profiles_dir()}"
        raise UsageError(f"unknown device profile {ref!r}: expected one of {known}, or a path to a .json profile")
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"profile {path}: not readable JSON ({exc})") from exc
    where = str(path)
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise UsageError(f"profile {where}: schema_version {version!r}, this edgebench reads {SCHEMA_VERSION}")
    props = _require(data, "properties", dict, where)
    if any(not isinstance(v, str) or "\n" in v or "=" in k or "\n" in k for k, v in props.items()):
        raise UsageError(f"profile {where}: property keys and values must be one-line strings (keys without '=')")
    cpu = _require(data, "cpu", dict, where)
    clusters = tuple(Cluster(cpus=tuple(c["cpus"]), cpu_capacity=int(c["cpu_capacity"]), cpufreq=dict(c["cpufreq"]))
                     for c in _require(cpu, "clusters", list, where))
    zones = tuple(ThermalZone(type=z["type"], temp_millic=int(z["temp_millic"]), hal_type=z.get("hal_type"),
                              hal_name=z.get("hal_name"))
                  for z in _require(data, "thermal_zones", list, where))
    return Profile(
        name=_require(data, "name", str, where),
        summary=data.get("summary", ""),
        properties=dict(props),
        proc_cpuinfo=_require(data, "proc_cpuinfo", str, where),
        cpu_kernel_max=int(_require(cpu, "kernel_max", int, where)),
        cpu_possible=_require(cpu, "possible", str, where),
        cpu_present=_require(cpu, "present", str, where),
        cpu_online=_require(cpu, "online", str, where),
        clusters=clusters,
        thermal_zones=zones,
        power_supply=_require(data, "power_supply", dict, where),
        battery=parse_battery_model(data.get("battery_model"), where, len(clusters)),
        provenance=dict(data.get("provenance", {})),
        path=path,
    )
