"""`edgebench tune SPEC [--budget smoke|full] [--sampler S] [--objectives accuracy|multi] [--resume]`.

Runs the tuning stage alone: an Optuna study stored in <workspace>/optuna.sqlite (or --storage URL),
named from the spec's hash, so --resume continues it without redoing finished trials.
"""
from __future__ import annotations

import argparse


def add_tuning_arguments(parser: argparse.ArgumentParser) -> None:
    from edgebench.tune.study import DEFAULT_MULTI_SAMPLER  # no TensorFlow, no Optuna at import

    parser.add_argument("--budget", default="full", help="which [budget.X] of the spec: smoke or full (default)")
    parser.add_argument("--objectives", choices=("accuracy", "multi"), default="accuracy",
                        help="accuracy: validation accuracy alone (default); multi: accuracy, .tflite size and "
                             "on-device latency (each trial converted to fp32 and timed on --target)")
    parser.add_argument("--sampler", default=None,
                        help="accuracy: tpe, random, grid, bohb (TPE + Hyperband pruning); multi: nsga2, tpe, "
                             "random (default: the spec's sampler; for multi, "
                             f"{DEFAULT_MULTI_SAMPLER})")
    parser.add_argument("--trials", type=int, default=None, help="total trials (default: the spec's budget)")
    parser.add_argument("--target", default="local", help="where latency is measured (multi-objective trials; study variants): local or an adb serial")
    parser.add_argument("--runs", type=int, default=None, help="timed inferences per run (default: the smoke protocol's)")
    parser.add_argument("--storage", default=None, metavar="URL",
                        help="Optuna storage URL (default: sqlite:///<workspace>/optuna.sqlite)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the stored study of this spec (default: start it over)")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="where dataset paths point (default: $EDGEBENCH_DATA or <workspace>/datasets)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC", help="study spec (TOML), e.g. models/cnn_image.toml")
    add_tuning_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from edgebench.datasets.loaders import data_root
    from edgebench.spec import load_spec
    from edgebench.train import ArtifactStore
    from edgebench.tune import run_tuning
    from edgebench.workspace import Workspace

    spec = load_spec(args.spec, args.budget)
    ws = Workspace.resolve(args.workspace)
    result = run_tuning(spec, store=ArtifactStore.for_workspace(ws), workspace=ws.root, objectives=args.objectives,
                        sampler=args.sampler, trials=args.trials, storage=args.storage, resume=args.resume,
                        data_dir=data_root(args.data_dir, ws.root), target=args.target, runs=args.runs)
    print(f"study {result.study_name} ({result.storage}): {len(result.trials)} trial(s), {result.ran_now} run now")
    for t in result.trials:
        values = ", ".join(f"{v:.6g}" for v in t.values) if t.values else "—"
        extra = f"  failure: {t.failure}" if t.failure else ""
        print(f"  #{t.number:<3} {t.state:<8} [{values}] {t.params}{extra}")
    label = "non-dominated" if args.objectives == "multi" else "best"
    print(f"{label}: " + (", ".join(f"#{t.number} ({t.trained_id[:12] if t.trained_id else '—'})"
                                   for t in result.best) or "none (no trial completed)"))
    return 0 if result.best else 1
