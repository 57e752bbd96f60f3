"""`edgebench report (--study S | --session S | --table FILE) [-o FILE.html]`: one self-contained HTML
report of a study or session (headline, Pareto fronts with frontier probability, latency distributions,
energy, traces, effects, sensitivity, rank agreement, provenance and lineage) and its key tables in the
terminal. Never imports TensorFlow; pandas and matplotlib load inside `run`."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

HELP = "One self-contained HTML report of a study or session (Pareto, latency, energy, effects, lineage)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--study", metavar="S", help="a study folder, its study.json, or a study name under"
                        " <workspace>/studies/")
    source.add_argument("--session", metavar="S", help="a results-store session: every model x device x config")
    source.add_argument("--table", metavar="FILE", help="a variant table as .csv or .parquet (list columns such as"
                        " latency_repeats_ms as JSON lists)")
    parser.add_argument("-o", "--output", metavar="FILE.html", default=None,
                        help="where to write (default: <workspace>/reports/<study, session or table name>.html)")
    parser.add_argument("--objectives", default="latency_ms:min,accuracy:max", metavar="NAME:min|max,...",
                        help="the Pareto plot's two objectives (first two are drawn; default latency_ms:min,accuracy:max)")
    parser.add_argument("--draws", type=int, default=1000, metavar="B", help="Monte-Carlo draws of the frontier"
                        " probability (default 1000)")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the draws (default 0)")
    parser.add_argument("--quiet", action="store_true", help="print only the report's path, not the tables")


def run(args: argparse.Namespace) -> int:
    from edgebench.errors import UsageError
    from edgebench.report.analysis_html import build_inputs, write_report
    from edgebench.report.inputs import hyperparameter_analyses
    from edgebench.cli.table_files import read_variant_table
    from edgebench.report.study_html import stored_report_inputs
    from edgebench.workspace import Workspace

    if args.draws < 1:
        raise UsageError(f"--draws {args.draws}: expected at least 1 Monte-Carlo draw")
    if args.table is not None:
        table, name = read_variant_table(Path(args.table)), Path(args.table).stem
        if table.empty:
            raise UsageError(f"{args.table}: the variant table has no rows; nothing to report")
        effects, effects_note, sensitivity, sensitivity_note = hyperparameter_analyses(table, seed=args.seed)
        inputs = build_inputs(table, title=f"edgebench report: {name}", objectives=args.objectives, effects=effects,
                              sensitivity=sensitivity, effects_note=effects_note, sensitivity_note=sensitivity_note,
                              traces_note="not recorded: a table file holds no battery or thermal samples (report"
                                          " --session or --study)", meta={"table": args.table}, draws=args.draws,
                              seed=args.seed)
    else:
        from edgebench.analyze.variant_table import find_study, session_table, study_table, study_workspace

        if args.study is not None:
            workspace: Path | str | None = study_workspace(args.study, args.workspace)
            table, name, meta = study_table(args.study, workspace=args.workspace), find_study(args.study, args.workspace).parent.name, \
                {"study": args.study}
        else:
            workspace = args.workspace
            table, name, meta = session_table(args.session, workspace=args.workspace), args.session, \
                {"session": args.session}
        if table.empty:
            raise UsageError(f"{next(iter(meta.values()))}: the variant table has no rows; nothing to report")
        inputs = stored_report_inputs(table, title=f"edgebench report: {name}", meta=meta, workspace=workspace,
                                      objectives=args.objectives, draws=args.draws, seed=args.seed)
    output = Path(args.output) if args.output else Workspace.resolve(args.workspace).root / "reports" / f"{name}.html"
    path = write_report(inputs, output)
    if not args.quiet:
        from edgebench.cli.console import wide_console
        from edgebench.report.terminal import print_tables

        print_tables(inputs, wide_console())
    print(path)
    return 0
