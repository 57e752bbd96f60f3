"""HTML tables of the analysis report. Every row carries provenance (measured / simulated / predicted)
and validity flags; numbers that are unknown print as "—", never as 0."""
from __future__ import annotations

import html
import math
from typing import Any, Sequence

import numpy as np
import pandas as pd

from edgebench.report.plots import energy_interval
from edgebench.stats import format_level

Row = tuple[str, list[str]]  # (css class, cells as HTML)


def fmt(value: Any, spec: str = ".4g", unit: str = "") -> str:
    """A number formatted, or "—" when unknown; other values as escaped text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return format(float(value), spec) + (f" {unit}" if unit else "")
    return html.escape(str(value))


def source_cell(source: Any) -> str:
    text = str(source) if isinstance(source, str) and source else "unknown"
    return f'<span class="src-{html.escape(text)}">{html.escape(text)}</span>'


def flags_cell(row: pd.Series) -> str:
    """Validity flags: run status, all runs valid, repeats ok/total, verdicts allowed (not smoke)."""
    flags = []
    status = row.get("status")
    if isinstance(status, str):
        flags.append(("ok" if status == "measured" else "bad", status))
    valid = row.get("valid")
    if valid is not None and not (isinstance(valid, float) and math.isnan(valid)):
        flags.append(("ok", "valid") if bool(valid) else ("bad", "invalid run(s)"))
    ok, total = row.get("repeats_ok"), row.get("repeats_total")
    if ok is not None and total is not None and not pd.isna(ok) and not pd.isna(total):
        flags.append(("ok" if ok == total else "warn", f"{int(ok)}/{int(total)} repeats"))
    allowed = row.get("verdict_allowed")
    if allowed is not None and not pd.isna(allowed) and not bool(allowed):
        flags.append(("warn", f"{row.get('protocol', 'shortened')}: no verdicts"))
    return "".join(f'<span class="flag {c}">{html.escape(t)}</span>' for c, t in flags) or "—"


def row_class(row: pd.Series) -> str:
    if isinstance(row.get("status"), str) and row["status"] in ("run_failed", "build_failed"):
        return "failed"
    valid = row.get("valid")
    if (valid is not None and not pd.isna(valid) and not bool(valid)) or row.get("status") == "invalid":
        return "invalid"
    frontier = row.get("on_frontier")
    return "front" if frontier is not None and not pd.isna(frontier) and bool(frontier) else ""


def table_html(headers: Sequence[str], rows: Sequence[Row], *, scroll: bool = False, text_columns: int = 1) -> str:
    """A table whose first `text_columns` columns (names, ids) are left-aligned and the rest right-aligned."""
    def cls(i: int) -> str:
        return ' class="l"' if i < text_columns else ""

    head = "".join(f"<th{cls(i)}>{html.escape(h)}</th>" for i, h in enumerate(headers))
    body = "".join(f"<tr class=\"{c}\">" + "".join(f"<td{cls(i)}>{cell}</td>" for i, cell in enumerate(cells))
                   + "</tr>" for c, cells in rows)
    text = f"<table><tr>{head}</tr>{body}</table>"
    return f'<div class="scroll">{text}</div>' if scroll else text


def headline_rows(head: pd.DataFrame) -> tuple[list[str], list[Row]]:
    headers = ["variant (id)", "device", "config", "frontier probability", "median latency", "speed-up vs fp32",
               "size reduction vs fp32", "accuracy change", "latency data", "validity"]
    rows = [("front", [fmt(r["id"]), fmt(r.get("device_model")), fmt(r.get("config")),
                       fmt(r.get("frontier_probability"), ".0%"), fmt(r.get("latency_ms"), ".3g", "ms"),
                       fmt(r["speedup_vs_fp32"], ".2f") + ("×" if pd.notna(r["speedup_vs_fp32"]) else ""),
                       fmt(r["size_reduction_vs_fp32"], ".2f") + ("×" if pd.notna(r["size_reduction_vs_fp32"]) else ""),
                       fmt(r["accuracy_change_pp"], "+.2f", "pp"), source_cell(r.get("latency_source")),
                       flags_cell(r)]) for _, r in head.iterrows()]
    return headers, rows


def fmt_bytes(value: Any) -> str:
    if value is None or pd.isna(value):
        return "—"
    n = float(value)
    return f"{n / 1024:.1f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.2f} MiB"


def _energy_text(row: pd.Series) -> str:
    value = row.get("energy_mj")
    if value is None or pd.isna(value):
        return "— (not measured)"
    interval = energy_interval(row)
    if interval is None:
        return fmt(value, ".4g", "mJ") + " <small>(no interval: &lt; 2 runs)</small>"
    return fmt(value, ".4g", "mJ") + f" <small>[{interval[0]:.4g}, {interval[1]:.4g}] {format_level(interval[2])}</small>"


def variant_rows(table: pd.DataFrame) -> tuple[list[str], list[Row]]:
    headers = ["id", "device", "config", "test accuracy", "median latency", "p90 latency", "energy / inference",
               "size", "front", "frontier probability", "latency data", "energy data", "validity"]
    rows = [(row_class(r), [fmt(r.get("id")), fmt(r.get("device_model")), fmt(r.get("config")),
                            fmt(r.get("accuracy"), ".4f"), fmt(r.get("latency_ms"), ".4g", "ms"),
                            fmt(r.get("latency_p90_ms"), ".4g", "ms"), _energy_text(r),
                            fmt_bytes(r.get("size_bytes")), fmt(r.get("front"), ".0f"),
                            fmt(r.get("frontier_probability"), ".0%"), source_cell(r.get("latency_source")),
                            source_cell(r.get("energy_source")), flags_cell(r)]) for _, r in table.iterrows()]
    return headers, rows


def _hyperparameters(row: pd.Series) -> str:
    items = [(k.removeprefix("hp."), v) for k, v in row.items() if isinstance(k, str) and k.startswith("hp.")]
    return ", ".join(f"{html.escape(k)}={fmt(v)}" for k, v in items if not (isinstance(v, float) and math.isnan(v))) or "—"


def _short(value: Any, n: int = 16) -> str:
    return f"<code>{html.escape(str(value)[:n])}</code>" if isinstance(value, str) and value else "—"


def lineage_rows(table: pd.DataFrame) -> tuple[list[str], list[Row]]:
    headers = ["id", "source", "trained id", "hyperparameters", "transform", "quantization", ".tflite sha256",
               "runs", "validity"]
    rows = []
    for _, r in table.iterrows():
        runs = r.get("run_ids")
        run_text = ", ".join(f"<code>{html.escape(str(i))}</code>" for i in runs) \
            if isinstance(runs, (list, tuple, np.ndarray)) and len(runs) else "no runs"
        rows.append((row_class(r), [fmt(r.get("id")), fmt(r.get("source")), _short(r.get("trained_id")),
                                    _hyperparameters(r), fmt(r.get("transform")) or "none",
                                    fmt(r.get("quantization")), _short(r.get("tflite_sha256")), run_text,
                                    flags_cell(r)]))
    return headers, rows


def property_provenance(table: pd.DataFrame, prop: Any) -> str:
    """Where the numbers of `prop` come from across the table's rows (e.g. "measured, simulated")."""
    name = str(prop)
    column = "latency_source" if name.startswith("latency") else "energy_source" if name.startswith("energy") else None
    if column is None:
        return "measured (host)" if name in ("accuracy", "val_accuracy", "training_s") else \
            "measured (file)" if "size" in name else "measured"
    if column not in table.columns:
        return "unknown"
    return ", ".join(sorted({str(s) for s in table[column] if isinstance(s, str) and s and s != "none"})) or "none"


def validity_summary(table: pd.DataFrame) -> str:
    flags = []
    if "valid" in table.columns:
        invalid = int((table["valid"] == False).sum())  # noqa: E712
        flags.append(("bad", f"{invalid} of {len(table)} rows invalid") if invalid else ("ok", f"all {len(table)} rows valid"))
    if "verdict_allowed" in table.columns and (table["verdict_allowed"] == False).any():  # noqa: E712
        flags.append(("warn", "includes smoke/shortened runs"))
    return "".join(f'<span class="flag {c}">{html.escape(t)}</span>' for c, t in flags) or "—"


def effects_with_provenance(frame: pd.DataFrame, table: pd.DataFrame) -> tuple[list[str], list[Row]]:
    """An analysis table as given, plus per row the provenance of its property and the validity of the
    variant table it was computed from."""
    headers = [str(c) for c in frame.columns] + ["provenance", "validity"]
    validity = validity_summary(table)
    rows = []
    for _, r in frame.iterrows():
        prop = r.get("property", "latency_ms")
        cells = [fmt(v, ".3g") if isinstance(v, (float, np.floating)) else fmt(v) for v in r.tolist()]
        rows.append(("", [*cells, source_cell(property_provenance(table, prop)), validity]))
    return headers, rows
