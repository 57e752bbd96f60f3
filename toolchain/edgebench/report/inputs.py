"""What the analysis report shows, as data: `ReportInputs`, and `build_inputs` that computes what it can.

    build_inputs(table, objectives=..., surfaces=None, effects=None, sensitivity=None, traces=None, ...)

`table` is a variant table (analyze/variant_table.py: one row per variant x device x run config).
Pareto fronts, frontier probabilities and attainment surfaces are computed here per (device model, run
config) with `analyze.pareto_of_variants` (the sample models of the stored measurements); effects and
sensitivity come from their own analyses (any frozen record whose fields are
DataFrames, or a mapping of name -> DataFrame) and are shown as given.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from edgebench.analyze.variant_pareto import pareto_of_variants
from edgebench.analyze.objectives import Objective, parse_objectives
from edgebench.errors import EdgebenchError, UsageError

DEFAULT_OBJECTIVES = "latency_ms:min,accuracy:max"
GROUP_COLUMNS = ("device_model", "config")
PARETO_COLUMNS = ("on_frontier", "front", "hypervolume_contribution", "frontier_probability", "expected_front",
                  "efficiency_rank")
HEADLINE_PER_GROUP = 5
BASELINE_VARIANT = "fp32"


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report draws; None / empty = not available (the report says so and why)."""
    table: pd.DataFrame  # the variant table plus the PARETO_COLUMNS (NaN where a row was not analysed)
    title: str
    objectives: tuple[Objective, ...]
    headline: pd.DataFrame  # efficient variants vs their fp32 baseline, per device and config
    pareto_notes: tuple[str, ...] = ()  # per group: rows analysed, draws, hypervolume, what was left out
    surfaces: pd.DataFrame | None = None  # attainment surfaces: level, <objective 1>, <objective 2>[, group]
    effects: Mapping[str, pd.DataFrame] = field(default_factory=dict)  # e.g. tests, correlations, spread
    sensitivity: Mapping[str, pd.DataFrame] = field(default_factory=dict)  # e.g. distances, influence_changes
    effects_note: str = ""  # why there are no effects tables (shown instead of them)
    sensitivity_note: str = ""
    traces: pd.DataFrame | None = None  # t_s, channel, value[, unit, run_id]
    traces_note: str = "not recorded: no battery or thermal samples were given to the report"
    meta: Mapping[str, str] = field(default_factory=dict)  # facts for the page's header line


def frames_of(record: Any) -> dict[str, pd.DataFrame]:
    """name -> DataFrame of a record (frozen dataclass fields that are DataFrames) or of a mapping."""
    if record is None:
        return {}
    if isinstance(record, Mapping):
        return {str(k): v for k, v in record.items() if isinstance(v, pd.DataFrame)}
    if dataclasses.is_dataclass(record):
        return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)
                if isinstance(getattr(record, f.name), pd.DataFrame)}
    raise TypeError(f"expected a record of DataFrames or a mapping of name -> DataFrame, got {type(record).__name__}")


def group_keys(table: pd.DataFrame) -> list[str]:
    return [c for c in GROUP_COLUMNS if c in table.columns]


def group_label(key: Any) -> str:
    return " ".join(str(k) for k in (key if isinstance(key, tuple) else (key,))) or "all rows"


def groups(table: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(label, rows) per device model and run config, or ("all rows", table) without those columns: the
    grouping and labels every section uses (attainment surfaces are matched to their plot by label)."""
    keys = group_keys(table)
    if not keys:
        return [("all rows", table)]
    return [(group_label(key), group) for key, group in table.groupby(keys, sort=True, dropna=False)]


def analyse_fronts(table: pd.DataFrame, objectives: Sequence[Objective], *, draws: int,
                   seed: int) -> tuple[pd.DataFrame, tuple[str, ...], pd.DataFrame | None]:
    """The table (index 0..n-1) with PARETO_COLUMNS filled per (device model, config) group, one note per
    group, and the groups' attainment surfaces (column `group` = the group's label); on_frontier is None and
    the numbers NaN for rows outside any analysis. The analysis is `analyze.pareto_of_variants`: frontier
    probability from the stored measurements' sample models (bootstrap of the latency median over repeats
    and samples, binomial accuracy), never from single inferences taken as if each were the median."""
    values = {c: np.full(len(table), None if c == "on_frontier" else np.nan, dtype=object if c == "on_frontier"
                         else float) for c in PARETO_COLUMNS}
    notes: list[str] = []
    surfaces: list[pd.DataFrame] = []
    position = {row_id: i for i, row_id in enumerate(table["id"].astype(str))}
    for label, group in groups(table):
        try:
            result = pareto_of_variants(group, list(objectives), draws=draws, seed=seed)
        except UsageError as exc:
            notes.append(f"{label}: no Pareto analysis: {exc}")
            continue
        for device in result.analyses:
            where = label if device.device is None else f"{label} ({device.device})"
            if device.analysis is None:
                notes.append(f"{where}: no Pareto analysis: {device.skipped}")
                continue
            rows = device.analysis.rows
            index = [position[str(i)] for i in rows["id"]]
            for column in PARETO_COLUMNS:
                if column in rows.columns:
                    values[column][index] = rows[column].to_numpy()
            if device.attainment is not None and len(device.attainment):
                surfaces.append(device.attainment.assign(group=label))
            sampled = [f"{u.objective} ({u.rows_sampled} rows)" for u in device.samples if u.model and u.rows_sampled]
            how = (f"frontier probability over {draws} draws (seed {seed}) of {', '.join(sampled)}" if sampled
                   else "no frontier probability: no objective has samples in the store")
            left_out = f"; {len(device.excluded)} row(s) without every objective left out" if device.excluded else ""
            notes.append(f"{where}: {len(rows)} rows{left_out}; {how};"
                         f" hypervolume {device.analysis.hypervolume:.4g}")
    joined = pd.concat(surfaces, ignore_index=True) if surfaces else None
    return table.assign(**values), tuple(notes), joined


def headline(table: pd.DataFrame, *, per_group: int = HEADLINE_PER_GROUP) -> pd.DataFrame:
    """Per group the frontier rows (most efficient first) and what they cost against the fp32 variant of
    the same trained model on the same device and config: latency and size as factors, accuracy in
    percentage points. No fp32 row: the factors are NaN (never 1)."""
    columns = ["id", "variant", "device_model", "config", "frontier_probability", "latency_ms", "speedup_vs_fp32",
               "size_reduction_vs_fp32", "accuracy_change_pp", "latency_source", "valid", "verdict_allowed", "protocol"]
    front = table[table["on_frontier"] == True]  # noqa: E712  (NaN = not analysed)
    if front.empty:
        return pd.DataFrame(columns=columns)
    order = ["efficiency_rank", "front", "latency_ms"] if front["efficiency_rank"].notna().any() else ["latency_ms"]
    keys = group_keys(table)
    rows = []
    for _, group in groups(front):
        for _, row in group.sort_values(order).head(per_group).iterrows():
            base = _baseline(table, row, keys)
            rows.append({**{c: row.get(c) for c in columns if c in row.index},
                         "speedup_vs_fp32": _ratio(base, row, "latency_ms"),
                         "size_reduction_vs_fp32": _ratio(base, row, "size_bytes"),
                         "accuracy_change_pp": (100.0 * (float(row["accuracy"]) - float(base["accuracy"]))
                                                if base is not None and "accuracy" in row.index else np.nan)})
    return pd.DataFrame(rows, columns=columns)


def _baseline(table: pd.DataFrame, row: pd.Series, keys: list[str]) -> pd.Series | None:
    if "trained_id" not in table.columns or row.get("trained_id") is None:
        return None
    match = (table["variant"] == BASELINE_VARIANT) & (table["trained_id"] == row["trained_id"])
    for k in keys:
        match &= table[k] == row[k]
    found = table[match]
    return None if found.empty else found.iloc[0]


def _ratio(base: pd.Series | None, row: pd.Series, column: str) -> float:
    if base is None or column not in row.index:
        return float("nan")
    value, reference = float(row[column]), float(base[column])
    return reference / value if value > 0 and np.isfinite(reference) else float("nan")


def build_inputs(table: pd.DataFrame, *, title: str, objectives: str | Sequence[str] = DEFAULT_OBJECTIVES,
                 surfaces: pd.DataFrame | None = None, effects: Any = None, sensitivity: Any = None,
                 effects_note: str = "", sensitivity_note: str = "", traces: pd.DataFrame | None = None, traces_note: str | None = None,
                 meta: Mapping[str, Any] | None = None, draws: int = 1000, seed: int = 0) -> ReportInputs:
    """Fronts, frontier probabilities and the headline from `table`; the other parts as given."""
    objs = parse_objectives(objectives)
    analysed, notes, drawn = analyse_fronts(table.reset_index(drop=True), objs, draws=draws, seed=seed)
    surfaces = surfaces if surfaces is not None else drawn
    facts = {str(k): str(v) for k, v in (meta or {}).items() if v is not None}
    recorded = traces is not None and not traces.empty
    note = traces_note or ("recorded" if recorded else ReportInputs.__dataclass_fields__["traces_note"].default)
    return ReportInputs(table=analysed, title=title, objectives=objs, headline=headline(analysed),
                        pareto_notes=notes, surfaces=surfaces, effects=frames_of(effects),
                        sensitivity=frames_of(sensitivity), effects_note=effects_note,
                        sensitivity_note=sensitivity_note, traces=traces if recorded else None,
                        traces_note=str(note), meta=facts)


def hyperparameter_analyses(table: pd.DataFrame, *, seed: int = 0) -> tuple[Any, str, Any, str]:
    """`analyze.effects` and `analyze.sensitivity` (hyperparameter_effects, pruning_sensitivity) of a variant table, each with the reason it is missing
    (a table without hyperparameter columns, too few models, ...) instead of the record."""
    from edgebench.analyze.hyperparameter_effects import effects
    from edgebench.analyze.pruning_sensitivity import sensitivity

    out: list[Any] = []
    for analysis in (effects, sensitivity):
        try:
            out += [analysis(table, seed=seed), ""]
        except EdgebenchError as exc:
            out += [None, str(exc)]
    return out[0], out[1], out[2], out[3]
