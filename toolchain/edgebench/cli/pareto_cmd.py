"""`edgebench pareto FILE | --study S | --session S`: fronts, frontier, hypervolume and (with samples)
frontier probability and attainment surfaces of a CSV or Parquet table, or of the variant table of a study
or a stored session (per device, samples from the store; `--across-devices` ranks over devices).
Never imports TensorFlow; pandas and moocore are imported inside `run`."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", nargs="?", default=None,
                        help="a .csv or .parquet table, one row per variant (or --study / --session)")
    parser.add_argument("--study", default=None, metavar="NAME_OR_PATH",
                        help="a study folder, its study.json, or a study name under <workspace>/studies/")
    parser.add_argument("--session", default=None, metavar="S", help="a session of the results store")
    parser.add_argument("--across-devices", action="store_true",
                        help="with --study/--session: also one ranking over all devices (mean of the per-device"
                             " frontier probabilities)")
    parser.add_argument("--objectives", required=True, metavar="NAME:min|max,...",
                        help="2 to 6 columns and their direction, e.g. latency_ms:min,accuracy:max")
    parser.add_argument("--id-col", default=None, metavar="C", help="column naming each row (default: row number)")
    parser.add_argument("--samples", action="append", default=[], metavar="OBJECTIVE=COLUMN",
                        help="column holding a JSON list of OBJECTIVE's samples per row (repeatable);"
                             " adds frontier_probability and efficiency_rank")
    parser.add_argument("--draws", type=int, default=1000, metavar="B", help="Monte-Carlo draws (default 1000)")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the draws (default 0)")
    parser.add_argument("--reference", default=None, metavar="V1,V2,...",
                        help="hypervolume reference point, one value per objective in --objectives order"
                             " (default: each objective's worst value plus 10%% of its range)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def parse_reference(text: str | None) -> list[float] | None:
    from edgebench.errors import UsageError

    if text is None:
        return None
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise UsageError(f"--reference {text!r}: expected comma-separated numbers, one per objective") from None


def check_source(args: argparse.Namespace) -> None:
    from edgebench.errors import UsageError

    given = [name for name, value in (("FILE", args.file), ("--study", args.study), ("--session", args.session))
             if value is not None]
    if len(given) != 1:
        raise UsageError(f"expected one source: FILE, --study NAME_OR_PATH or --session S; got"
                         f" {' and '.join(given) if given else 'none'}")
    if args.file is None and (args.samples or args.id_col):
        raise UsageError("--samples and --id-col are for a FILE: with --study or --session, ids and samples"
                         " come from the store (see the README's sample models)")
    if args.file is not None and args.across_devices:
        raise UsageError("--across-devices needs --study or --session (a variant table with devices),"
                         " not a FILE")


def run(args: argparse.Namespace) -> int:
    from edgebench.analyze.frontier_probability import parse_sample_specs
    from edgebench.analyze.fronts import pareto
    from edgebench.cli.console import wide_console
    from edgebench.cli.pareto_output import print_analysis, print_attainment, to_json
    from edgebench.cli.table_files import read_table

    check_source(args)
    if args.file is None:
        from edgebench.cli.pareto_store import run_store_source

        return run_store_source(args, parse_reference(args.reference))
    table = read_table(Path(args.file))
    samples = parse_sample_specs(args.samples)
    analysis = pareto(table, args.objectives, id_col=args.id_col, reference=parse_reference(args.reference),
                      samples=samples, draws=args.draws, seed=args.seed)
    attainment = None
    if samples and len(analysis.objectives) == 2:
        from edgebench.analyze.attainment import attainment_surfaces

        attainment = attainment_surfaces(table, analysis.objectives, samples, draws=args.draws, seed=args.seed)
    if args.json:
        print(json.dumps(to_json(analysis, attainment), indent=1))
        return 0
    console = wide_console()
    print_analysis(console, analysis)
    if attainment is not None:
        print_attainment(console, attainment)
    return 0
