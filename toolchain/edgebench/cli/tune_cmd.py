"""`edgebench tune SPEC [--budget smoke|full] [--sampler S] [--objectives accuracy|multi|accuracy,latency,energy,size]
[--latency-from device|model:PATH] [--energy-from device|model:PATH] [--resume | --join] [--json]`.

Runs the tuning stage alone: an Optuna study stored in <workspace>/optuna.sqlite (or --storage URL),
named from the spec's hash, so --resume continues it without redoing finished trials, and --join lets
workers on several hosts share it on PostgreSQL (heartbeats; a dead worker's trial is retried).
"""
from __future__ import annotations

import argparse
import json
from typing import Any


def add_tuning_arguments(parser: argparse.ArgumentParser) -> None:
    from edgebench.tune.study import DEFAULT_MULTI_SAMPLER  # no TensorFlow, no Optuna at import

    parser.add_argument("--budget", default="full", help="which [budget.X] of the spec: smoke or full (default)")
    parser.add_argument("--objectives", default="accuracy", metavar="accuracy|multi|LIST",
                        help="accuracy: validation accuracy alone (default); or a comma list of accuracy (required), "
                             "latency (median µs of the fp32 .tflite on --target), energy (mJ per inference) and "
                             "size (.tflite bytes); values in the listed order. multi = accuracy,size,latency")
    parser.add_argument("--latency-from", default=None, metavar="device|model:PATH",
                        help="device: time every trial on --target (default); model:PATH: a saved performance "
                             "model predicts each trial's latency and only trials near the measured front are "
                             "timed (predicted figures are marked predicted)")
    parser.add_argument("--energy-from", default=None, metavar="device|model:PATH",
                        help="with energy among --objectives: model:PATH predicts energy per inference; device is "
                             "refused (tuning's short runs record no energy; the battery protocol takes minutes)")
    parser.add_argument("--sampler", default=None,
                        help="accuracy: tpe, random, grid, bohb (TPE + Hyperband pruning); multi: nsga2, tpe, "
                             "random (default: the spec's sampler; for multi, "
                             f"{DEFAULT_MULTI_SAMPLER})")
    parser.add_argument("--trials", type=int, default=None,
                        help="finished trials the study ends with, counting every worker's (default: the spec's "
                             "budget); a trial whose worker died is retried and counted once")
    parser.add_argument("--target", default="local", help="where latency is measured (multi-objective trials; study run's variants): local, an adb serial, or the phones of "
                             "a lab: lab (every live device) or lab:KEY=VALUE[,...], e.g. 'lab:model=Pixel 8' "
                             "(each trial's model goes through `edgebench lab`'s queue; needs --store postgresql...)")
    parser.add_argument("--runs", type=int, default=None, help="timed inferences per run (default: the smoke protocol's)")
    parser.add_argument("--storage", default=None, metavar="URL",
                        help="Optuna storage: sqlite:///PATH (default: sqlite:///<workspace>/optuna.sqlite) or "
                             "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE, shared by the workers of a lab")
    parser.add_argument("--resume", action="store_true",
                        help="continue the stored study of this spec alone; trials left running are retried "
                             "(default: start it over in a SQLite file; in a server database an existing study is "
                             "never replaced)")
    parser.add_argument("--join", action="store_true",
                        help="work on the study beside other workers (any host, same --storage and spec), creating "
                             "it if missing: together they end with --trials finished trials")
    parser.add_argument("--heartbeat-s", type=whole_seconds, default=None, metavar="S",
                        help="seconds between a worker's heartbeats for its running trial (default: 10)")
    parser.add_argument("--grace-s", type=whole_seconds, default=None, metavar="S",
                        help="seconds without a heartbeat after which a trial's worker counts as dead: the trial "
                             "is failed and retried by a live worker (default: 3 heartbeats)")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="where dataset paths point (default: $EDGEBENCH_DATA or <workspace>/datasets)")


def whole_seconds(text: str) -> int:
    """A whole number of seconds >= 1 (Optuna's heartbeats take whole seconds)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of seconds, at least 1; received {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC", help="study spec (TOML), e.g. models/cnn_image.toml")
    add_tuning_arguments(parser)
    parser.add_argument("--json", action="store_true",
                        help="print the study as JSON: each value with its source (measured | predicted)")


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
                        join=args.join, heartbeat_s=args.heartbeat_s, grace_s=args.grace_s,
                        data_dir=data_root(args.data_dir, ws.root), target=args.target, runs=args.runs,
                        latency_from=args.latency_from, energy_from=args.energy_from)
    if args.json:
        print(json.dumps(result_json(result), indent=2, default=str))
        return 0 if result.best else 1
    from edgebench.tune.objectives import format_values, front_label

    names = result.objective_names
    measured = sum(t.state == "COMPLETE" and t.attrs.get("latency_source", "measured") == "measured"
                   for t in result.trials)
    complete = sum(t.state == "COMPLETE" for t in result.trials)
    print(f"study {result.study_name} ({result.storage}): {len(result.trials)} trial(s), {result.ran_now} run now; "
          f"values: {', '.join(names)}")
    if "latency" in names and any(origin != "device" for _, origin in result.figure_sources):
        print(f"  latency measured on the device for {measured} of {complete} complete trial(s); predicted figures "
              "are marked predicted (" + ", ".join(f"{f} from {o}" for f, o in result.figure_sources) + ")")
    for t in result.trials:
        extra = f"  failure: {t.failure}" if t.failure else ""
        print(f"  #{t.number:<3} {t.state:<8} [{format_values(t.values, names, t.sources)}] {t.params}{extra}")
    label = front_label(names, result.figure_sources)
    print(f"{label}: " + (", ".join(f"#{t.number} ({t.trained_id[:12] if t.trained_id else '—'})"
                                   for t in result.best) or "none (no trial completed)"))
    return 0 if result.best else 1


def result_json(result: Any) -> dict[str, Any]:
    """`tune --json`: every trial with each value's source (measured | predicted) beside it."""
    def trial(t: Any) -> dict[str, Any]:
        values = None if t.values is None else [
            {"objective": n, "value": v, "source": s} for n, v, s in zip(result.objective_names, t.values,
                                                                         t.sources or ("measured",) * len(t.values))]
        return {"number": t.number, "state": t.state, "params": t.params, "values": values,
                "trained_id": t.trained_id, "failure": t.failure, "screening": t.attrs.get("screening")}

    return {"study_name": result.study_name, "storage": result.storage, "objectives": list(result.objective_names),
            "figure_sources": dict(result.figure_sources), "sampler": result.sampler, "ran_now": result.ran_now,
            "trials": [trial(t) for t in result.trials], "best": [t.number for t in result.best]}
