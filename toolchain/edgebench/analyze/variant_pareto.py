"""Pareto analysis of a variant table (a study or a session): per device, with Monte-Carlo samples that come
from the stored measurements themselves, and every row that could not take part listed with its reason.

Sample models (one array of B values per row and sampled objective; the row's table value stays its point):
    latency_ms  two-stage bootstrap of the median of the repeats' medians over `latency_repeats_ms`
                (`analyze.bootstrap.hierarchical_medians`: repeats, then samples within each repeat)
    accuracy    Binomial(accuracy_n, accuracy) / accuracy_n: the test-set size behind the accuracy
    energy_mj   bootstrap of the median over `energy_samples_mj`, for rows with energy from 2 or more runs
Any other objective (p90 latency, size, memory, training time, ...) stays fixed, and so does an objective
for a row without what its model needs (no raw samples, no test-set size, fewer than 2 energy runs).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from edgebench.analyze.attainment import surfaces_of_points
from edgebench.analyze.bootstrap import hierarchical_medians
from edgebench.analyze.fronts import _as_objectives, pareto
from edgebench.analyze.objectives import Objective
from edgebench.analyze.variant_records import DeviceAnalysis, Excluded, SampleUse, VariantPareto
from edgebench.analyze.variant_table import device_labels
from edgebench.errors import UsageError

SAMPLE_MODELS = {
    "latency_ms": "two-stage bootstrap of the median of the repeats' medians (repeats, then samples within each)",
    "accuracy": "Binomial(accuracy_n, accuracy) / accuracy_n",
    "energy_mj": "bootstrap of the median over the runs' energy per inference (rows with 2 or more runs)",
}
MIN_ENERGY_RUNS = 2
# Bootstrap replicates kept per row and objective: the B Monte-Carlo draws pick among them. The two-stage
# bootstrap costs draws x samples per repeat (~30 ms a row for 3 x 200 samples at 1,000 replicates);
# 200 replicates describe its distribution to within a few percent of its quantiles at a fifth of that.
MAX_REPLICATES = 200


def check_objective_columns(table: pd.DataFrame, objectives: Sequence[Objective]) -> None:
    numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c]) and table[c].dtype != bool]
    for objective in objectives:
        if objective.name not in table.columns or objective.name not in numeric:
            raise UsageError(f"objective {objective.name!r} is not a numeric column of the variant table;"
                             f" its numeric columns are: {', '.join(numeric)}")
        if not table[objective.name].notna().any():
            hint = " (energy comes from edgebench profile-battery runs)" if objective.name == "energy_mj" else ""
            raise UsageError(f"objective {objective.name!r} has no value in any of the table's {len(table)} rows"
                             f"{hint}: drop it from --objectives")


def pareto_of_variants(table: pd.DataFrame, objectives: str | Sequence[str] | Sequence[Objective], *,
                       reference: Sequence[float] | None = None, draws: int = 1000, seed: int = 0,
                       across_devices: bool = False) -> VariantPareto:
    """One Pareto analysis per device of `table` (a variant table), with frontier probability from the
    stored samples; `across_devices` adds the combined ranking (analyze.across_devices)."""
    from edgebench.analyze.across_devices import combine

    objs = _as_objectives(objectives)
    if seed < 0:
        raise UsageError(f"--seed {seed}: expected a seed of 0 or more")
    check_objective_columns(table, objs)
    devices = sorted({d for d in table["device_id"].tolist() if isinstance(d, str)})
    labels = device_labels(zip(table["device_id"], table["device_model"]))
    excluded: list[Excluded] = []
    if len(devices) > 1:
        nowhere = table[~table["device_id"].isin(devices)]
        excluded = [Excluded(str(r.id), f"ran on no device (status {r.status})") for r in nowhere.itertuples()]
        groups: list[tuple[str | None, pd.DataFrame]] = [(labels[d], table[table["device_id"] == d]) for d in devices]
    else:
        groups = [(None, table)]
    analyses = tuple(_analyze(device, rows, objs, reference, draws, seed + k, single=len(groups) == 1)
                     for k, (device, rows) in enumerate(groups))
    if all(a.analysis is None for a in analyses):
        reasons = "; ".join(f"{a.device}: {a.skipped}" for a in analyses)
        raise UsageError(f"no device has an analysis for {', '.join(o.spec() for o in objs)} ({reasons});"
                         f" {sum(len(a.excluded) for a in analyses)} row(s) lack an objective: choose objectives"
                         " every variant has (see `edgebench pareto --study S --objectives ... --json` per device)")
    across = None
    if across_devices:
        if len(devices) < 2:
            raise UsageError(f"--across-devices needs a table of 2 or more devices; this one has"
                             f" {', '.join(labels[d] for d in devices) or 'none'}: drop --across-devices")
        across = combine(analyses)
    return VariantPareto(objs, analyses, tuple(excluded), across, draws, seed)


def _analyze(device: str | None, rows: pd.DataFrame, objectives: tuple[Objective, ...],
             reference: Sequence[float] | None, draws: int, seed: int, *, single: bool) -> DeviceAnalysis:
    names = [o.name for o in objectives]
    complete = rows[names].notna().all(axis=1).to_numpy()
    excluded = tuple(Excluded(str(r.id), _missing_reason(r, names)) for r in rows[~complete].itertuples())
    kept = rows[complete].reset_index(drop=True)
    sampled, uses = row_samples(kept, objectives, draws, np.random.default_rng([seed, 1]))
    frame = pd.DataFrame({"id": kept["id"].astype(str)})
    for name in names:
        frame[name] = kept[name].astype(float)
    for name, arrays in sampled.items():
        frame[f"samples:{name}"] = pd.Series(arrays, dtype=object)
    try:
        analysis = pareto(frame, objectives, id_col="id", reference=reference,
                          samples={name: f"samples:{name}" for name in sampled}, draws=draws, seed=seed)
    except UsageError as exc:
        if single:
            raise UsageError(f"{exc} (after leaving out {len(excluded)} row(s) without every objective)"
                             if excluded else str(exc)) from None
        return DeviceAnalysis(device, None, excluded, uses, None, skipped=str(exc))
    surfaces = None
    if len(objectives) == 2 and sampled:
        points = analysis.rows[names].to_numpy(dtype=float)
        surfaces = surfaces_of_points(points, objectives, sampled, draws=draws, seed=seed)
    return DeviceAnalysis(device, analysis, excluded, uses, surfaces)


def _missing_reason(row: Any, names: Sequence[str]) -> str:
    missing = [n for n in names if pd.isna(getattr(row, n))]
    return (f"no value for {', '.join(missing)} (status {row.status},"
            f" {row.repeats_ok} of {row.repeats_total} repeats ok)")


def row_samples(rows: pd.DataFrame, objectives: Sequence[Objective], draws: int,
                rng: np.random.Generator) -> tuple[dict[str, list[np.ndarray]], tuple[SampleUse, ...]]:
    """Per sampled objective, one array per row: draws of its model (B binomial draws; min(B, 200) bootstrap
    replicates), or the row's value alone where the row lacks what the model needs. Objectives without a model, or with no row to draw, are left out."""
    if draws < 1:
        raise UsageError(f"--draws {draws}: expected a positive number of Monte-Carlo draws (default 1000)")
    sampled: dict[str, list[np.ndarray]] = {}
    uses = []
    for objective in objectives:
        name = objective.name
        if name not in SAMPLE_MODELS:
            uses.append(SampleUse(name, None, 0, len(rows)))
            continue
        arrays = [_draw(name, row, draws, rng) for row in rows.itertuples()]
        fixed = [np.array([float(getattr(row, name))]) for row in rows.itertuples()]
        n_sampled = sum(a is not None for a in arrays)
        uses.append(SampleUse(name, SAMPLE_MODELS[name] if n_sampled else None, n_sampled, len(rows) - n_sampled))
        if n_sampled:
            sampled[name] = [a if a is not None else f for a, f in zip(arrays, fixed)]
    return sampled, tuple(uses)


def _draw(name: str, row: Any, draws: int, rng: np.random.Generator) -> np.ndarray | None:
    replicates = min(draws, MAX_REPLICATES)
    if name == "latency_ms":
        repeats = [r for r in row.latency_repeats_ms if len(r)]
        return hierarchical_medians(repeats, replicates, rng) if repeats else None
    if name == "accuracy":
        n = row.accuracy_n
        if not np.isfinite(n) or n < 1 or not 0.0 <= row.accuracy <= 1.0:
            return None
        return np.asarray(rng.binomial(int(n), float(row.accuracy), size=draws) / int(n), dtype=float)
    energies = list(row.energy_samples_mj)
    if len(energies) < MIN_ENERGY_RUNS:
        return None
    return hierarchical_medians([[e] for e in energies], replicates, rng)
