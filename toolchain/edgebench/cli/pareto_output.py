"""What `edgebench pareto` prints: one analysis as JSON or as a rich table, its hypervolume and reference,
and a count of its attainment surfaces' points (shared by the file and the store sources)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from rich.table import Table

    from edgebench.analyze.fronts import ParetoAnalysis

RICH_TABLE_MAX_ROWS = 500


def to_json(analysis: ParetoAnalysis, attainment: pd.DataFrame | None = None) -> dict[str, Any]:
    # to_dict gives Python scalars; every value is finite (objectives are checked, the rest computed)
    rows = analysis.rows.to_dict(orient="records")
    return {"objectives": [o.spec() for o in analysis.objectives], "hypervolume": analysis.hypervolume,
            "reference": list(analysis.reference),
            "reference_source": "given" if analysis.reference_given else "default: worst value + 10% of range",
            "draws": analysis.draws, "seed": analysis.seed, "rows": rows,
            "attainment": None if attainment is None else attainment.to_dict(orient="records")}


def print_analysis(console: Any, analysis: ParetoAnalysis, title: str = "") -> None:
    """The rows (a rich table up to 500, plain columns beyond), the hypervolume and its reference."""
    if len(analysis.rows) <= RICH_TABLE_MAX_ROWS:
        console.print(_rich_table(analysis, title))
    else:  # rich lays out every cell (~1 s per 1,000 rows); plain columns print 10,000 rows in a blink
        print(_title(analysis, title))
        print(analysis.rows.to_string(index=False, float_format=lambda v: f"{v:.6g}"))
    source = "given" if analysis.reference_given else "default: each objective's worst value + 10% of its range"
    reference = ", ".join(f"{o.name}={v:.6g}" for o, v in zip(analysis.objectives, analysis.reference))
    console.print(f"hypervolume {analysis.hypervolume:.6g} against reference ({reference}) [{source}]",
                  highlight=False, markup=False)
    if analysis.draws is not None:
        console.print(f"frontier probability over {analysis.draws} draws, seed {analysis.seed}", highlight=False)


def print_attainment(console: Any, surfaces: pd.DataFrame) -> None:
    counts = ", ".join(f"{level:.0%}: {n} point(s)" for level, n in surfaces.groupby("level").size().items())
    console.print(f"attainment surfaces ({counts}); --json gives their points", highlight=False, markup=False)


def _title(analysis: ParetoAnalysis, title: str = "") -> str:
    prefix = f"{title}: " if title else ""
    return f"{prefix}pareto: {', '.join(o.spec() for o in analysis.objectives)} ({len(analysis.rows)} rows)"


def _rich_table(analysis: ParetoAnalysis, title: str = "") -> Table:
    from rich.table import Table

    out = Table(title=_title(analysis, title), title_justify="left")
    for column in analysis.rows.columns:
        out.add_column(str(column), justify="left" if column == "id" else "right", overflow="fold")
    for record in analysis.rows.itertuples(index=False):
        out.add_row(*(_cell(v) for v in record))
    return out


def _cell(value: Any) -> str:
    if isinstance(value, (bool,)) or type(value).__name__ == "bool_":
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
