"""Harness fidelity: does the edgebench runner measure what a plain LiteRT loop measures?

On mobilenet_v1_0.25 float, 1 thread, pinned to one core, interleaving processes:
  edgebench push-and-run --target local   vs   Python loop over CompiledModel / Interpreter.invoke()
Also the runner's median per-run time on the single-ADD model (a bound on its fixed cost) and its
peak RSS vs the Python process. Targets: ratios 0.97-1.03; single-ADD median <= 5 µs; RSS <= 0.5x Python.

Run:  .venv/bin/python benchmarks/harness_fidelity.py [--processes 5] [--runs 300] [--cpu 1]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "fixtures" / "real-device" / "g_tflite_models"
MOBILENET = MODELS / "tfls_mobilenet_v1_0.25_224_float.tflite"
SINGLE_ADD = MODELS / "tflm_simple_add_model.tflite"
EDGEBENCH = [sys.executable, "-m", "edgebench.cli.main"]


def edgebench_run(model: Path, workspace: str, cpu: int, runs: int, warmup: int) -> dict:
    out = subprocess.run(
        [*EDGEBENCH, "--workspace", workspace, "push-and-run", str(model), "--target", "local",
         "--protocol", "smoke", "--threads", "1", "--cpu-mask", f"{1 << cpu:x}", "--runs", str(runs),
         "--warmup", str(warmup), "--json"],
        check=True, capture_output=True, text=True)
    (record,) = json.loads(out.stdout)
    if record["status"] == "failed":
        raise SystemExit(f"edgebench run failed: {record['error']}")
    return record


def python_loop(mode: str, cpu: int, runs: int, warmup: int) -> dict:
    out = subprocess.run(["taskset", "-c", str(cpu), sys.executable, str(REPO / "benchmarks" / "_python_loop.py"),
                          mode, str(MOBILENET), str(warmup), str(runs)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=5)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--cpu", type=int, default=min(1, (os.cpu_count() or 1) - 1))
    args = parser.parse_args()

    edge, compiled, interp = [], [], []
    edge_rss, py_rss = [], []
    with tempfile.TemporaryDirectory() as ws:
        for i in range(args.processes):
            # Interleave the three engines so drift affects them alike.
            r = edgebench_run(MOBILENET, ws, args.cpu, args.runs, args.warmup)
            edge.append(r["latency_us"]["median"])
            edge_rss.append(r["peak_rss_kb"])
            c = python_loop("compiled", args.cpu, args.runs, args.warmup)
            compiled.append(c["median_us"])
            p = python_loop("interpreter", args.cpu, args.runs, args.warmup)
            interp.append(p["median_us"])
            py_rss.append(max(c["peak_rss_kb"], p["peak_rss_kb"]))
            print(f"process {i + 1}/{args.processes}: edgebench {edge[-1]:.1f} µs, CompiledModel "
                  f"{compiled[-1]:.1f} µs, Interpreter {interp[-1]:.1f} µs", flush=True)
        add = edgebench_run(SINGLE_ADD, ws, args.cpu, 2000, 100)

    e, c, p = statistics.median(edge), statistics.median(compiled), statistics.median(interp)
    print()
    print(f"model: {MOBILENET.name}, 1 thread, pinned to cpu {args.cpu}, {args.processes} processes each, "
          f"{args.runs} timed runs per process")
    print(f"median of process medians: edgebench {e:.1f} µs | CompiledModel loop {c:.1f} µs | "
          f"Interpreter.invoke loop {p:.1f} µs")
    print(f"ratio edgebench / CompiledModel loop:   {e / c:.3f}   (target 0.97-1.03)")
    print(f"ratio edgebench / Interpreter loop:     {e / p:.3f}   (target 0.97-1.03)")
    print(f"single-ADD median per run (runner):     {add['latency_us']['median']:.2f} µs   (target <= 5 µs)")
    rss_ratio = statistics.median(edge_rss) / statistics.median(py_rss)
    print(f"peak RSS runner {statistics.median(edge_rss):.0f} kB vs Python {statistics.median(py_rss):.0f} kB: "
          f"{rss_ratio:.2f}x   (target <= 0.5x)")


if __name__ == "__main__":
    main()
