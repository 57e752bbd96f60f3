"""`edgebench pareto FILE | --study S | --session S`: fronts, frontier, hypervolume and (with samples)
frontier probability and attainment surfaces of a CSV or Parquet table, or of the variant table of a study
or a stored session (per device, samples from the store; `--across-devices` ranks over devices).
Never imports TensorFlow; pandas and moocore are imported inside `run`."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from rich.table import Table

    from edgebench.analyze.fronts import ParetoAnalysis

RICH_TABLE_MAX_ROWS = 500


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


def read_table(path: Path) -> pd.DataFrame:
    import pandas as pd

    from edgebench.errors import UsageError

    if not path.is_file():
        raise UsageError(f"{path}: expected a .csv or .parquet file, found no file there")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix in (".parquet", ".pq"):
        try:
            return pd.read_parquet(path)
        except ImportError as exc:
            raise UsageError(f"{path}: reading Parquet needs pyarrow ({exc}): pip install pyarrow,"
                             " or give a .csv") from None
    raise UsageError(f"{path}: expected a .csv or .parquet file, got {suffix or 'no suffix'!r}")


def parse_reference(text: str | None) -> list[float] | None:
    from edgebench.errors import UsageError

    if text is None:
        return None
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise UsageError(f"--reference {text!r}: expected comma-separated numbers, one per objective") from None


def to_json(analysis: ParetoAnalysis, attainment: pd.DataFrame | None = None) -> dict[str, Any]:
    # to_dict gives Python scalars; every value is finite (objectives are checked, the rest computed)
    rows = analysis.rows.to_dict(orient="records")
    return {"objectives": [o.spec() for o in analysis.objectives], "hypervolume": analysis.hypervolume,
            "reference": list(analysis.reference),
            "reference_source": "given" if analysis.reference_given else "default: worst value + 10% of range",
            "draws": analysis.draws, "seed": analysis.seed, "rows": rows,
            "attainment": None if attainment is None else attainment.to_dict(orient="records")}


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
    console = new_console()
    print_analysis(console, analysis)
    if attainment is not None:
        print_attainment(console, attainment)
    return 0


def new_console() -> Any:
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 160)
    return console


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
