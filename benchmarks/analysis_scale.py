"""How long `edgebench pareto` takes on large tables (issue #13's targets).

    PYTHONPATH=toolchain .venv/bin/python benchmarks/analysis_scale.py

Runs the real command (`python -m edgebench.cli.main pareto FILE`, as a table and with --json, a fresh
process each time, so
the figures include Python's start and the imports) on random CSVs written to a temporary folder:
10,000 rows x 3 objectives (target < 1 s) and 100,000 x 2 (target < 3 s) without samples, and 1,000
rows x 3 objectives with 20 latency samples per row and 1,000 draws (target < 5 s). Prints wall
seconds per case and output form, best of --repeats.

Then `edgebench report --table FILE` (a fresh process: imports, frontier probability over 1,000 draws,
every figure, the HTML and the terminal tables) on a synthetic study table of 500 variants (100 trained
models x 5 variants on one device, 3 repeats x 20 raw latency samples each; tests/report/synthetic.py),
target < 20 s.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
REPORT_CONFIGS = 100  # trained models; x 5 variants = 500 rows
REPORT_TARGET_S = 20.0
OBJECTIVES = ["latency_ms:min", "accuracy:max", "size_mb:min"]


def make_table(rows: int, objectives: int, samples: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({
        "variant": [f"v{i}" for i in range(rows)],
        "latency_ms": rng.lognormal(2.0, 0.5, rows),
        "accuracy": rng.uniform(0.5, 0.95, rows),
        "size_mb": rng.lognormal(1.0, 0.8, rows),
    })
    if samples:
        table["latency_samples"] = [json.dumps(np.round(rng.normal(m, 0.05 * m, samples), 4).tolist())
                                    for m in table["latency_ms"]]
    return table.drop(columns=[o.split(":")[0] for o in OBJECTIVES[objectives:]])


def write_study_table(path: Path) -> int:
    """The synthetic 500-variant study table as CSV (list columns as JSON); returns its row count."""
    sys.path.insert(0, str(ROOT))
    from tests.report.synthetic import variant_table

    table = variant_table(REPORT_CONFIGS, 1, seed=1)
    for column in ("latency_repeats_ms", "energy_samples_mj", "run_ids"):
        table[column] = [json.dumps(v) for v in table[column]]
    table.to_csv(path, index=False)
    return len(table)


def time_command(argv: list[str], repeats: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "toolchain")}
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "edgebench.cli.main", *argv], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=("pareto", "report"), default=None, help="run one of the two parts")
    args = parser.parse_args()
    cases = [("10,000 rows x 3 objectives", 10_000, 3, 0, 1.0),
             ("100,000 rows x 2 objectives", 100_000, 2, 0, 3.0),
             ("1,000 rows x 3 objectives, 1,000 draws", 1_000, 3, 20, 5.0)]
    if args.only == "report":
        cases = []
    with tempfile.TemporaryDirectory() as folder:
        for label, rows, objectives, samples, target_s in cases:
            path = Path(folder) / f"table_{rows}_{objectives}_{samples}.csv"
            make_table(rows, objectives, samples, seed=rows).to_csv(path, index=False)
            argv = ["pareto", str(path), "--objectives", ",".join(OBJECTIVES[:objectives]), "--id-col", "variant"]
            if samples:
                argv += ["--samples", "latency_ms=latency_samples", "--draws", "1000"]
            table_s = time_command(argv, args.repeats)
            json_s = time_command([*argv, "--json"], args.repeats)
            print(f"{label:42s} table {table_s:6.2f} s   --json {json_s:6.2f} s   (target < {target_s:g} s)",
                  flush=True)
        if args.only == "pareto":
            return
        study = Path(folder) / "study_500.csv"
        rows = write_study_table(study)
        report_s = time_command(["--workspace", folder, "report", "--table", str(study), "-o",
                                 str(Path(folder) / "report.html")], args.repeats)
        size_mb = (Path(folder) / "report.html").stat().st_size / 1e6
        print(f"{f'report, {rows} variants':42s} {report_s:6.2f} s ({size_mb:.1f} MB HTML)   (target < {REPORT_TARGET_S:g} s)",
              flush=True)


if __name__ == "__main__":
    main()
