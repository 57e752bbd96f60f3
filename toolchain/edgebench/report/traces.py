"""Battery and thermal traces for the report, from the sampler's stored device samples (raw sysfs text).

Units are the kernel's documented ones (Documentation/ABI/testing/sysfs-class-power and
sysfs-class-thermal): power_supply `temp` in tenths of a degree C, `voltage_now` in µV, `capacity` in %,
thermal_zone `temp` in millidegrees C. Currents are left out: their unit and sign vary by vendor and
need the battery calibration (energy per inference already carries it).
"""
from __future__ import annotations

import os
import re
from typing import Mapping, Sequence

import pandas as pd

from edgebench.store import DeviceSample

# (node pattern, channel name (may use the pattern's group 1), unit, factor from the raw value)
CHANNELS: tuple[tuple[re.Pattern[str], str, str, float], ...] = (
    (re.compile(r"/power_supply/[^/]+/temp$"), "battery temperature", "°C", 0.1),
    (re.compile(r"/power_supply/[^/]+/voltage_now$"), "battery voltage", "V", 1e-6),
    (re.compile(r"/power_supply/[^/]+/capacity$"), "battery capacity", "%", 1.0),
    (re.compile(r"/thermal/(thermal_zone\d+)/temp$"), "{} temperature", "°C", 1e-3),
)
COLUMNS = ["run_id", "t_s", "channel", "value", "unit"]


def _channel(node: str) -> tuple[str, str, float] | None:
    for pattern, name, unit, factor in CHANNELS:
        match = pattern.search(node)
        if match:
            return name.format(*match.groups()), unit, factor
    return None


def device_traces(samples_by_run: Mapping[str, Sequence[DeviceSample]]) -> pd.DataFrame:
    """One row per readable battery/thermal sample: run_id, t_s (from the run's first sample), channel,
    value (converted to `unit`), unit. Samples whose text is not a number (a failed read) are left out."""
    rows = []
    for run_id, samples in samples_by_run.items():
        if not samples:
            continue
        start_ns = min(s.t_ns for s in samples)
        for sample in samples:
            channel = _channel(sample.channel)
            if channel is None or sample.value_text is None:
                continue
            try:
                raw = float(sample.value_text.strip())
            except ValueError:
                continue
            rows.append((run_id, (sample.t_ns - start_ns) / 1e9, channel[0], raw * channel[2], channel[1]))
    return pd.DataFrame(rows, columns=COLUMNS)


def traces_note(run_count: int, traces: pd.DataFrame) -> str:
    """What the traces section says when there is nothing to draw."""
    if run_count == 0:
        return "not recorded: the table names no stored runs"
    if traces.empty:
        return (f"not recorded: none of the {run_count} stored runs has battery or thermal samples (the sampler"
                " found no power_supply or thermal_zone node, e.g. on this host or with sampling off)")
    return "recorded"


def stored_traces(table: pd.DataFrame, workspace: str | os.PathLike[str] | None) -> tuple[pd.DataFrame, str]:
    """Battery/thermal traces of the table's stored runs (report/traces.py) and the section's note."""
    from edgebench.api import open_store

    run_ids = list(dict.fromkeys(r for ids in table.get("run_ids", []) if isinstance(ids, (list, tuple))
                                 for r in ids))
    store = open_store(workspace)
    try:
        traces = device_traces({run_id: store.device_samples(run_id) for run_id in run_ids})
    finally:
        store.close()
    return traces, traces_note(len(run_ids), traces)
