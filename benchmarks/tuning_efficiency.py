"""Tuning efficiency: edgebench's multi-objective tuning vs Keras Tuner RandomSearch on a weighted sum.

    PYTHONPATH=toolchain .venv/bin/python benchmarks/tuning_efficiency.py [--trials 30] [--seeds 0,1,2]

Both methods get the same budget of trials on the digits CNN (models/cnn_image.toml, smoke budget's
data and search space) and every trial is scored the same way: validation accuracy, fp32 .tflite
size and latency median on --target (smoke protocol). Keras Tuner (the `bench` extra, installed by scripts/setup.sh)
searches at random on (1 - accuracy) + w * latency / latency0 + w * size / size0, where latency0
and size0 are the spec's default model's. We compare the hypervolume of ALL trials of each method
in (accuracy max, latency min, size min) with the reference point (accuracy 0, 2x the largest
latency, 2x the largest size seen by either method on that seed), and print the ratio per seed.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "toolchain"))


def evaluate(spec, params, *, store, dataset, workspace, target, runs):
    """(val accuracy, size bytes, latency median µs) of one hyperparameter set, as edgebench scores trials."""
    from edgebench.api import push_and_run
    from edgebench.optimize import build_variant
    from edgebench.train import train_model

    trained = train_model(spec, params, store=store, dataset=dataset)
    conv = build_variant(trained, "fp32", store=store, dataset=dataset)
    res = push_and_run([conv.path], target=target, protocol="smoke", runs=runs, workspace=workspace)
    ok = [r.latency.median_us for r in res.records if r.status == "ok" and r.latency and r.latency.median_us]
    if not ok:
        raise RuntimeError(f"no latency measured for {conv.path}")
    return trained.val_accuracy, float(conv.size_bytes), float(statistics.median(ok))


def keras_tuner_points(spec, *, seed, trials, weight, store, dataset, workspace, target, runs):
    import keras_tuner as kt

    from edgebench.tune.space import tunable

    acc0, size0, lat0 = evaluate(spec, {}, store=store, dataset=dataset, workspace=workspace, target=target, runs=runs)
    hp = kt.HyperParameters()
    for d in tunable(spec):
        if d.choices is not None:
            hp.Choice(d.name, list(d.choices))
        elif d.kind == "int":
            hp.Int(d.name, int(d.low), int(d.high), sampling="log" if d.log else "linear")
        else:
            hp.Float(d.name, float(d.low), float(d.high), sampling="log" if d.log else "linear")
    points: list[tuple[float, float, float]] = []

    class WeightedSum(kt.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):  # no Keras model of KT's own: score edgebench's way
            try:
                acc, size, lat = evaluate(spec, dict(trial.hyperparameters.values), store=store, dataset=dataset,
                                          workspace=workspace, target=target, runs=runs)
            except Exception as exc:  # a failing trial scores worst, as in edgebench's study
                print(f"keras-tuner trial failed: {exc}", file=sys.stderr)
                return {"score": 1e9}
            points.append((acc, size, lat))
            return {"score": (1 - acc) + weight * lat / lat0 + weight * size / size0}

    tuner = WeightedSum(hyperparameters=hp, objective=kt.Objective("score", "min"), max_trials=trials, seed=seed,
                        directory=tempfile.mkdtemp(prefix="kt-"), project_name="weighted", overwrite=True)
    tuner.search()
    return points


def edgebench_points(spec, *, seed, trials, sampler, store, dataset, workspace, target, runs):
    from edgebench.tune import run_tuning

    res = run_tuning(spec, store=store, workspace=workspace, objectives="multi", sampler=sampler, trials=trials,
                     seed=seed, dataset=dataset, target=target, runs=runs,
                     storage=f"sqlite:///{Path(workspace) / f'bench-seed{seed}.sqlite'}", log=lambda _: None)
    return [(t.values[0], t.values[1], t.values[2]) for t in res.trials if t.state == "COMPLETE"]


def hv(points, ref_lat, ref_size):
    import numpy as np

    from edgebench.analyze.fronts import hypervolume
    from edgebench.analyze.objectives import parse_objectives

    if not points:
        return 0.0
    objectives = parse_objectives("accuracy:max,latency:min,size:min")
    return hypervolume(np.array([(a, lat, size) for a, size, lat in points], dtype=float), objectives,
                       np.array([0.0, ref_lat, ref_size]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default=str(ROOT / "models" / "cnn_image.toml"))
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--weight", type=float, default=0.1, help="weight of latency/latency0 and size/size0")
    ap.add_argument("--target", default="local")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--workspace", default=None)
    ap.add_argument("--sampler", default=None, help="edgebench's multi-objective sampler (default: edgebench's default)")
    args = ap.parse_args()

    from edgebench.datasets.loaders import data_root, load_dataset
    from edgebench.spec import load_spec
    from edgebench.train import ArtifactStore

    spec = load_spec(args.spec, "smoke")
    ws = Path(args.workspace or tempfile.mkdtemp(prefix="tuning-eff-"))
    store = ArtifactStore(ws / "artifacts")
    dataset = load_dataset(spec.dataset, data_root(None, ws), where=spec.source)
    common = dict(store=store, dataset=dataset, workspace=ws, target=args.target, runs=args.runs)
    ratios = []
    for seed in (int(s) for s in args.seeds.split(",")):
        from edgebench.tune.study import DEFAULT_MULTI_SAMPLER

        ours = edgebench_points(spec, seed=seed, trials=args.trials, sampler=args.sampler or DEFAULT_MULTI_SAMPLER,
                                **common)
        theirs = keras_tuner_points(spec, seed=seed, trials=args.trials, weight=args.weight, **common)
        both = ours + theirs
        ref_lat, ref_size = 2 * max(p[2] for p in both), 2 * max(p[1] for p in both)
        a, b = hv(ours, ref_lat, ref_size), hv(theirs, ref_lat, ref_size)
        ratio = a / b if b else float("inf")
        ratios.append(ratio)
        print(f"seed {seed}: edgebench {len(ours)} trials HV {a:.6g}; keras-tuner {len(theirs)} trials HV {b:.6g}; "
              f"ratio {ratio:.3f}", flush=True)
    print(f"hypervolume ratio edgebench / keras-tuner over {len(ratios)} seed(s), {args.trials} trials each: "
          f"median {statistics.median(ratios):.3f} (per seed: {', '.join(f'{r:.3f}' for r in ratios)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
