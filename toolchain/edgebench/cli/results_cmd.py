"""`edgebench results`: list runs, trace a run or .tflite back to its training, export tables."""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas and the store load when a command runs, not for --help
    import pandas as pd

    from edgebench.store import ResultsStore

EXPORT_TABLES = ("runs", "summaries", "checks", "energy", "latency_samples", "device_samples", "devices", "variants",
                 "sessions", "run_attempts", "artifacts", "artifact_links")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    lst = sub.add_parser("list", help="list runs (of one session, or all)")
    lst.add_argument("--session", default=None)
    lst.add_argument("--json", action="store_true")
    lin = sub.add_parser("lineage", help="trace a run or a .tflite back to its variant, trained model and "
                         "hyperparameters",
                         description="REF is a run id, a .tflite sha256 or any artifact id (or a prefix of at "
                         "least 6 characters). Prints the runs measured on that .tflite and the chain it was made "
                         "by: .tflite <- transformed model <- trained model <- hyperparameters.")
    lin.add_argument("ref")
    lin.add_argument("--json", action="store_true")
    exp = sub.add_parser("export", help="export a table as csv, parquet or json")
    exp.add_argument("--format", choices=("csv", "parquet", "json"), default="csv")
    exp.add_argument("--table", choices=EXPORT_TABLES, default="runs",
                     help="which table (default: runs, joined with its latency summary)")
    exp.add_argument("--session", default=None, help="only this session's runs")
    exp.add_argument("--output", "-o", default=None, help="file to write (default: stdout; required for parquet)")


def run(args: argparse.Namespace) -> int:
    import json

    from edgebench.api import open_store
    from edgebench.bench.table import fmt_us
    from edgebench.errors import UsageError

    store = open_store(args.workspace)
    try:
        if args.action == "list":
            records = store.runs(args.session)
            if args.json:
                json.dump([r.to_json() for r in records], sys.stdout, indent=1)
                sys.stdout.write("\n")
            else:
                for r in records:
                    median = fmt_us(r.latency.median_us if r.latency else None)
                    print(f"{r.session}  {r.run_id}  {r.status:7}  {r.model}  {r.config.label()}  {r.target}  "
                          f"repeat {r.repeat}  median {median}" + (f"  error: {r.error}" if r.error else ""))
            return 0
        if args.action == "lineage":
            from edgebench.lineage import render, trace

            found = trace(store, args.ref)
            if args.json:
                json.dump(found.to_json(), sys.stdout, indent=1, default=str)
                sys.stdout.write("\n")
            else:
                print(render(found))
            return 0
        frame = _frame(store, args.table, args.session)
        if args.format == "parquet":
            if not args.output:
                raise UsageError("parquet is binary: give a file with --output FILE.parquet")
            frame.to_parquet(args.output, index=False)
        elif args.format == "csv":
            frame.to_csv(args.output or sys.stdout, index=False)
        else:
            text = frame.to_json(orient="records", indent=1)
            if args.output:
                with open(args.output, "w") as fh:
                    fh.write(text + "\n")
            else:
                sys.stdout.write(text + "\n")
        return 0
    finally:
        store.close()


def _frame(store: ResultsStore, table: str, session: str | None) -> pd.DataFrame:
    import pandas as pd

    if table == "runs":
        rows = [r.to_json() for r in store.runs(session)]
        frame = pd.json_normalize(rows, sep="_") if rows else pd.DataFrame()
        return frame
    frame = pd.DataFrame(store.table_rows(table))
    if session is not None and not frame.empty:
        if "session" in frame.columns:
            frame = frame[frame["session"] == session]
        elif "run_id" in frame.columns:
            run_ids = {r.run_id for r in store.runs(session)}
            frame = frame[frame["run_id"].isin(run_ids)]
    return frame
