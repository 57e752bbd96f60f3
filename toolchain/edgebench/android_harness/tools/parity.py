"""Latency parity of edgebench_runner with Python ai_edge_litert loops (same model, inputs, threads).

    PYTHONPATH=toolchain .venv/bin/python toolchain/edgebench/android_harness/tools/parity.py \
        [--model PATH] [--threads 1] [--rounds 5] [--runs 300]

Alternates rounds of: the C runner, a CompiledModel.run_by_index loop, an Interpreter.invoke loop,
so drift on a shared machine hits all three alike. Prints each round's medians and the ratio of the
runner's median to each Python median (1.00 = parity). Also times the runner on the single-ADD model.
Not a test: numbers depend on the machine's load.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]  # the repository
sys.path.insert(0, str(ROOT / "toolchain"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from seeded_inputs import seeded_input  # noqa: E402

from edgebench.harness.build import build_harness  # noqa: E402
from edgebench.harness.litert_lib import find_litert_library  # noqa: E402

MODELS = ROOT / "fixtures" / "real-device" / "g_tflite_models"


def runner_median(runner: Path, lib: Path, model: Path, threads: int, runs: int, warmup: int) -> float:
    proc = subprocess.run([str(runner), "--model", str(model), "--lib", str(lib), "--threads", str(threads),
                           "--warmup-runs", str(warmup), "--runs", str(runs), "--min-seconds", "0"],
                          capture_output=True, text=True, check=True)
    summary = next(json.loads(line) for line in proc.stdout.splitlines() if '"type":"summary"' in line)
    return float(summary["median_us"])


def python_medians(model: Path, threads: int, runs: int, warmup: int) -> tuple[float, float]:
    from ai_edge_litert.compiled_model import CompiledModel
    from ai_edge_litert.interpreter import Interpreter
    from ai_edge_litert.options import CpuOptions, HardwareAccelerator, Options

    cm = CompiledModel.from_file(str(model), options=Options(
        hardware_accelerators=HardwareAccelerator.CPU, cpu_options=CpuOptions(num_threads=threads)))
    ins, outs = cm.create_input_buffers(0), cm.create_output_buffers(0)
    it = Interpreter(model_path=str(model), num_threads=threads)
    it.allocate_tensors()
    for i, d in enumerate(it.get_input_details()):
        data = seeded_input(1, i, d["dtype"].__name__, tuple(int(x) for x in d["shape"]))
        it.set_tensor(d["index"], data)
        ins[i].write(data)
    clock = time.perf_counter_ns
    for _ in range(warmup):
        cm.run_by_index(0, ins, outs)
        it.invoke()
    lat_cm, lat_it = [], []
    for _ in range(runs):
        t0 = clock()
        cm.run_by_index(0, ins, outs)
        lat_cm.append((clock() - t0) / 1000)
    for _ in range(runs):
        t0 = clock()
        it.invoke()
        lat_it.append((clock() - t0) / 1000)
    return statistics.median(lat_cm), statistics.median(lat_it)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=MODELS / "tfls_mobilenet_v1_0.25_224_float.tflite")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=20)
    args = ap.parse_args()
    build = build_harness("host", out_root=Path(tempfile.gettempdir()) / "edgebench-parity-build")
    lib = find_litert_library("host")

    add = runner_median(build.runner_path, lib, MODELS / "tflm_simple_add_model.tflite", 1, 20000, 100)
    print(f"single ADD (tflm_simple_add_model, 1 thread): runner median {add:.3f} us")

    rows = []
    for r in range(args.rounds):
        c = runner_median(build.runner_path, lib, args.model, args.threads, args.runs, args.warmup)
        p_cm, p_it = python_medians(args.model, args.threads, args.runs, args.warmup)
        rows.append((c, p_cm, p_it))
        print(f"round {r}: runner {c:9.2f} us | CompiledModel {p_cm:9.2f} us | Interpreter {p_it:9.2f} us")
    c = statistics.median(x[0] for x in rows)
    p_cm = statistics.median(x[1] for x in rows)
    p_it = statistics.median(x[2] for x in rows)
    print(f"{args.model.name}, {args.threads} thread(s), median of {args.rounds} rounds:")
    print(f"  runner {c:.2f} us, CompiledModel {p_cm:.2f} us (ratio {c / p_cm:.3f}), "
          f"Interpreter {p_it:.2f} us (ratio {c / p_it:.3f})")


if __name__ == "__main__":
    main()
