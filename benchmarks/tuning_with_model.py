"""Tuning with a performance model: how many device measurements reach 95 % of the measured-everything
hypervolume, with a transferred latency model screening the trials vs measuring every trial.

    PYTHONPATH=toolchain .venv/bin/python benchmarks/tuning_with_model.py [--trials 40] [--seeds 0,1,2]
        [--source-trials 16] [--target local] [--workspace DIR]

Spec: models/cnn_text.toml's smoke budget with its shape dimensions widened to the full spec's choices
(filters 16..256, embedding 16..128, kernel 3..9) and 200-token sequences, so fp32 latencies span about
two decades (on this 2-core x86_64 host with XNNPACK: 5 µs to 0.45 ms, below the 0.1-10 ms a phone
would show) and the accuracy/latency trade-off is real; the smoke budget's 2000
generated reviews and 2-4 epochs keep training in seconds. Objectives: accuracy (max) and latency median µs (min) — the default; pass
--objectives accuracy,latency,size for three.

1. Source: `--source-trials` random configurations of the same space (their own seed, so none is
   chosen for the seeds below) are trained, converted and timed on --target; a random forest of
   latency_median_us over their model features (perfmodel.features) is fitted and saved
   (perfmodel.saved) — a model transferred from other measurements of the target.
2. For each seed, the same sampler (Optuna's default multi-objective sampler, TPE) runs --trials trials
   twice: measuring every trial (`--latency-from device`), and with `--latency-from model:DIR` (a trial
   is measured only when its prediction, with the model's CV error as margin, is not dominated by the
   measured front).
3. Objectives are normalized to the ranges seen on that seed (min..max of every measured point of both
   runs); the reference point is the worst corner plus 10 %. The target hypervolume is that of every
   trial of the measure-everything run; for each run, the count of device measurements after which the
   measured points' hypervolume reaches 95 % of it (`—` when it never does).

Trained models, conversions and the source model are content-addressed in --workspace, so reruns are cheap.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "toolchain"))

SMOKE_SPACE = """[budget.smoke.search_space]
filters = { choices = [16, 32, 64, 128, 256], default = 64 }
kernel_size = { choices = [3, 5, 7, 9], default = 5 }
embedding_dim = { choices = [16, 32, 64, 128], default = 32 }
batch_size = { choices = [32, 64], default = 64 }
epochs = { low = 2, high = 4, default = 3 }
"""
SMOKE_DATA = """[budget.smoke.dataset]
loader = "sentiment_builtin"
samples = 2000
sequence_length = 200
"""
TARGET_SHARE = 0.95


def bench_spec(workspace: Path) -> Any:
    """cnn_text's smoke budget with the shape dimensions widened (see the module docstring)."""
    from edgebench.spec import load_spec

    text = (ROOT / "models" / "cnn_text.toml").read_text()
    head, smoke = text.split("[budget.smoke.dataset]", 1)
    rest = smoke.split("[budget.smoke.tuning]", 1)[1]
    path = workspace / "cnn_text_bench.toml"
    path.write_text(head + SMOKE_DATA + SMOKE_SPACE + "[budget.smoke.tuning]" + rest)
    return load_spec(path, "smoke")


def tune(spec: Any, workspace: Path, *, objectives: str, trials: int, seed: int, sampler: str, target: str,
         latency_from: str | None, tag: str, dataset: Any) -> Any:
    from edgebench.train import ArtifactStore
    from edgebench.tune import run_tuning

    return run_tuning(spec, store=ArtifactStore(workspace / "artifacts"), workspace=workspace, objectives=objectives,
                      sampler=sampler, trials=trials, seed=seed, target=target, latency_from=latency_from,
                      dataset=dataset, storage=f"sqlite:///{workspace / f'{tag}.sqlite'}",
                      log=lambda line: print(f"  [{tag}] {line}", file=sys.stderr, flush=True))


def source_model(spec: Any, workspace: Path, *, trials: int, target: str, dataset: Any) -> Path:
    """Fit (or reuse) the latency model on `trials` random configurations measured on the target."""
    import pandas as pd

    from edgebench.optimize import build_variant
    from edgebench.perfmodel.features import absent_value, model_features
    from edgebench.perfmodel.saved import fit_model, load_model, save_model
    from edgebench.perfmodel.table import table_from_frame
    from edgebench.train import ArtifactStore

    folder = workspace / "perfmodels" / f"cnn_text-source{trials}-{target}"
    if (folder / "model.json").is_file():
        return Path(load_model(folder).path or folder)
    result = tune(spec, workspace, objectives="accuracy,latency", trials=trials, seed=1000, sampler="random",
                  target=target, latency_from=None, tag="source", dataset=dataset)
    store = ArtifactStore(workspace / "artifacts")
    rows = []
    for t in result.trials:
        if t.state != "COMPLETE" or not t.trained_id:
            continue
        converted = build_variant(store.load("trained", t.trained_id), "fp32", store=store, dataset=dataset)
        rows.append({**model_features(converted.path), "latency_median_us": t.attrs["latency_median_us"]})
    names = sorted({k for r in rows for k in r} - {"latency_median_us"})
    frame = pd.DataFrame([{n: r.get(n, absent_value(n, r)) for n in names} | {"latency_median_us": r["latency_median_us"]}
                          for r in rows])
    options = [n for n in names if frame[n].notna().all() and frame[n].nunique() > 1]
    table = table_from_frame(frame, options=options, measure="latency_median_us",
                             source=f"{len(rows)} random cnn_text trials measured on {target}")
    saved = save_model(fit_model(table, "forest", seed=0), folder)
    print(f"source model: {len(rows)} rows, {len(options)} features, CV MAPE {saved.cv_mape_pct:.1f} %",
          file=sys.stderr)
    return folder


def measured_points(result: Any) -> list[tuple[float, ...]]:
    """The values of the trials whose latency was measured, in the order they were measured."""
    return [tuple(t.values) for t in sorted(result.trials, key=lambda t: t.number)
            if t.state == "COMPLETE" and t.measured]


def measurements_to_reach(points: list[tuple[float, ...]], target_hv: float, axes: Any, low: Any, high: Any) -> tuple[int | None, float]:
    """(device measurements until the measured points' normalized hypervolume reaches TARGET_SHARE of
    target_hv, or None; the final share)."""
    share = 0.0
    for k in range(1, len(points) + 1):
        share = normalized_hv(points[:k], axes, low, high) / target_hv
        if share >= TARGET_SHARE:
            return k, share
    return None, share


def normalized_hv(points: list[tuple[float, ...]], axes: Any, low: Any, high: Any) -> float:
    import numpy as np

    from edgebench.analyze.fronts import hypervolume

    span = np.where(high > low, high - low, 1.0)
    unit = (np.array(points, dtype=float) - low) / span
    reference = np.array([-0.1 if a.maximize else 1.1 for a in axes])
    return hypervolume(unit, axes, reference)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--source-trials", type=int, default=24)
    parser.add_argument("--objectives", default="accuracy,latency")
    parser.add_argument("--sampler", default="tpe", help="Optuna 4+'s default multi-objective sampler is TPE")
    parser.add_argument("--target", default="local")
    parser.add_argument("--workspace", default=str(ROOT / ".bench" / "tuning_with_model"))
    args = parser.parse_args()

    import numpy as np

    from edgebench.analyze.objectives import Objective
    from edgebench.datasets.loaders import load_dataset
    from edgebench.tune.objectives import parse_objectives

    workspace = Path(args.workspace).resolve()
    workspace.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("EDGEBENCH_WORKSPACE", str(workspace))
    spec = bench_spec(workspace)
    dataset = load_dataset(spec.dataset, None, where=f"{spec.source}: dataset")
    chosen = parse_objectives(args.objectives)
    axes = [Objective(n, d == "maximize") for n, d in zip(chosen.names, chosen.directions)]
    started = time.monotonic()
    model = source_model(spec, workspace, trials=args.source_trials, target=args.target, dataset=dataset)
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        every = tune(spec, workspace, objectives=args.objectives, trials=args.trials, seed=seed, sampler=args.sampler,
                     target=args.target, latency_from=None, tag=f"every-seed{seed}", dataset=dataset)
        screened = tune(spec, workspace, objectives=args.objectives, trials=args.trials, seed=seed,
                        sampler=args.sampler, target=args.target, latency_from=f"model:{model}",
                        tag=f"model-seed{seed}", dataset=dataset)
        a, b = measured_points(every), measured_points(screened)
        seen = np.array(a + b, dtype=float)
        low, high = seen.min(axis=0), seen.max(axis=0)
        target_hv = normalized_hv(a, axes, low, high)
        need_every, _ = measurements_to_reach(a, target_hv, axes, low, high)
        need_model, share = measurements_to_reach(b, target_hv, axes, low, high)
        latencies = [p[chosen.names.index("latency")] for p in a] if "latency" in chosen.names else [0.0]
        rows.append({"seed": seed, "trials": args.trials, "complete_every": len(a),
                     "measured_with_model": len(b), "complete_with_model":
                     sum(t.state == "COMPLETE" for t in screened.trials),
                     "to_95pct_every": need_every, "to_95pct_model": need_model,
                     "model_final_hv_share": round(share, 3),
                     "latency_range_ms": [round(min(latencies) / 1e3, 3), round(max(latencies) / 1e3, 3)]})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(f"\ntuning_with_model: {args.objectives}, {args.trials} trials/seed, sampler {args.sampler}, "
          f"target {args.target}, source model {model.name} ({(time.monotonic() - started) / 60:.1f} min)")
    print("| seed | measured (every trial) | to 95 % HV, every trial | measured (with model) | to 95 % HV, with model "
          "| final HV share, with model | latency range ms |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['seed']} | {r['complete_every']} | {r['to_95pct_every'] or '—'} | {r['measured_with_model']} of "
              f"{r['complete_with_model']} | {r['to_95pct_model'] or '—'} | {r['model_final_hv_share']} | "
              f"{r['latency_range_ms'][0]}–{r['latency_range_ms'][1]} |")
    reached = [r for r in rows if r["to_95pct_every"] and r["to_95pct_model"]]
    if reached:
        ratio = statistics.mean(r["to_95pct_model"] / r["to_95pct_every"] for r in reached)
        print(f"mean ratio of measurements to 95 % HV (with model / every trial): {ratio:.2f} over {len(reached)} "
              f"seed(s) (target ≤ 0.5)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
