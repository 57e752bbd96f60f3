"""`edgebench pareto --study S | --session S`: the variant table's analysis per device, printed or as JSON.

Split from `pareto_cmd` (which parses arguments and handles a FILE) so each prints one kind of source.
"""
from __future__ import annotations

import argparse
import json
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from edgebench.analyze.variant_records import DeviceAnalysis, VariantPareto


def run_store_source(args: argparse.Namespace, reference: list[float] | None) -> int:
    from edgebench.analyze.variant_pareto import pareto_of_variants
    from edgebench.analyze.variant_table import find_study, session_table, study_table

    if args.study is not None:
        source = {"study": str(find_study(args.study, args.workspace))}
        table = study_table(args.study, workspace=args.workspace)
    else:
        source = {"session": args.session}
        table = session_table(args.session, workspace=args.workspace)
    result = pareto_of_variants(table, args.objectives, reference=reference, draws=args.draws, seed=args.seed,
                                across_devices=args.across_devices)
    if args.json:
        print(json.dumps(to_json(result, source), indent=1))
        return 0
    print_result(result, source)
    return 0


def to_json(result: VariantPareto, source: dict[str, str]) -> dict[str, Any]:
    from edgebench.analyze.across_devices import DEFINITION
    from edgebench.analyze.variant_pareto import SAMPLE_MODELS
    from edgebench.cli.pareto_output import to_json as analysis_json

    analyses = []
    for a in result.analyses:
        body: dict[str, Any] = analysis_json(a.analysis, a.attainment) if a.analysis is not None else {}
        analyses.append({"device": a.device, **body, "skipped": a.skipped,
                         "excluded": [{"id": e.id, "reason": e.reason} for e in a.excluded],
                         "samples": [{"objective": u.objective, "model": u.model, "rows_sampled": u.rows_sampled,
                                      "rows_fixed": u.rows_fixed} for u in a.samples]})
    across = None
    if result.across is not None:
        across = {"definition": DEFINITION, "rows": _records(result.across)}
    return {"source": source, "objectives": [o.spec() for o in result.objectives], "draws": result.draws,
            "seed": result.seed, "sample_models": SAMPLE_MODELS,
            "excluded": [{"id": e.id, "reason": e.reason} for e in result.excluded],
            "analyses": analyses, "across_devices": across}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: NaN and <NA> become null (unknown, never 0)."""
    out = []
    for record in frame.astype(object).to_dict(orient="records"):
        out.append({str(k): (None if v is None or (isinstance(v, float) and math.isnan(v)) or str(v) == "<NA>"
                        else v) for k, v in record.items()})
    return out


def print_result(result: VariantPareto, source: dict[str, str]) -> None:
    from edgebench.cli.console import wide_console

    console = wide_console()
    what = ", ".join(f"{k} {v}" for k, v in source.items())
    console.print(f"source: {what}", highlight=False, markup=False)
    for excluded in result.excluded:
        console.print(f"excluded: {excluded.id}: {excluded.reason}", highlight=False, markup=False)
    for a in result.analyses:
        _print_device(console, a)
    if result.across is not None:
        _print_across(console, result.across)


def _print_device(console: Any, a: DeviceAnalysis) -> None:
    from edgebench.cli.pareto_output import print_analysis, print_attainment

    title = f"device {a.device}" if a.device else ""
    console.print("")
    if a.analysis is None:
        console.print(f"{title or 'analysis'}: not analysed: {a.skipped}", highlight=False, markup=False)
    else:
        print_analysis(console, a.analysis, title)
    sampled = [f"{u.objective} ({u.model}; {u.rows_sampled} row(s)"
               + (f", fixed in {u.rows_fixed} without samples)" if u.rows_fixed else ")")
               for u in a.samples if u.model]
    fixed = [u.objective for u in a.samples if not u.model]
    if sampled:
        console.print(f"sampled: {'; '.join(sampled)}", highlight=False, markup=False)
    if fixed:
        console.print(f"fixed (no samples): {', '.join(fixed)}", highlight=False, markup=False)
    for excluded in a.excluded:
        console.print(f"excluded: {excluded.id}: {excluded.reason}", highlight=False, markup=False)
    if a.attainment is not None:
        print_attainment(console, a.attainment)


def _print_across(console: Any, across: pd.DataFrame) -> None:
    from rich.table import Table

    from edgebench.analyze.across_devices import DEFINITION

    table = Table(title="across devices", title_justify="left")
    for column in across.columns:
        table.add_column(str(column), justify="left" if column in ("variant", "missing_on") else "right",
                         overflow="fold")
    for record in _records(across):
        table.add_row(*("" if v is None else f"{v:.6g}" if isinstance(v, float) else str(v)
                        for v in record.values()))
    console.print("")
    console.print(table)
    console.print(DEFINITION, highlight=False, markup=False)
