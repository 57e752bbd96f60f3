"""The comparison table printed after push-and-run (rich), one row per target × model × config."""
from __future__ import annotations

from typing import Sequence

from rich.console import JustifyMethod
from rich.table import Table

from edgebench.records import ConfigSummary, InputShape
from edgebench.stats import format_level

_SOURCE_WORDS = {"given": "given", "default": "file's placeholder", "batch": "dynamic batch run at 1"}


def fmt_us(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 1e6:
        return f"{value / 1e6:.3g} s"
    if value >= 1e3:
        return f"{value / 1e3:.3g} ms"
    return f"{value:.3g} µs"


def fmt_bytes(value: int | None) -> str:
    if value is None:
        return "—"
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if value >= size:
            return f"{value / size:.3g} {unit}"
    return f"{value} B"


def fmt_input_shapes(shapes: Sequence[InputShape]) -> str:
    """The shapes of inputs that were set, defaulted or dynamic, e.g. "image=1x64x64x3 (given)"; "" when
    every input ran at its static shape."""
    parts: dict[str, list[str]] = {}
    for s in shapes:
        if s.source != "model" or s.dynamic:
            parts.setdefault(_SOURCE_WORDS.get(s.source, s.source), []).append(s.label())
    return "; ".join(f"{', '.join(labels)} ({why})" for why, labels in parts.items())


def fmt_median_ci(summary: ConfigSummary) -> str:
    """'1.20 ms – 1.31 ms (75 %)': the interval with the level it truly has (3 repeats cannot give 95 %)."""
    if summary.median_ci_us is None or summary.median_ci_level is None:
        return "—"
    low, high = summary.median_ci_us
    return f"{fmt_us(low)} – {fmt_us(high)} ({format_level(summary.median_ci_level)})"


def comparison_table(summaries: Sequence[ConfigSummary], *, title: str) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    # The input shapes column appears when a shape was set or defaulted: one model at two shapes is two rows.
    with_shapes = any(fmt_input_shapes(s.input_shapes) for s in summaries)
    columns: list[tuple[str, JustifyMethod]] = [("model", "left"), ("target", "left"), ("config", "left")]
    columns += [("input shapes", "left")] if with_shapes else []
    with_agreement = any(s.output_agreement for s in summaries)  # absent from records made before the check
    columns += [("ok/runs", "right"), ("median", "right"), ("CI of median (level)", "right"), ("p90", "right"),
                ("p99", "right"), ("init", "right"), ("peak RSS", "right"), ("size", "right")]
    columns += [("outputs", "left")] if with_agreement else []
    columns += [("notes", "left")]
    for name, justify in columns:
        table.add_column(name, justify=justify, overflow="fold")
    for s in summaries:
        ci = fmt_median_ci(s)
        notes = list(s.notes)
        if s.simulated:
            notes.insert(0, "simulated")
        style = None if s.repeats_ok == s.repeats_total else "yellow" if s.repeats_ok else "red"
        # "—": no run reached the runner's setup (e.g. refused), so no shape is known.
        shown = fmt_input_shapes(s.input_shapes) or ("as declared" if s.input_shapes else "—")
        shapes = [shown] if with_shapes else []
        table.add_row(s.model, s.target, s.config.label(), *shapes, f"{s.repeats_ok}/{s.repeats_total}",
                      fmt_us(s.median_us), ci, fmt_us(s.p90_us), fmt_us(s.p99_us),
                      f"{s.init_ms:.3g} ms" if s.init_ms is not None else "—",
                      fmt_bytes(s.peak_rss_kb * 1024 if s.peak_rss_kb is not None else None),
                      fmt_bytes(s.model_size_bytes), *([s.output_agreement or "—"] if with_agreement else []),
                      "; ".join(notes), style=style)
    return table
