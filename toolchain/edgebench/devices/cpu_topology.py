"""CPU clusters and named CPU masks (`--cpu-mask little|big|prime|all|HEX`).

Clusters are groups of CPUs with the same scheduler capacity (`cpu_capacity`, the kernel's relative
performance of each CPU), or, where that file is missing, the same `cpuinfo_max_freq`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from edgebench.errors import UsageError

NAMED_MASKS = ("little", "big", "prime", "all")
_HEX = re.compile(r"^(0x)?[0-9a-fA-F]+$")


@dataclass(frozen=True)
class CpuFacts:
    cpu: int
    capacity: int | None  # /sys/devices/system/cpu/cpuN/cpu_capacity (0-1024)
    max_freq_khz: int | None  # cpufreq/cpuinfo_max_freq


@dataclass(frozen=True)
class Cluster:
    cpus: tuple[int, ...]
    capacity: int | None
    max_freq_khz: int | None

    @property
    def mask(self) -> int:
        return sum(1 << c for c in self.cpus)


def clusters_of(cpus: Sequence[CpuFacts]) -> list[Cluster]:
    """Group CPUs by performance, slowest cluster first."""
    use_capacity = all(c.capacity is not None for c in cpus)
    groups: dict[object, list[CpuFacts]] = {}
    for c in cpus:
        key = c.capacity if use_capacity else c.max_freq_khz
        groups.setdefault(key, []).append(c)
    clusters = [Cluster(tuple(sorted(c.cpu for c in members)),
                        members[0].capacity if use_capacity else None,
                        max((c.max_freq_khz for c in members if c.max_freq_khz is not None), default=None))
                for members in groups.values()]
    return sorted(clusters, key=lambda k: ((k.capacity if use_capacity else k.max_freq_khz) or 0, k.cpus))


def named_masks(clusters: Sequence[Cluster]) -> dict[str, int]:
    """little = slowest cluster; prime = fastest; big = the ones between (or the fastest of two)."""
    if not clusters:
        return {}
    all_mask = sum(c.mask for c in clusters)
    if len(clusters) == 1:
        return {"little": all_mask, "big": all_mask, "prime": all_mask, "all": all_mask}
    middle = clusters[1:-1] if len(clusters) >= 3 else clusters[1:]
    return {"little": clusters[0].mask, "big": sum(c.mask for c in middle), "prime": clusters[-1].mask,
            "all": all_mask}


def resolve_cpu_mask(spec: str | None, masks: Mapping[str, int] | None, *, device: str = "target") -> str | None:
    """A named or hex mask to the hex text taskset takes. Names need the device's clusters."""
    if spec is None:
        return None
    name = spec.strip().lower()
    if name in NAMED_MASKS:
        if not masks:
            raise UsageError(f"--cpu-mask {name}: {device} exposes no cpu_capacity or cpufreq, so its clusters "
                             "are unknown. Give a hex mask instead, e.g. --cpu-mask f0.")
        return f"{masks[name]:x}"
    if not _HEX.match(name) or int(name, 16) == 0:
        raise UsageError(f"--cpu-mask takes little, big, prime, all or a non-zero hex mask such as f0. "
                         f"Received: {spec!r}.")
    return name.removeprefix("0x")


def mask_cpus(mask_hex: str) -> list[int]:
    value = int(mask_hex, 16)
    return [i for i in range(value.bit_length()) if value >> i & 1]
