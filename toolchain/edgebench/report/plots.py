"""Plots of a variant table (analyze/variant_table.py's columns), for the HTML report and for notebooks.

Every function draws on `ax` (a new figure's Axes when None) and returns that Axes; none calls
`plt.show()`. Provenance is always visible: a simulated or predicted number is drawn hollow (and
dashed), a measured one filled, and the legend says which is which.

    pareto_scatter(table, x, y, ...)      two objectives, colour = frontier probability, attainment bands
    latency_ecdf(table, ...)              ECDF of the raw latency samples per variant and device
    energy_intervals(table, ...)          energy per inference with its interval across runs
    trace_lines(traces, channel, ...)     a battery/thermal channel over time (t_s, channel, value)
    effects_heatmap(tests, ...)           hyperparameter x property, Cliff's delta
    rank_agreement(table, property, variant, ...)  rank under fp32 vs rank under `variant`
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np
import pandas as pd

from edgebench.analyze.objectives import Objective
from edgebench.stats import median_interval

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# Axis labels with units for the variant table's properties (its PROPERTIES constant once merged).
LABELS = {
    "accuracy": "test accuracy (LiteRT on host, fraction)", "val_accuracy": "validation accuracy (fraction)",
    "latency_ms": "median latency (ms)", "latency_p90_ms": "p90 latency (ms)",
    "energy_mj": "energy per inference (mJ)", "size_bytes": "model size (bytes)",
    "gzip_size_bytes": "gzip size (bytes)", "peak_memory_kb": "peak memory (KiB)",
    "training_s": "training time (s)",
}
SOURCE_MARKERS = {"measured": "o", "simulated": "^", "predicted": "s"}
LEVEL_STYLES = {0.1: ":", 0.5: "-", 0.9: "--"}


def label(name: str) -> str:
    return LABELS.get(name, name)


def new_axes(ax: Axes | None, size_in: tuple[float, float] = (7.0, 4.5)) -> Axes:
    if ax is not None:
        return ax
    import matplotlib

    matplotlib.use("Agg")  # no display on CI or over ssh; notebooks pass their own ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=size_in, dpi=100)
    return new


def _objective(spec: str | Objective) -> Objective:
    if isinstance(spec, Objective):
        return spec
    name, sep, direction = spec.rpartition(":")
    if not sep:  # a bare property name takes its natural direction
        return Objective(spec, spec in ("accuracy", "val_accuracy"))
    if direction not in ("min", "max"):
        raise ValueError(f"objective {spec!r}: expected NAME, NAME:min or NAME:max")
    return Objective(name, direction == "max")


def _sources(table: pd.DataFrame, column: str) -> list[str]:
    if column not in table.columns:
        return ["unknown"] * len(table)
    return [str(v) if isinstance(v, str) and v else "unknown" for v in table[column]]


def pareto_scatter(table: pd.DataFrame, x: str | Objective, y: str | Objective, *,
                   surfaces: pd.DataFrame | None = None, id_col: str = "id", label_top: int = 6,
                   ax: Axes | None = None) -> Axes:
    """Rows with both objectives, coloured by `frontier_probability` (else by `on_frontier`), shaped by
    latency provenance; `surfaces` (columns level, <x>, <y>) adds the empirical attainment surfaces as
    staircases and shades the band between the lowest and highest level."""
    ox, oy = _objective(x), _objective(y)
    ax = new_axes(ax)
    rows = table[np.isfinite(pd.to_numeric(table[ox.name], errors="coerce")) &
                 np.isfinite(pd.to_numeric(table[oy.name], errors="coerce"))]
    if surfaces is not None and len(surfaces):
        _attainment(ax, surfaces, ox, oy)
    has_probability = "frontier_probability" in rows.columns and rows["frontier_probability"].notna().any()
    colour = rows["frontier_probability"] if has_probability else rows.get("on_frontier", pd.Series(0, rows.index))
    mappable = None
    for source, marker in [*SOURCE_MARKERS.items(), ("unknown", "D")]:
        part = np.array([s == source for s in _sources(rows, "latency_source")], dtype=bool)
        if not part.any():
            continue
        mappable = ax.scatter(rows[ox.name][part], rows[oy.name][part], c=colour[part].astype(float),
                              cmap="viridis", vmin=0.0, vmax=1.0, marker=marker, s=36, edgecolors="#333",
                              linewidths=0.5, label=f"latency {source}")
    if mappable is not None:
        ax.figure.colorbar(mappable, ax=ax, label="frontier probability" if has_probability
                           else "on the frontier (1 = yes; no samples for a probability)")
    rank = "efficiency_rank" if "efficiency_rank" in rows.columns else "front"
    if rank in rows.columns and id_col in rows.columns:
        for _, row in rows.nsmallest(label_top, rank).iterrows():
            device = row.get("device_model")  # one plot is one device: " on <device>" only repeats it
            text = str(row[id_col]).removesuffix(f" on {device}") if isinstance(device, str) else str(row[id_col])
            ax.annotate(text, (row[ox.name], row[oy.name]), fontsize=7, xytext=(4, 3), textcoords="offset points",
                        alpha=0.85)
    ax.set_xlabel(f"{label(ox.name)} ({'higher' if ox.maximize else 'lower'} is better)")
    ax.set_ylabel(f"{label(oy.name)} ({'higher' if oy.maximize else 'lower'} is better)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return ax


def _attainment(ax: Axes, surfaces: pd.DataFrame, ox: Objective, oy: Objective) -> None:
    """Each level's surface as a staircase (points sorted best-first in x; the attained region lies
    on the worse side), and the band between the extreme levels shaded."""
    missing = [c for c in ("level", ox.name, oy.name) if c not in surfaces.columns]
    if missing:
        raise ValueError(f"attainment surfaces need columns level, {ox.name}, {oy.name}; missing {missing}")
    levels = sorted(float(v) for v in surfaces["level"].unique())
    grid = np.sort(surfaces[ox.name].astype(float).unique())
    if ox.maximize:
        grid = grid[::-1]
    steps = {}
    for level in levels:
        part = surfaces[surfaces["level"] == level].sort_values(ox.name, ascending=not ox.maximize)
        xs, ys = part[ox.name].to_numpy(float), part[oy.name].to_numpy(float)
        ax.step(xs, ys, where="post", color="#c0392b", lw=1.2, ls=LEVEL_STYLES.get(round(level, 2), "-."),
                label=f"{level:.0%} attainment surface")
        steps[level] = _step_values(xs, ys, grid, ox.maximize)
    if len(levels) >= 2:
        ax.fill_between(grid, steps[levels[0]], steps[levels[-1]], step="post", color="#c0392b", alpha=0.12,
                        label=f"{levels[0]:.0%}–{levels[-1]:.0%} band")


def _step_values(xs: np.ndarray, ys: np.ndarray, grid: np.ndarray, x_maximized: bool) -> np.ndarray:
    """The staircase's y at each grid x: the y of the last surface point at or before x (best-first)."""
    order = -xs if x_maximized else xs
    at = -grid if x_maximized else grid
    index = np.searchsorted(order, at, side="right") - 1
    return np.where(index >= 0, ys[np.clip(index, 0, None)], np.nan)


def _flat(cell: Any) -> np.ndarray:
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return np.empty(0)
    parts = [np.ravel(np.asarray(r, dtype=float)) for r in cell] if len(cell) else []
    return np.concatenate(parts) if parts else np.empty(0)


def latency_ecdf(table: pd.DataFrame, *, id_col: str = "id", max_lines: int = 12,
                 ax: Axes | None = None) -> Axes:
    """The empirical CDF of every raw latency sample (all ok repeats pooled) of up to `max_lines` rows
    in table order; simulated/predicted latencies dashed. Rows without samples are left out."""
    ax = new_axes(ax)
    with_samples = [(i, _flat(c)) for i, c in enumerate(table["latency_repeats_ms"])]
    with_samples = [(i, s) for i, s in with_samples if s.size]
    sources = _sources(table, "latency_source")
    for i, samples in with_samples[:max_lines]:
        simulated = sources[i] != "measured"
        ax.ecdf(samples, ls="--" if simulated else "-", lw=1.3,
                label=f"{table[id_col].iloc[i]}" + ("" if not simulated else f" ({sources[i]})"))
    shown = min(len(with_samples), max_lines)
    ax.set_xlabel("latency per inference (ms, every raw sample of the ok repeats)")
    ax.set_ylabel("share of inferences ≤ x")
    ax.set_title(f"{shown} of {len(table)} rows" + (f" ({len(table) - len(with_samples)} without samples)"
                                                   if len(with_samples) < len(table) else ""), fontsize=9)
    ax.grid(alpha=0.3)
    if shown:
        ax.legend(fontsize=7, loc="lower right")
    return ax


def energy_interval(row: pd.Series) -> tuple[float, float, float] | None:
    """(low, high, level) of a row's energy per inference: given columns energy_ci_low_mj/high_mj, else
    the order-statistic interval of the median over its runs (stats.median_interval); None below 2 runs."""
    low, high = row.get("energy_ci_low_mj"), row.get("energy_ci_high_mj")
    if low is not None and high is not None and np.isfinite(low) and np.isfinite(high):
        return float(low), float(high), float(row.get("energy_ci_level", 0.95))
    samples = row.get("energy_samples_mj")
    if samples is None or isinstance(samples, float) or len(samples) < 2:
        return None
    interval = median_interval([float(s) for s in samples])
    return None if interval is None else (interval.low_us, interval.high_us, interval.level)


def energy_intervals(table: pd.DataFrame, *, id_col: str = "id", max_rows: int = 30,
                     ax: Axes | None = None) -> Axes:
    """Energy per inference of the rows that have one (up to `max_rows`, table order) with their
    intervals; hollow markers and dashed bars for simulated or predicted energy."""
    rows = table[pd.to_numeric(table["energy_mj"], errors="coerce").notna()].head(max_rows)
    ax = new_axes(ax, (7.0, max(2.5, 0.32 * len(rows) + 1.2)))
    sources = _sources(rows, "energy_source")
    seen: set[str] = set()
    for position, ((_, row), source) in enumerate(zip(rows.iterrows(), sources)):
        value = float(row["energy_mj"])
        interval = energy_interval(row)
        measured = source == "measured"
        if interval is not None:
            bars = ax.errorbar([value], [position], xerr=[[value - interval[0]], [interval[1] - value]], fmt="none",
                               ecolor="#1f4e79" if measured else "#a05a00", capsize=3)
            if not measured:
                bars[-1][0].set_linestyle("--")
        ax.plot([value], [position], marker=SOURCE_MARKERS.get(source, "D"), ms=7, ls="none",
                color="#1f4e79" if measured else "#a05a00", mfc="#1f4e79" if measured else "white",
                label=f"energy {source}" if source not in seen else None)
        seen.add(source)
    ax.set_yticks(range(len(rows)), [str(v) for v in rows[id_col]], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("energy per inference (mJ); bars: interval of the median over runs, level in the table")
    ax.grid(axis="x", alpha=0.3)
    if len(rows):
        ax.legend(fontsize=8, loc="best")
    return ax


def trace_lines(traces: pd.DataFrame, channel: str, *, group_col: str = "run_id",
                ax: Axes | None = None) -> Axes:
    """One channel (e.g. battery temperature) over time, one line per `group_col` value; the unit is
    the `unit` column's when present."""
    ax = new_axes(ax, (7.0, 3.0))
    part = traces[traces["channel"] == channel]
    groups: Iterable[tuple[Any, pd.DataFrame]] = part.groupby(group_col) if group_col in part.columns \
        else [("", part)]
    for name, group in groups:
        ax.plot(group["t_s"], group["value"], lw=1.0, label=str(name) or None)
    unit = str(part["unit"].iloc[0]) if "unit" in part.columns and len(part) else ""
    ax.set_xlabel("time since run start (s)")
    ax.set_ylabel(f"{channel}" + (f" ({unit})" if unit else ""))
    ax.grid(alpha=0.3)
    if group_col in part.columns and part[group_col].nunique() <= 10:
        ax.legend(fontsize=7, loc="best")
    return ax


def strongest_effects(tests: pd.DataFrame, *, row: str = "hyperparameter", column: str = "property",
                      value: str = "cliffs_delta") -> pd.DataFrame:
    """hyperparameter x property: the Cliff's delta of largest magnitude among the levels."""
    frame = tests[[row, column, value]].dropna()
    pick = frame.loc[frame[value].abs().groupby([frame[row], frame[column]]).idxmax()]
    return pick.pivot(index=row, columns=column, values=value)


def effects_heatmap(tests: pd.DataFrame, *, row: str = "hyperparameter", column: str = "property",
                    value: str = "cliffs_delta", ax: Axes | None = None) -> Axes:
    """Cliff's delta (−1..1) of each hyperparameter on each property: per cell the level whose delta
    against the rest is largest in magnitude; the value is written in the cell."""
    grid = strongest_effects(tests, row=row, column=column, value=value)
    ax = new_axes(ax, (1.6 + 1.1 * grid.shape[1], 1.4 + 0.45 * grid.shape[0]))
    image = ax.imshow(grid.to_numpy(float), cmap="RdBu_r", vmin=-1.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(grid.shape[1]), [label(str(c)) for c in grid.columns], rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(grid.shape[0]), [str(i) for i in grid.index], fontsize=8)
    for (i, j), v in np.ndenumerate(grid.to_numpy(float)):
        if np.isfinite(v):
            ax.text(j, i, f"{v:+.2f}", ha="center", va="center", fontsize=8, color="white" if abs(v) > 0.6 else "black")
    ax.figure.colorbar(image, ax=ax, label="Cliff's δ (level vs rest; strongest level)")
    return ax


def rank_pairs(table: pd.DataFrame, prop: str, variant: str, *, baseline: str = "fp32",
               key: Sequence[str] = ("trained_id", "device_model", "config")) -> pd.DataFrame:
    """Per configuration (trained model on a device and config) with both variants measured: the rank
    of `prop` among configurations under `baseline` and under `variant` (1 = smallest)."""
    keys = [k for k in key if k in table.columns]
    values = pd.to_numeric(table[prop], errors="coerce")
    frame = table.assign(_v=values)[lambda f: f["variant"].isin([baseline, variant]) & f["_v"].notna()]
    wide = frame.pivot_table(index=keys, columns="variant", values="_v", aggfunc="median").dropna()
    if baseline not in wide.columns or variant not in wide.columns:
        return pd.DataFrame(columns=["baseline_rank", "variant_rank"])
    return pd.DataFrame({"baseline_rank": wide[baseline].rank(method="average"),
                         "variant_rank": wide[variant].rank(method="average")})


def rank_agreement(table: pd.DataFrame, prop: str, variant: str, *, baseline: str = "fp32",
                   ax: Axes | None = None) -> Axes:
    """Rank of each configuration by `prop` under `baseline` (x) and under `variant` (y), the diagonal
    of perfect agreement, and Kendall's tau in the title (scipy.stats.kendalltau)."""
    from scipy.stats import kendalltau

    pairs = rank_pairs(table, prop, variant, baseline=baseline)
    ax = new_axes(ax, (3.6, 3.4))
    n = len(pairs)
    ax.plot([1, max(n, 1)], [1, max(n, 1)], color="#999", lw=1, ls="--", label="same rank")
    ax.scatter(pairs["baseline_rank"], pairs["variant_rank"], s=28, color="#1f4e79", zorder=3)
    tau = kendalltau(pairs["baseline_rank"], pairs["variant_rank"]).statistic if n >= 2 else float("nan")
    ax.set_title(f"{prop}: {baseline} vs {variant}\nKendall τ = {tau:.2f} over {n} configurations"
                 if np.isfinite(tau) else f"{prop}: {baseline} vs {variant}\n{n} configuration(s): no τ", fontsize=9)
    ax.set_xlabel(f"rank under {baseline} (1 = lowest {prop})", fontsize=8)
    ax.set_ylabel(f"rank under {variant}", fontsize=8)
    ax.grid(alpha=0.3)
    return ax
