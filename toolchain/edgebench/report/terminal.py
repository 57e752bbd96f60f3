"""The report's key tables in the terminal (rich): the headline, the most efficient rows per group and
the strongest effects. The HTML has everything; this is what to read without opening it."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from edgebench.report.inputs import ReportInputs, group_keys

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

TOP_ROWS = 10


def _cell(value: Any, spec: str = ".4g", suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return format(float(value), spec) + suffix
    return str(value)


def _validity(row: pd.Series) -> str:
    flags = [] if row.get("valid") is None or pd.isna(row.get("valid")) else ["valid" if row["valid"] else "INVALID"]
    if row.get("verdict_allowed") is not None and not pd.isna(row.get("verdict_allowed")) and not row["verdict_allowed"]:
        flags.append("no verdict (smoke)")
    return ", ".join(flags) or "—"


def headline_table(inputs: ReportInputs) -> Table:
    from rich.table import Table

    out = Table(title=f"{inputs.title}: efficient variants vs their fp32 baseline", title_justify="left")
    for name in ("variant", "device", "config", "P(frontier)", "latency", "speed-up", "size ÷", "Δ accuracy",
                 "latency data", "validity"):
        out.add_column(name, justify="left" if name in ("variant", "device", "config", "latency data", "validity")
                       else "right", overflow="fold")
    for _, r in inputs.headline.iterrows():
        out.add_row(str(r["id"]), _cell(r.get("device_model")), _cell(r.get("config")),
                    _cell(r.get("frontier_probability"), ".0%"), _cell(r.get("latency_ms"), ".3g", " ms"),
                    _cell(r["speedup_vs_fp32"], ".2f", "×"), _cell(r["size_reduction_vs_fp32"], ".2f", "×"),
                    _cell(r["accuracy_change_pp"], "+.2f", " pp"), _cell(r.get("latency_source")), _validity(r))
    return out


def efficient_rows_table(inputs: ReportInputs) -> Table:
    from rich.table import Table

    table = inputs.table[inputs.table["front"].notna()]
    order = ["efficiency_rank", "front"] if table["efficiency_rank"].notna().any() else ["front"]
    keys = group_keys(table)
    best = (table.sort_values(order).groupby(keys, sort=True, dropna=False).head(TOP_ROWS) if keys
            else table.sort_values(order).head(TOP_ROWS))
    names = [o.name for o in inputs.objectives]
    out = Table(title=f"most efficient rows per device and config (top {TOP_ROWS})", title_justify="left")
    for name in ("id", *names, "front", "P(frontier)", "latency data", "energy data", "validity"):
        out.add_column(name, justify="left" if name in ("id", "latency data", "energy data", "validity") else "right",
                       overflow="fold")
    for _, r in best.iterrows():
        out.add_row(str(r["id"]), *(_cell(r.get(n)) for n in names), _cell(r.get("front"), ".0f"),
                    _cell(r.get("frontier_probability"), ".0%"), _cell(r.get("latency_source")),
                    _cell(r.get("energy_source")), _validity(r))
    return out


def strongest_effects_table(tests: pd.DataFrame) -> Table | None:
    from rich.table import Table

    if not {"hyperparameter", "property", "cliffs_delta"} <= set(tests.columns):
        return None
    top = tests.reindex(tests["cliffs_delta"].abs().sort_values(ascending=False).index).head(TOP_ROWS)
    out = Table(title="strongest hyperparameter effects (Cliff's δ, level vs rest)", title_justify="left")
    for column in top.columns:
        out.add_column(str(column), justify="right" if pd.api.types.is_numeric_dtype(top[column]) else "left")
    for _, r in top.iterrows():
        out.add_row(*(_cell(v, ".3g") for v in r.tolist()))
    return out


def print_tables(inputs: ReportInputs, console: Console | None = None) -> None:
    from rich.console import Console

    console = console or Console()
    console.print(headline_table(inputs))
    if inputs.table["front"].notna().any():
        console.print(efficient_rows_table(inputs))
    for note in inputs.pareto_notes:
        console.print(note, highlight=False, markup=False)
    tests = inputs.effects.get("tests")
    effects = strongest_effects_table(tests) if tests is not None and not tests.empty else None
    if effects is not None:
        console.print(effects)
