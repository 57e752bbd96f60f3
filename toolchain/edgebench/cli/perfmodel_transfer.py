"""`edgebench perfmodel transfer` (each transfer method beside training from scratch, per budget) and
`edgebench perfmodel suggest` (which configurations to measure next, as a plan and push-and-run lines)."""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from edgebench.cli.perfmodel_fit import option_names
from edgebench.errors import UsageError
from edgebench.perfmodel.learners import DEFAULT_LEARNER, LEARNERS

if TYPE_CHECKING:
    from rich.console import Console

    from edgebench.perfmodel.suggest import SuggestPlan
    from edgebench.perfmodel.table import PerfTable
    from edgebench.perfmodel.transfer import TransferRecord

ALL_METHODS = "scratch,dm,lms,ratio,nlms,gs"
MAX_PLAN_COLUMNS = 6  # option columns shown in suggest's table


def _add_table_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--options", default=None, metavar="COLS", type=option_names,
                        help="comma-separated option columns (needed for table files; a store selector's "
                             "default is its model features and run options)")
    parser.add_argument("--measure", default=None, metavar="COL",
                        help="the measured column (needed for table files; store default latency_median_ms)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--json", action="store_true", help="print JSON only on stdout")


def add_transfer_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", required=True, metavar="FILE_OR_SELECTOR",
                        help="the environment the model is learned in: a table file or a store selector")
    parser.add_argument("--target", required=True, metavar="FILE_OR_SELECTOR",
                        help="the new environment: its configurations, measured (the measure is used only "
                             "for the budget's rows and for scoring)")
    parser.add_argument("--budget", action="append", required=True, metavar="N|P%",
                        help="target rows to train on: a count, or a share of the target's configurations "
                             "(rounded up, at least 2); repeat for several budgets")
    parser.add_argument("--repeats", type=int, default=5,
                        help="repeats with different random target samples (default 5)")
    parser.add_argument("--methods", default=ALL_METHODS, metavar="LIST",
                        help=f"comma-separated subset of {ALL_METHODS} (default: all; scratch always runs, "
                             "as the baseline)")
    parser.add_argument("--learner", choices=LEARNERS, default=DEFAULT_LEARNER,
                        help=f"learner for scratch, dm, the source model and gs (default {DEFAULT_LEARNER})")
    _add_table_arguments(parser)


def run_transfer(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from edgebench.cli.console import wide_console
    from edgebench.perfmodel.budget import parse_budget
    from edgebench.perfmodel.sources import resolve_source
    from edgebench.perfmodel.transfer import parse_methods, select_terms, transfer

    err = wide_console(stderr=True)
    methods = parse_methods(args.methods)
    if "scratch" not in methods:
        methods = ("scratch",) + methods
        err.print("scratch added: every method is shown beside training from scratch on the same budget")
    budgets = [parse_budget(text) for text in args.budget]
    options = args.options
    source = resolve_source(args.source, options=options, measure=args.measure, workspace=args.workspace)
    target = resolve_source(args.target, options=options or list(source.options), measure=args.measure,
                            workspace=args.workspace)
    _print_notes(err, {"source": source, "target": target})
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("transfer", total=None)

        def progress(done: int, total: int, text: str) -> None:
            bar.update(task, completed=done, total=total, description=text)

        records = transfer(source, target, budgets, methods, repeats=args.repeats, seed=args.seed,
                           learner=args.learner, progress=progress)
    if args.json:
        print(json.dumps([asdict(r) for r in records], indent=2))
        return 0
    _print_transfer(records, source, target, args.learner, select_terms(source).steps if "gs" in methods else ())
    return 0


def _print_transfer(records: Sequence[TransferRecord], source: PerfTable, target: PerfTable, learner: str,
                    gs_steps: Sequence[str]) -> None:
    from rich.table import Table

    from edgebench.cli.console import wide_console

    console = wide_console()
    scratch = {r.budget: r for r in records if r.method == "scratch"}
    table = Table(title=f"transfer {source.source} ({source.rows} rows) → {target.source} ({target.rows} rows): "
                        f"{target.measure}, learner {learner}, {records[0].repeats} repeat(s)")
    for column in ("budget", "method", "MAPE % (mean ± sd)", "scratch MAPE %", "÷ scratch", "NMSE",
                   "within ±10 %", "scored rows"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for budget in sorted(scratch):
        base = scratch[budget]
        for record in (r for r in records if r.budget == budget):
            ratio = record.mape_pct_mean / base.mape_pct_mean if base.mape_pct_mean > 0 else float("nan")
            asked = record.budget_asked if record.budget_asked.endswith("%") else f"{100 * record.budget_share:.3g} %"
            table.add_row(f"{budget} rows ({asked})", record.method,
                          _mean_sd(record.mape_pct_mean, record.mape_pct_sd), f"{base.mape_pct_mean:.3g}",
                          "—" if record.method == "scratch" else f"{ratio:.2f}", f"{record.nmse_mean:.3g}",
                          f"{100 * record.within_10pct_share:.0f} %", str(record.scored_rows))
        table.add_section()
    console.print(table)
    gs = [r for r in records if r.method == "gs"]
    if gs:
        console.print("GS terms (AIC stepwise regression on the source, options and pairwise interactions): "
                      + (", ".join(gs[0].selected_terms) or "none: the intercept alone fits best")
                      + (f"  [dim](steps: {' '.join(gs_steps)})[/dim]" if gs_steps else ""), highlight=False)
        for record in gs:
            for note in record.notes:
                if " run once" not in note:
                    console.print(f"GS at budget {record.budget}: {note}", highlight=False)
    for note in dict.fromkeys(n for r in records for n in r.notes if n.endswith(": run once")):
        console.print(note, highlight=False)
    console.print("MAPE = 100/N·Σ|y−ŷ|/y over the target rows each method did not train on; NMSE = "
                  "Σ(y−ŷ)²/(N·mean(ŷ)·mean(y)); ÷ scratch < 1: the method beats training from scratch.",
                  highlight=False)


def _print_notes(console: Console, tables: dict[str, PerfTable]) -> None:
    """What the tables left out or derived (store rows without an ok run, simulated figures, ...)."""
    for role, table in tables.items():
        for note in table.notes:
            console.print(f"{role} {table.source}: {note}", highlight=False, markup=False)


def _mean_sd(mean: float, sd: float | None) -> str:
    return f"{mean:.3g}" + (f" ± {sd:.2g}" if sd is not None else "")


def add_suggest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", default=None, metavar="FILE_OR_SELECTOR",
                        help="measured configurations of other environments to learn from (default with --device: "
                             "every other device's rows in the results store)")
    parser.add_argument("--target-configs", default=None, metavar="FILE_OR_SELECTOR",
                        help="the candidate configurations of the new environment (measured or not; "
                             "default: the source's configurations)")
    parser.add_argument("--device", default=None, metavar="D",
                        help="the new device (its serial, or a stored device id or model name): named in the plan "
                             "and the push-and-run lines; without --source, the source is every other device's "
                             "rows in the results store")
    parser.add_argument("--budget", type=int, required=True, metavar="N", help="configurations to suggest")
    parser.add_argument("--strategy", choices=("gs", "variance"), default="gs",
                        help="gs: guided sampling's choice (default); variance: where the source forest's "
                             "trees disagree most")
    parser.add_argument("-o", "--output", default=None, metavar="PLAN.json", help="write the plan as JSON")
    _add_table_arguments(parser)


def run_suggest(args: argparse.Namespace) -> int:
    from edgebench.cli.console import wide_console
    from edgebench.perfmodel.plan_commands import run_values_from_frame
    from edgebench.perfmodel.sources import resolve_source
    from edgebench.perfmodel.suggest import plan_to_dict, suggest, write_plan

    options = args.options
    if args.source is not None:
        source = resolve_source(args.source, options=options, measure=args.measure, workspace=args.workspace)
    elif args.device is not None:
        from edgebench.perfmodel.device_source import other_devices_source

        source = other_devices_source(args.device, options=options, measure=args.measure, workspace=args.workspace)
    else:
        raise UsageError("perfmodel suggest needs --source FILE_OR_SELECTOR (the measured rows to learn from) or "
                         "--device D (then the source is every other device's rows in the results store)")
    if args.target_configs is None:  # the source's own configurations
        candidates, run_values = source, _run_values(args.source or "", source, run_values_from_frame)
        _print_notes(wide_console(stderr=True), {"source": source})
    else:
        candidates, run_values = _candidates(args.target_configs, options or list(source.options), source.measure,
                                             args.workspace, run_values_from_frame)
        _print_notes(wide_console(stderr=True), {"source": source, "candidates": candidates})
    plan = suggest(source, candidates, args.budget, args.strategy, args.seed, run_values=run_values,
                   device=args.device)
    if args.output:
        write_plan(plan, args.output)
    if args.json:
        print(json.dumps(plan_to_dict(plan), indent=2))
        return 0
    _print_plan(plan, source.options, args.output)
    return 0


def _candidates(text: str, options: list[str], measure: str | None, workspace: str | None,
                run_values_from_frame: Any) -> tuple[PerfTable, list[dict[str, str]]]:
    """The candidate configurations and, per row, push-and-run's settings from the table's other columns
    (a candidates file need not have the measure: it may list configurations not yet measured)."""
    from edgebench.perfmodel.sources import parse_selector, resolve_source
    from edgebench.perfmodel.table import read_config_file, table_from_frame

    if parse_selector(text) is None and Path(text).is_file():
        frame = read_config_file(text)
        named = measure if measure is not None and measure in frame.columns else None
        return table_from_frame(frame, options=options, measure=named, source=text), run_values_from_frame(frame)
    table = resolve_source(text, options=options, measure=measure, workspace=workspace)
    return table, run_values_from_frame(table.frame)


def _run_values(text: str, table: PerfTable, run_values_from_frame: Any) -> list[dict[str, str]]:
    """push-and-run's settings per row of a table already read: from the file's other columns, or the
    store table's own."""
    from edgebench.perfmodel.sources import parse_selector
    from edgebench.perfmodel.table import read_config_file

    if parse_selector(text) is None and Path(text).is_file():
        values: list[dict[str, str]] = run_values_from_frame(read_config_file(text))
        return values
    values = run_values_from_frame(table.frame)
    return values


def _print_plan(plan: SuggestPlan, options: Sequence[str], output: str | None) -> None:
    from rich.table import Table

    from edgebench.cli.console import wide_console

    console = wide_console()
    table = Table(title=f"{plan.budget} configurations of {plan.candidates} to measure next ({plan.strategy}"
                        + (f", device {plan.device}" if plan.device else "") + ")")
    # The options that vary among the chosen configurations, GS's first; the plan file has them all.
    in_terms = {o for term in plan.selected_terms for o in term.split(":")}
    varying = [o for o in options if len({c.options[o] for c in plan.configurations}) > 1]
    shown = sorted(varying, key=lambda o: o not in in_terms)[:MAX_PLAN_COLUMNS]
    for column in ("id", *shown, "why"):
        table.add_column(column, justify="left" if column in ("id", "why") else "right",
                         overflow="fold" if column in ("id", "why") else "ellipsis")
    for c in plan.configurations:
        table.add_row(c.id, *(f"{c.options[o]:g}" for o in shown), c.reason)
    console.print(table)
    hidden = len(options) - len(shown)
    if hidden:
        console.print(f"{hidden} more option(s) (constant among these, or beyond the first {MAX_PLAN_COLUMNS}) are in "
                      "the plan: -o PLAN.json or --json", highlight=False)
    if plan.selected_terms:
        console.print("GS terms (AIC stepwise regression on the source): " + ", ".join(plan.selected_terms),
                      highlight=False)
    for note in plan.notes:
        console.print(note, highlight=False)
    if plan.push_and_run:
        console.print("measure them with:", highlight=False)
        for line in plan.push_and_run:
            console.print(f"  {line}", highlight=False, markup=False)
    if output:
        console.print(f"plan written to {output}", highlight=False)
