"""`edgebench effects (--study S | --table FILE)`: hyperparameter effects on accuracy, latency, size, energy
and training time; the top-k spread; how optimization reorders configurations. pandas/scipy load in `run`."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

HELP = "Hyperparameter effects (Mann-Whitney/Holm, Cliff's delta, Spearman), top-k spread, rank changes."


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--study", metavar="NAME_OR_PATH",
                        help="a study folder, its study.json, or a study name under <workspace>/studies/")
    source.add_argument("--table", metavar="FILE", help="a variant table (.csv or .parquet) in the columns of"
                        " `edgebench.analyze.study_table` (hp.<name>, variant, trained_id, properties, ...)")
    parser.add_argument("--properties", default=None, metavar="P1,P2,...",
                        help="property columns to analyse (default: accuracy, latency_ms, size_bytes, energy_mj,"
                             " training_s where known)")
    parser.add_argument("--draws", type=int, default=None, metavar="B",
                        help="bootstrap resamples for the CIs (default 1000)")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the bootstrap (default 0)")
    parser.add_argument("--confidence", type=float, default=0.95, metavar="C",
                        help="confidence of the CIs; significance level is 1 - C (default 0.95)")
    parser.add_argument("--json", action="store_true", help="print JSON (every row, including not-checked ones)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser)
    parser.add_argument("--top-k", type=int, default=10, metavar="K",
                        help="the K configurations best by accuracy for the spread (default 10)")
    parser.add_argument("--all", action="store_true",
                        help="print every level test, not only the significant ones")


def load_table(args: argparse.Namespace) -> pd.DataFrame:
    """The variant table of --study (through the store) or --table (a file)."""


    if args.study is not None:
        # owned by the `sources` helper of issue 13 (lands at merge); the ignore keeps mypy quiet before
        from edgebench.analyze.variant_table import study_table

        table: pd.DataFrame = study_table(args.study, workspace=args.workspace)
        return table
    from edgebench.cli.table_files import read_variant_table

    return read_variant_table(Path(args.table))


def run(args: argparse.Namespace) -> int:
    from edgebench.analyze.hyperparameter_effects import DEFAULT_DRAWS, effects

    table = load_table(args)
    result = effects(table, args.properties, top_k=args.top_k, confidence=args.confidence, seed=args.seed,
                     draws=args.draws if args.draws is not None else DEFAULT_DRAWS)
    if args.json:
        print(json.dumps(result.to_json(), indent=1))
        return 0
    from edgebench.cli.console import wide_console

    console = wide_console()
    tests = result.tests
    checked = tests[tests["status"] == "checked"]
    shown = checked if args.all else checked[checked["significant"].astype(bool)]
    print_table(console, f"level vs rest: Mann-Whitney U, Holm over each hyperparameter's levels"
                f" ({len(checked)} tests, {int(checked['significant'].astype(bool).sum())} significant at"
                f" {1 - result.confidence:g}{'' if args.all else '; significant ones shown, --all for every test'})",
                shown, ["variant", "property", "hyperparameter", "level", "n_level", "n_rest", "median_level",
                        "median_rest", "p_holm", "cliffs_delta", "magnitude"])
    # Rows with an estimate are shown even when their interval could not be given (too few rows: "no CI").
    correlations = result.correlations[result.correlations["spearman_rho"].notna()]
    print_table(console, f"Spearman rho [{result.confidence:.0%} CI, Fisher z with the Bonett-Wright SE;"
                " 'no CI' below the rows its level needs]",
                with_ci(correlations, "spearman_rho", "ci_low", "ci_high"),
                ["variant", "property", "hyperparameter", "n", "spearman_rho", "p_value"])
    print_table(console, f"spread among the top {result.top_k} by accuracy: (max - min) / min",
                result.spread, ["variant", "property", "k", "ranked_by", "accuracy_min", "accuracy_max", "min",
                                "max", "spread", "reason"])
    changes = result.rank_changes[result.rank_changes["kendall_tau"].notna()]
    print_table(console, f"rank agreement fp32 vs each variant: Kendall tau [{result.confidence:.0%} bootstrap CI;"
                " 'no CI' below the configurations its level needs]",
                with_ci(changes, "kendall_tau", "ci_low", "ci_high"),
                ["variant", "property", "n", "kendall_tau", "top_movers"])
    print_not_checked(console, [result.tests, result.correlations, result.spread, result.rank_changes])
    return 0


def print_table(console: Console, title: str, frame: pd.DataFrame, columns: Sequence[str]) -> None:
    from rich.table import Table

    several = [c for c in ("device_id", "config") if c in frame.columns and frame[c].nunique() > 1]
    out = Table(title=title, title_justify="left")
    names = [*several, *columns]
    for name in names:
        out.add_column(name, justify="right" if _is_number_column(frame, name) else "left", overflow="fold")
    for record in frame[names].itertuples(index=False):
        out.add_row(*(cell(v) for v in record))
    if frame.empty:
        console.print(f"{title}: no rows could be checked", highlight=False, markup=False)
    else:
        console.print(out)


def with_ci(frame: pd.DataFrame, column: str, low: str, high: str) -> pd.DataFrame:
    """`column` shown as "value [low, high]" (one cell per estimate keeps the tables narrow)."""
    out = frame.copy()
    out[column] = [("" if not cell(v) else f"{cell(v)} [{cell(lo)}, {cell(hi)}]" if cell(lo) and cell(hi)
                    else f"{cell(v)} (no CI)") for v, lo, hi in zip(frame[column], frame[low], frame[high])]
    return out


def print_not_checked(console: Console, frames: Iterable[pd.DataFrame]) -> None:
    reasons: dict[str, int] = {}
    for frame in frames:
        for reason in frame.loc[frame["status"] == "not_checked", "reason"]:
            reasons[str(reason)] = reasons.get(str(reason), 0) + 1
    if reasons:
        console.print(f"not checked: {sum(reasons.values())} rows (--json lists them); most common reasons:",
                      highlight=False, markup=False)
        for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1])[:5]:
            console.print(f"  {count} x {reason}", highlight=False, markup=False)


def _is_number_column(frame: pd.DataFrame, name: str) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(frame[name])) and not pd.api.types.is_bool_dtype(frame[name])


def cell(value: Any) -> str:
    import math

    if value is None or type(value).__name__ == "NAType" or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
