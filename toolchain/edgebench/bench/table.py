"""The comparison table printed after push-and-run (rich), one row per target × model × config."""
from __future__ import annotations

from typing import Sequence

from rich.table import Table

from edgebench.records import ConfigSummary
from edgebench.stats import format_level


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


def fmt_median_ci(summary: ConfigSummary) -> str:
    """'1.20 ms – 1.31 ms (75 %)': the interval with the level it truly has (3 repeats cannot give 95 %)."""
    if summary.median_ci_us is None or summary.median_ci_level is None:
        return "—"
    low, high = summary.median_ci_us
    return f"{fmt_us(low)} – {fmt_us(high)} ({format_level(summary.median_ci_level)})"


def comparison_table(summaries: Sequence[ConfigSummary], *, title: str) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    for name, justify in (("model", "left"), ("target", "left"), ("config", "left"), ("ok/runs", "right"),
                          ("median", "right"), ("CI of median (level)", "right"), ("p90", "right"),
                          ("p99", "right"), ("init", "right"), ("peak RSS", "right"), ("size", "right"),
                          ("notes", "left")):
        table.add_column(name, justify=justify, overflow="fold")
    for s in summaries:
        ci = fmt_median_ci(s)
        notes = list(s.notes)
        if s.simulated:
            notes.insert(0, "simulated")
        style = None if s.repeats_ok == s.repeats_total else "yellow" if s.repeats_ok else "red"
        table.add_row(s.model, s.target, s.config.label(), f"{s.repeats_ok}/{s.repeats_total}",
                      fmt_us(s.median_us), ci, fmt_us(s.p90_us), fmt_us(s.p99_us),
                      f"{s.init_ms:.3g} ms" if s.init_ms is not None else "—",
                      fmt_bytes(s.peak_rss_kb * 1024 if s.peak_rss_kb is not None else None),
                      fmt_bytes(s.model_size_bytes), "; ".join(notes), style=style)
    return table
