"""Build the policy document (JSON) from one device model's measured variants and the app's constraints.

The decision table is `decide.choose` evaluated at every battery band × charging × thermal status 0..6,
so the table an app looks up and the function a virtual device calls never disagree.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from edgebench.errors import UsageError
from edgebench.policy.decide import SCHEMA_VERSION, THERMAL_STATUSES, TOP_BAND_MAX_PCT, State, choose
from edgebench.policy.measured import DeviceFacts, Excluded, MeasuredVariant
from edgebench.version import __version__

DEFAULT_BANDS_PCT = (15.0, 30.0, 50.0)
MJ_PER_MAH_V = 3600.0  # 1 mAh at 1 V = 3.6 J


@dataclass(frozen=True)
class BatteryLife:
    """Keep `hours` of inference at `rate_hz` from the current battery band's middle level (see
    decide.energy_budget_mj)."""
    hours: float
    rate_hz: float
    capacity_mj: float
    capacity_source: str  # where the capacity came from (the device record, --battery-mah/--battery-v)
    inference_share: float = 1.0  # the share of the battery the app may spend on inference


@dataclass(frozen=True)
class Thresholds:
    latency_budget_p90_ms: float | None = None
    accuracy_floor: float | None = None
    energy_budget_mj: float | None = None  # fixed mJ per inference; exclusive with battery_life
    battery_life: BatteryLife | None = None
    battery_bands_pct: tuple[float, ...] = DEFAULT_BANDS_PCT

    def __post_init__(self) -> None:
        if self.energy_budget_mj is not None and self.battery_life is not None:
            raise UsageError("give either an energy budget in mJ per inference or a target battery life, not both")
        for name, value in (("latency budget", self.latency_budget_p90_ms), ("energy budget", self.energy_budget_mj)):
            if value is not None and not value > 0:
                raise UsageError(f"the {name} must be > 0, received {value}")
        bad = [b for b in self.battery_bands_pct if not 0 < b < 100]
        if bad or len(set(self.battery_bands_pct)) != len(self.battery_bands_pct):
            raise UsageError(f"battery band edges must be distinct percentages between 0 and 100 (exclusive),"
                             f" e.g. 15,30,50; received {','.join(f'{b:g}' for b in self.battery_bands_pct)}")

    def to_json(self) -> dict[str, Any]:
        energy: dict[str, Any] | None = None
        if self.energy_budget_mj is not None:
            energy = {"kind": "mj_per_inference", "mj": self.energy_budget_mj}
        elif self.battery_life is not None:
            life = self.battery_life
            energy = {"kind": "battery_life", "hours": life.hours, "rate_hz": life.rate_hz,
                      "battery_capacity_mj": life.capacity_mj, "capacity_source": life.capacity_source,
                      "inference_share": life.inference_share, "band_level": "middle",
                      "formula": "inference_share * battery_capacity_mj * band_level_pct / 100 / (hours * 3600 * rate_hz),"
                                 " band_level_pct = (battery_min_pct + min(battery_max_pct, 100)) / 2"}
        return {"latency_budget_p90_ms": self.latency_budget_p90_ms, "accuracy_floor": self.accuracy_floor,
                "energy_budget": energy, "charging_lifts_energy_budget": True,
                "battery_bands_pct": sorted(self.battery_bands_pct)}


def battery_capacity_mj(device: DeviceFacts, mah: float | None, volts: float | None) -> tuple[float, str]:
    """The battery's energy from --battery-mah and --battery-v, else from the device record; an error if neither."""
    if mah is not None or volts is not None:
        if mah is None or volts is None or not mah > 0 or not volts > 0:
            raise UsageError(f"give both --battery-mah and --battery-v (> 0), e.g. --battery-mah 4575 --battery-v 3.87;"
                             f" received {mah} mAh, {volts} V")
        return mah * volts * MJ_PER_MAH_V, f"--battery-mah {mah:g} --battery-v {volts:g}"
    record_mah, record_v = device.details.get("battery_capacity_mah"), device.details.get("battery_nominal_v")
    if isinstance(record_mah, (int, float)) and isinstance(record_v, (int, float)):
        return float(record_mah) * float(record_v) * MJ_PER_MAH_V, "device record"
    raise UsageError(f"a battery-life budget needs the battery's capacity, and the device record of {device.model}"
                     " has none: give --battery-mah MAH and --battery-v NOMINAL_VOLTS (the battery's label)")


def _variant_json(v: MeasuredVariant) -> dict[str, Any]:
    energy = None
    if not math.isnan(v.energy_median_mj):
        energy = {"median": v.energy_median_mj, "runs": v.energy_runs, "source": v.energy_source,
                  "ci_low": v.energy_ci_mj[0] if v.energy_ci_mj else None,
                  "ci_high": v.energy_ci_mj[1] if v.energy_ci_mj else None,
                  "ci_level": v.energy_ci_mj[2] if v.energy_ci_mj else None}
    return {"name": v.name, "sha256": v.sha256, "file": v.file_name, "config": v.config,
            "size_bytes": None if math.isnan(v.size_bytes) else int(v.size_bytes), "accuracy": v.accuracy,
            "latency_source": v.latency_source,
            "latency_by_thermal_status": {str(t.thermal_status): {
                "p50_ms": t.p50_ms, "p90_ms": t.p90_ms, "runs": t.runs,
                "thermal_status_recorded": t.thermal_status_recorded} for t in v.latency},
            "energy_mj": energy, "measured_on": v.device_model, "indicative": v.indicative, "notes": list(v.notes)}


def _bands(thresholds: Thresholds) -> list[tuple[float, float]]:
    edges = [0.0, *sorted(thresholds.battery_bands_pct), float(TOP_BAND_MAX_PCT)]
    return list(zip(edges, edges[1:]))


def build_policy(variants: Sequence[MeasuredVariant], excluded: Sequence[Excluded], device: DeviceFacts,
                 thresholds: Thresholds, source: dict[str, Any]) -> dict[str, Any]:
    """The policy document: schema version, device, thresholds, variants, and the decision table."""
    if not variants:
        reasons = "; ".join(f"{e.name}: {e.reason}" for e in excluded) or "the table has no measured variant"
        raise UsageError(f"no variant of {device.model} can enter a policy: {reasons}")
    indicative = [v.name for v in variants if v.indicative]
    policy: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION, "kind": "edgebench-policy", "edgebench_version": __version__,
        "source": source,
        "device": {"model": device.model, "device_ids": list(device.device_ids), **dict(device.details)},
        "thresholds": thresholds.to_json(),
        "rule": ("per state, the most accurate variant known to meet every constraint (outcome met); else the"
                 " fastest of those whose latency there is not known (not_checked); else the fallback: the"
                 " lowest-energy variant when an energy budget is missed, otherwise the fastest"),
        "indicative": bool(indicative),
        "indicative_reason": (f"{len(indicative)} of {len(variants)} variant(s) measured with a shortened (smoke)"
                              " protocol (their \"indicative\"): good for a look, not a verdict" if indicative else None),
        "variants": [_variant_json(v) for v in variants],
        "excluded": [{"name": e.name, "sha256": e.sha256, "reason": e.reason} for e in excluded],
    }
    rows = []
    for low, high in _bands(thresholds):
        for charging in (False, True):
            for status in THERMAL_STATUSES:
                choice = choose(policy, State(battery_pct=low, charging=charging, thermal_status=status))
                rows.append({"battery_min_pct": low, "battery_max_pct": high, "charging": charging,
                             "thermal_status": status, "variant": choice.sha256, "name": choice.name,
                             "met": choice.met, "outcome": choice.outcome, "reason": choice.reason, "latency_p90_ms": choice.latency_p90_ms,
                             "latency_basis": choice.latency_basis, "energy_budget_mj": choice.energy_budget_mj})
    policy["decision_table"] = rows
    return policy


def _describe(rows: list[dict[str, Any]]) -> str:
    """The states of `rows` in a few words: bands, charging and thermal statuses (a product when they are one)."""
    bands = sorted({(r["battery_min_pct"], r["battery_max_pct"]) for r in rows})
    charging = sorted({r["charging"] for r in rows})
    thermal = sorted({r["thermal_status"] for r in rows})
    band_text = ", ".join(f"{low:g}-{min(high, 100):g} %" for low, high in bands)
    charge_text = " or ".join("charging" if c else "discharging" for c in charging)
    thermal_text = ",".join(str(t) for t in thermal)
    if len(rows) == len(bands) * len(charging) * len(thermal):
        return f"battery {band_text}; {charge_text}; thermal {thermal_text}"
    return "; ".join(f"battery {r['battery_min_pct']:g}-{min(r['battery_max_pct'], 100):g} %,"
                     f" {'charging' if r['charging'] else 'discharging'}, thermal {r['thermal_status']}" for r in rows)


def policy_differences(policies: dict[str, dict[str, Any]]) -> list[str]:
    """Lines naming the states where device models choose differently (by variant name: one file, many
    devices), grouped by the pair of choices."""
    models = list(policies)
    lines = []
    for i, first in enumerate(models):
        for second in models[i + 1:]:
            a, b = policies[first]["decision_table"], policies[second]["decision_table"]
            keyed = {(r["battery_min_pct"], r["charging"], r["thermal_status"]): r["name"] for r in b}
            groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for row in a:
                other = keyed.get((row["battery_min_pct"], row["charging"], row["thermal_status"]))
                if other != row["name"]:
                    groups.setdefault((row["name"], str(other)), []).append(row)
            differ = sum(len(g) for g in groups.values())
            if not differ:
                lines.append(f"{first} and {second} choose the same variant in all {len(a)} states")
                continue
            lines.append(f"{first} and {second} differ in {differ} of {len(a)} states:")
            for (mine, theirs), rows in groups.items():
                lines.append(f"  {mine} vs {theirs} ({len(rows)}): {_describe(rows)}")
    return lines


def device_slug(model: str) -> str:
    slug = "".join(c if c.isalnum() or c in "-_." else "-" for c in model).strip("-")
    return slug or "device"


def policy_path(folder: str | os.PathLike[str], model: str) -> str:
    return os.path.join(folder, f"policy-{device_slug(model)}.json")


def policy_paths(folder: str | os.PathLike[str], models: Sequence[str]) -> dict[str, Path]:
    """policy-<model>.json in `folder` for each model; an error, before anything is written, when two models
    would share a file (names that differ only in characters a file name cannot hold, e.g. "Pixel 7"/"Pixel-7")."""
    paths = {model: Path(policy_path(folder, model)) for model in models}
    for path in set(paths.values()):
        same = [model for model, p in paths.items() if p == path]
        if len(same) > 1:
            raise UsageError(f"device models {', '.join(repr(m) for m in same)} would all be written to {path}:"
                             " export them one at a time with --device D -o FILE")
    return paths
