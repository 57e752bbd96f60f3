"""The analysis report: ONE self-contained HTML file (figures as data: URIs, inline CSS, nothing fetched).

    write_report(inputs: ReportInputs, path) -> Path

Sections, in order (each an element `<section id=...>` that is never empty: a figure, a table or the
reason there is none): headline, pareto, latency, energy, traces, effects, sensitivity, ranks,
variants, lineage. Every table row carries its provenance (measured / simulated / predicted) and
validity flags.
"""
from __future__ import annotations

import base64
import datetime as dt
import html
import io
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd

from edgebench.report import plots
from edgebench.report.inputs import BASELINE_VARIANT, ReportInputs, build_inputs, groups
from edgebench.report.tables import effects_with_provenance, headline_rows, lineage_rows, table_html, variant_rows

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["SECTIONS", "ReportInputs", "build_inputs", "render", "write_report"]

SECTIONS = ("headline", "pareto", "latency", "energy", "traces", "effects", "sensitivity", "ranks", "variants",
            "lineage")
MAX_GROUP_FIGURES = 4  # Pareto / ECDF / rank figures per (device, config) group: enough to read, not 50

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;padding:1.5em;color:#1d1d1f}
h1{font-size:1.6em;margin:.2em 0}h2{border-bottom:2px solid #1f4e79;padding-bottom:.15em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:12.5px}th,td{border:1px solid #d0d0d0;padding:3px 7px;text-align:right;vertical-align:top}
th{background:#eef2f6;position:sticky;top:0}td{white-space:nowrap}td.l{white-space:normal}td.l,th.l{text-align:left}tr.invalid{background:#fff3cd}tr.failed{background:#fde8e8}
tr.front{background:#e8f6e8}.src-simulated,.src-predicted{color:#a05a00;font-weight:600}.src-none{color:#888}
.flag{display:inline-block;border-radius:3px;padding:0 4px;font-size:11px;margin-right:2px}
.ok{background:#dff0d8;color:#2d6a2d}.bad{background:#f8d7da;color:#842029}.warn{background:#fff3cd;color:#7a5b00}
.lead{font-size:1.1em;background:#f4f8fb;border-left:4px solid #1f4e79;padding:.6em 1em}
.missing{color:#6b6b6b;font-style:italic}small,.note{color:#666}figure{margin:.6em 0}img{max-width:100%;height:auto}
code{font-size:11.5px}.scroll{max-height:36em;overflow:auto}
"""


def figure_png(draw: Callable[[Figure], Any], alt: str, *, size_in: tuple[float, float] = (7.0, 4.5),
               laid_out: bool = False) -> str:
    """Draw on a new matplotlib Figure (Agg, no pyplot state) and return an <img> holding the PNG as a
    data: URI, so the page needs no other file and no network. `laid_out`: `draw` already fitted the
    layout (saves the extra rendering pass of bbox_inches="tight")."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size_in, dpi=100)
    draw(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches=None if laid_out else "tight")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"></figure>'


def figure_img(draw: Callable[..., Axes], alt: str, *, size_in: tuple[float, float] = (7.0, 4.5)) -> str:
    """One Axes' figure as an <img> (see figure_png); `draw(ax=...)` is a plot function of report/plots.py,
    its data bound with functools.partial."""
    return figure_png(lambda fig: draw(ax=fig.add_subplot()), alt, size_in=size_in)


def _missing(text: str) -> str:
    return f'<p class="missing">{html.escape(text)}</p>'


def _headline(inputs: ReportInputs) -> str:
    head = inputs.headline
    if head.empty:
        return _missing("No efficient variant to name: " + ("; ".join(inputs.pareto_notes) or "no rows"))
    best = head.iloc[0]
    parts = [f"<b>{html.escape(str(best['id']))}</b> is the most efficient variant on "
             f"{html.escape(str(best.get('device_model', '')))} {html.escape(str(best.get('config', '')))}"]
    costs = []
    if np.isfinite(best["speedup_vs_fp32"]):
        costs.append(f"{best['speedup_vs_fp32']:.2f}× the speed")
    if np.isfinite(best["size_reduction_vs_fp32"]):
        costs.append(f"{best['size_reduction_vs_fp32']:.2f}× smaller")
    if np.isfinite(best["accuracy_change_pp"]):
        costs.append(f"{best['accuracy_change_pp']:+.2f} pp accuracy")
    parts.append(f": {', '.join(costs)} vs its {BASELINE_VARIANT} baseline" if costs
                 else f" (no {BASELINE_VARIANT} baseline measured to compare against)")
    if pd.notna(best.get("frontier_probability")):
        parts.append(f"; on the frontier in {best['frontier_probability']:.0%} of draws")
    if best.get("verdict_allowed") is False or best.get("verdict_allowed") == False:  # noqa: E712 (numpy bools)
        parts.append(f" — {html.escape(str(best.get('protocol') or 'shortened'))} protocol: indicative, not a verdict")
    if best.get("valid") is not None and not pd.isna(best.get("valid")) and not bool(best.get("valid")):
        parts.append(" — measured with invalid runs (see Variants)")
    lead = f'<p class="lead">{"".join(parts)}.</p>'
    return lead + table_html(*headline_rows(head), text_columns=3) + \
        "<p class=note>Speed-up and size reduction are fp32 value / variant value for the same trained model," \
        " device and run config; accuracy change is variant − fp32 in percentage points.</p>"


def _pareto(inputs: ReportInputs) -> str:
    x, y = inputs.objectives[0], inputs.objectives[1]
    table = inputs.table
    if table["on_frontier"].isna().all():
        return _missing("No Pareto analysis: " + "; ".join(inputs.pareto_notes))
    out = []
    for label, group in groups(table)[:MAX_GROUP_FIGURES]:
        if group["on_frontier"].isna().all():
            continue
        surfaces = inputs.surfaces
        if surfaces is not None and "group" in surfaces.columns:
            surfaces = surfaces[surfaces["group"] == label]
        out.append(f"<h3>{html.escape(label)}</h3>")
        out.append(figure_img(partial(plots.pareto_scatter, group, x, y, surfaces=surfaces),
                              f"Pareto plot {x.name} vs {y.name}, {label}"))
    bands = ("Red staircases: the 10/50/90 % empirical attainment surfaces (shaded between the extremes)."
             if inputs.surfaces is not None and len(inputs.surfaces)
             else "Attainment bands: not computed (no attainment surfaces were given to the report).")
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in inputs.pareto_notes)
    return "".join(out) + f"<p class=note>Colour: frontier probability (share of Monte-Carlo draws in which the" \
        f" variant is non-dominated); marker shape: latency provenance. {bands}</p><ul class=note>{notes}</ul>"


def _latency(inputs: ReportInputs) -> str:
    table = inputs.table
    if "latency_repeats_ms" not in table.columns or not any(len(c) for c in table["latency_repeats_ms"]
                                                           if isinstance(c, (list, tuple, np.ndarray))):
        return _missing("No raw latency samples in the table (no ok repeat stored its samples).")
    out = []
    for label, group in groups(table)[:MAX_GROUP_FIGURES]:
        ordered = group.sort_values("efficiency_rank") if group["efficiency_rank"].notna().any() else group
        out.append(f"<h3>{html.escape(label)}</h3>")
        out.append(figure_img(partial(plots.latency_ecdf, ordered), f"latency ECDF, {label}"))
    return "".join(out) + "<p class=note>Most efficient rows first (up to 12 per group); dashed = simulated or" \
        " predicted latency.</p>"


def _energy(inputs: ReportInputs) -> str:
    table = inputs.table
    has = pd.to_numeric(table.get("energy_mj", pd.Series(dtype=float)), errors="coerce").notna()
    if not has.any():
        return _missing("Not recorded: no row has an energy per inference (energy needs a battery protocol run"
                        " on a phone, or the virtual device's simulated gauge).")
    rows = table[has]
    return figure_img(partial(plots.energy_intervals, rows), "energy per inference with intervals",
                      size_in=(7.0, max(2.5, 0.32 * min(len(rows), 30) + 1.2))) + \
        f"<p class=note>{int(has.sum())} of {len(table)} rows have energy; filled = measured on a fuel gauge," \
        " hollow/dashed = simulated or predicted. Interval: the order-statistic interval of the median over runs" \
        " (level in the Variants table), none below 2 runs.</p>"


def _traces(inputs: ReportInputs) -> str:
    traces = inputs.traces
    if traces is None or traces.empty:
        return _missing(inputs.traces_note)
    return "".join(figure_img(partial(plots.trace_lines, traces, str(channel)), f"trace {channel}",
                              size_in=(7.0, 3.0)) for channel in list(dict.fromkeys(traces["channel"]))[:6])


def _analysis_tables(frames: dict[str, pd.DataFrame], inputs: ReportInputs, what: str, note: str) -> str:
    if not frames:
        return _missing(f"Not computed: {note}" if note else
                        f"Not computed: no {what} analysis was given to the report (it needs a study with several"
                        f" configurations per hyperparameter; see `edgebench {what} --study S`).")
    out = []
    tests = frames.get("tests")
    if what == "effects" and tests is not None and {"hyperparameter", "property", "cliffs_delta"} <= set(tests.columns) \
            and tests["cliffs_delta"].notna().any():
        shape = plots.strongest_effects(tests).shape
        out.append(figure_img(partial(plots.effects_heatmap, tests), "effects heat map (Cliff's delta)",
                              size_in=(1.6 + 1.1 * shape[1], 1.4 + 0.45 * shape[0])))
    for name, frame in frames.items():
        out.append(f"<h3>{html.escape(name.replace('_', ' '))}</h3>")
        if frame.empty:
            out.append(_missing(f"{name}: empty"))
            continue
        shown, note = readable_rows(frame)
        if shown.empty:
            out.append(_missing(note))
            continue
        leading_text = next((i for i, c in enumerate(shown.columns) if pd.api.types.is_numeric_dtype(shown[c])),
                            len(shown.columns))
        out.append(table_html(*effects_with_provenance(shown, inputs.table), text_columns=leading_text))
        if note:
            out.append(f"<p class=note>{html.escape(note)}</p>")
    return "".join(out)


# Columns whose magnitude orders an analysis table's rows (strongest first) when the table is cut.
STRENGTH_COLUMNS = ("cliffs_delta", "spearman_rho", "max_over_min", "wasserstein", "jensen_shannon", "rank_move")
MAX_TABLE_ROWS = 40


def readable_rows(frame: pd.DataFrame, limit: int = MAX_TABLE_ROWS) -> tuple[pd.DataFrame, str]:
    """The rows a reader needs: the evaluated ones, strongest first, at most `limit`; rows that could not
    be evaluated (status not_checked) are counted by reason in the note instead of listed one by one."""
    notes = []
    if "status" in frame.columns:
        unchecked = frame[frame["status"] == "not_checked"]
        frame = frame[frame["status"] != "not_checked"]
        if len(unchecked):
            reasons = unchecked["reason"].fillna("no reason").value_counts() if "reason" in unchecked.columns \
                else pd.Series({"no reason": len(unchecked)})
            notes.append(f"{len(unchecked)} row(s) not checked: " + "; ".join(
                f"{count}× {reason}" for reason, count in reasons.head(5).items()))
    # One device, one config, every row checked: those columns say nothing row by row (the page header has them).
    frame = frame.drop(columns=[c for c in ("device_id", "config", "status") if c in frame.columns
                                and frame[c].nunique(dropna=False) <= 1])
    strength = next((c for c in STRENGTH_COLUMNS if c in frame.columns), None)
    if strength is not None and len(frame) > limit:
        frame = frame.reindex(frame[strength].abs().sort_values(ascending=False, na_position="last").index)
    if len(frame) > limit:
        notes.insert(0, f"the {limit} strongest of {len(frame)} rows" + (f" by |{strength}|" if strength else "")
                     + "; every row is in the command's --json")
        frame = frame.head(limit)
    return frame, ". ".join(notes)


def _ranks(inputs: ReportInputs) -> str:
    table = inputs.table
    others = [v for v in dict.fromkeys(table["variant"]) if v != BASELINE_VARIANT][:6]
    props = [p for p in ("latency_ms", "accuracy", "energy_mj") if p in table.columns]
    out = []
    for label, group in groups(table)[:MAX_GROUP_FIGURES]:
        cells = [(p, v) for p in props for v in others if len(plots.rank_pairs(group, p, v)) >= 2]
        if not cells:
            continue
        columns = min(len(cells), 4)
        rows = -(-len(cells) // columns)

        def draw(fig: Figure, cells: list[tuple[str, str]] = cells, group: pd.DataFrame = group,
                 columns: int = columns, rows: int = rows) -> None:
            for i, (prop, variant) in enumerate(cells):
                plots.rank_agreement(group, prop, variant, ax=fig.add_subplot(rows, columns, i + 1))
            fig.tight_layout()

        out.append(f"<h3>{html.escape(label)}</h3>")
        out.append(figure_png(draw, f"rank agreement fp32 vs each variant, {label}", size_in=(3.4 * columns, 3.2 * rows),
                              laid_out=True))
    if not out:
        return _missing(f"No rank agreement: it needs at least 2 trained models measured both as {BASELINE_VARIANT}"
                        " and as another variant on the same device and config.")
    return "".join(out) + "<p class=note>One point per trained model; on the dashed diagonal the variant keeps" \
        " the fp32 ranking. Kendall τ: 1 = same order, 0 = unrelated, −1 = reversed.</p>"


def render(inputs: ReportInputs) -> str:
    bodies = {"headline": _headline(inputs), "pareto": _pareto(inputs), "latency": _latency(inputs),
              "energy": _energy(inputs), "traces": _traces(inputs),
              "effects": _analysis_tables(dict(inputs.effects), inputs, "effects", inputs.effects_note),
              "sensitivity": _analysis_tables(dict(inputs.sensitivity), inputs, "sensitivity",
                                              inputs.sensitivity_note),
              "ranks": _ranks(inputs), "variants": table_html(*variant_rows(inputs.table), scroll=True, text_columns=3),
              "lineage": table_html(*lineage_rows(inputs.table), scroll=True, text_columns=8)}
    titles = {"headline": "Headline", "pareto": "Pareto fronts and frontier probability",
              "latency": "Latency distributions", "energy": "Energy per inference",
              "traces": "Battery and thermal traces", "effects": "Hyperparameter effects",
              "sensitivity": "Sensitivity under pruning", "ranks": "Rank agreement: fp32 vs each variant",
              "variants": "Variants (provenance and validity)", "lineage": "Lineage"}
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    facts = " · ".join(f"{html.escape(k)}: {html.escape(v)}" for k, v in inputs.meta.items())
    nav = " · ".join(f'<a href="#{s}">{titles[s]}</a>' for s in SECTIONS)
    sections = "".join(f'<section id="{s}"><h2>{titles[s]}</h2>{bodies[s]}</section>' for s in SECTIONS)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{html.escape(inputs.title)}</title>
<style>{_STYLE}</style></head><body>
<h1>{html.escape(inputs.title)}</h1><p><small>{facts}{' · ' if facts else ''}{len(inputs.table)} rows ·
objectives {html.escape(', '.join(o.spec() for o in inputs.objectives))} · written {when} by edgebench</small></p>
<nav><small>{nav}</small></nav>{sections}
</body></html>
"""


def write_report(inputs: ReportInputs, path: str | Path) -> Path:
    """Write the report to `path` (folders created) and return it."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(inputs), encoding="utf-8")
    return out

