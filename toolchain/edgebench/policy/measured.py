"""The measured facts a policy is built from: one device model's variants (analyze's variant table) with
their latency per Android thermal status, energy per inference with its interval, accuracy and size.

Which runs count:
- an ok run, at the thermal status its `thermal` check recorded (pass = 0; "thermal status reached N" or
  "thermal status N" = N). A run whose thermal check was not evaluated (a host, a target without a thermal
  service) counts at status 0, marked `thermal_status_recorded: false`;
- a run made invalid only by throttling (its failed checks are all `thermal`/`cooling`) counts at the status
  it recorded, read from the thermal check's reason whatever its outcome (a cooling device active while the
  framework said status 0 counts at 0: that is the status an app sees): throttled runs are what the policy
  needs. A throttled run with no recorded status cannot be placed and is left out, with a note;
- any other invalid or failed run does not count.
Smoke (shortened) runs count but mark the variant `indicative` (the variant table's verdict_allowed).
"""
from __future__ import annotations

import json
import math
import re
import statistics
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import pandas as pd

from edgebench.errors import UsageError
from edgebench.records import RunRecord
from edgebench.stats import median_interval

_STATUS = re.compile(r"thermal status (?:reached )?(\d)\b")
THROTTLE_CHECKS = frozenset({"thermal", "cooling"})


@dataclass(frozen=True)
class ThermalLatency:
    thermal_status: int
    p50_ms: float  # median over the runs of each run's median
    p90_ms: float  # median over the runs of each run's p90
    runs: int
    thermal_status_recorded: bool


@dataclass(frozen=True)
class MeasuredVariant:
    name: str
    sha256: str
    file_name: str
    config: str
    size_bytes: float
    accuracy: float
    latency: tuple[ThermalLatency, ...]
    energy_median_mj: float  # nan: not measured
    energy_ci_mj: tuple[float, float, float] | None  # (low, high, achieved level); None below 2 runs
    energy_runs: int
    energy_source: str  # measured | simulated | predicted | none
    latency_source: str
    device_model: str
    indicative: bool  # smoke / shortened runs: good for a look, not a verdict
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Excluded:
    name: str
    sha256: str | None
    reason: str


@dataclass(frozen=True)
class DeviceFacts:
    model: str
    device_ids: tuple[str, ...]
    details: Mapping[str, Any] = field(default_factory=dict)  # manufacturer, soc, os_version, kind, abi


def run_thermal_status(run: RunRecord) -> tuple[int | None, bool, str | None]:
    """(status the run counts at, whether it was recorded, why it does not count) for one run. The status is
    read from the `thermal` check's reason whatever its outcome: a run throttled only by a cooling device
    still recorded the framework's status ("thermal status 0; cooling device ... at state 2")."""
    thermal = next((c for c in run.checks if c.name == "thermal"), None)
    failed = [c for c in run.checks if c.outcome == "fail" and not c.advisory]
    if run.status == "invalid" and any(c.name not in THROTTLE_CHECKS for c in failed):
        return None, False, f"run {run.run_id} invalid: {', '.join(c.name for c in failed)}"
    if run.status not in ("ok", "invalid") or run.latency is None:
        return None, False, None
    if thermal is not None and thermal.outcome == "pass":
        return 0, True, None
    match = _STATUS.search(thermal.reason or "") if thermal is not None else None
    if match:
        return int(match.group(1)), True, None
    if failed:  # throttled (thermal or cooling failed) and no status to place the run at
        why = thermal.reason if thermal is not None and thermal.outcome == "fail" else "cooling device"
        return None, False, f"run {run.run_id} throttled ({why}) with no thermal status recorded"
    return 0, False, None


def thermal_latencies(runs: Sequence[RunRecord]) -> tuple[tuple[ThermalLatency, ...], list[str]]:
    by_status: dict[int, list[RunRecord]] = {}
    recorded: dict[int, bool] = {}
    notes = []
    for run in runs:
        status, was_recorded, why_not = run_thermal_status(run)
        if why_not:
            notes.append(why_not)
        if status is None or run.latency is None or run.latency.p90_us is None or run.latency.median_us is None:
            continue
        by_status.setdefault(status, []).append(run)
        recorded[status] = recorded.get(status, True) and was_recorded
    figures = tuple(ThermalLatency(
        thermal_status=s, p50_ms=statistics.median(r.latency.median_us for r in rs if r.latency and r.latency.median_us) / 1000.0,
        p90_ms=statistics.median(r.latency.p90_us for r in rs if r.latency and r.latency.p90_us) / 1000.0,
        runs=len(rs), thermal_status_recorded=recorded[s]) for s, rs in sorted(by_status.items()))
    return figures, notes


def _info(text: Any) -> dict[str, Any]:
    try:
        info = json.loads(text) if isinstance(text, str) else {}
    except ValueError:
        return {}
    return info if isinstance(info, dict) else {}


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def _name(row: Mapping[str, Any], several_configs: bool) -> str:
    base = f"{row['source']}/{row['variant']}" if row.get("source") else str(row["variant"])
    return f"{base} {row['config']}" if several_configs else base


def measured_variants(table: pd.DataFrame, device: str, runs: Mapping[str, RunRecord],
                      devices: Mapping[str, Mapping[str, Any]], *, allow_other_device_model: bool = False
                      ) -> tuple[list[MeasuredVariant], list[Excluded], DeviceFacts]:
    """The variants of `table` measured on `device` (a device id or a device model), one per file × config.

    `runs`: every run the table's rows name, by run id; `devices`: the store's device rows by id.
    A variant measured only on another device model is excluded unless `allow_other_device_model`."""
    measured = table[table["device_id"].notna()]
    models = {str(r["device_id"]): str(r["device_model"]) for _, r in measured.iterrows()}
    wanted = models.get(device) or (device if device in models.values() else None)
    if wanted is None:
        known = ", ".join(sorted({f"{m} ({i})" for i, m in models.items()})) or "none"
        raise UsageError(f"no runs on device {device!r} in this table: give a device model or id it was "
                         f"measured on; devices there: {known}")
    several_configs = measured["config"].nunique() > 1
    by_key: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for _, row in measured.iterrows():
        if row["tflite_sha256"] is not None:
            by_key.setdefault((str(row["tflite_sha256"]), str(row["config"])), []).append({str(k): v for k, v in row.to_dict().items()})
    variants, excluded = [], []
    for (sha, config), rows in by_key.items():
        own = [r for r in rows if r["device_model"] == wanted]
        name = _name(rows[0], several_configs)
        if not own:
            others = sorted({str(r["device_model"]) for r in rows})
            if not allow_other_device_model:
                excluded.append(Excluded(name, sha, f"measured only on {', '.join(others)}, not on {wanted}"
                                         " (--allow-other-device-model to use it)"))
                continue
            own = rows
        variant, why_not = _variant(name, sha, config, own, runs, wanted)
        if variant is None:
            excluded.append(Excluded(name, sha, why_not))
        else:
            variants.append(variant)
    ids = tuple(sorted(i for i, m in models.items() if m == wanted))
    first = devices.get(ids[0], {}) if ids else {}
    details = {k: first.get(k) for k in ("device_kind", "manufacturer", "soc", "abi", "os_version") if first.get(k)}
    info = _info(first.get("info_json"))
    details.update({k: info[k] for k in ("battery_capacity_mah", "battery_nominal_v") if k in info})
    return variants, excluded, DeviceFacts(wanted, ids, details)


def _variant(name: str, sha: str, config: str, rows: list[dict[str, Any]], runs: Mapping[str, RunRecord],
             wanted_model: str) -> tuple[MeasuredVariant | None, str]:
    row_runs = [runs[i] for r in rows for i in (r.get("run_ids") or []) if i in runs]
    latency, notes = thermal_latencies(row_runs)
    accuracy = _number(rows[0].get("accuracy"))
    if math.isnan(accuracy):
        return None, "no test accuracy recorded (the policy ranks by accuracy)"
    if not latency:
        return None, "no run that counts (ok, or invalid only by throttling) with latency: " + "; ".join(notes)
    energy = [float(e) for r in rows for e in (r.get("energy_samples_mj") or []) if math.isfinite(float(e))]
    interval = median_interval(energy)
    sources = {str(r.get("energy_source")) for r in rows if r.get("energy_source") not in (None, "none")}
    lat_sources = {str(r.get("latency_source")) for r in rows if r.get("latency_source")}
    other = sorted({str(r["device_model"]) for r in rows if r["device_model"] != wanted_model})
    if other:
        notes.append(f"measured on {', '.join(other)}, not on {wanted_model} (allowed by --allow-other-device-model)")
    file_names = sorted({run.model for run in row_runs})
    return MeasuredVariant(
        name=name, sha256=sha, file_name=file_names[0] if file_names else f"{sha}.tflite", config=config,
        size_bytes=_number(rows[0].get("size_bytes")), accuracy=accuracy, latency=latency,
        energy_median_mj=statistics.median(energy) if energy else math.nan,
        energy_ci_mj=(interval.low_us, interval.high_us, interval.level) if interval else None,
        energy_runs=len(energy), energy_source=_least_measured(sources),
        latency_source=_least_measured(lat_sources), device_model=", ".join(sorted({str(r["device_model"]) for r in rows})),
        indicative=any(_shortened(run) for run in row_runs if run_thermal_status(run)[0] is not None),
        notes=tuple(notes)), ""


def _shortened(run: RunRecord) -> bool:
    """A smoke run, or one the bench shortened: a figure to look at, not a verdict. (Not the variant table's
    verdict_allowed, which also refuses battery runs: their latency is from a full protocol.)"""
    return run.protocol == "smoke" or any(c.name == "shortened" and c.outcome == "fail" for c in run.checks)


def _least_measured(sources: set[str]) -> str:
    for source in ("predicted", "simulated", "measured"):
        if source in sources:
            return source
    return "none"
