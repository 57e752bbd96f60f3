"""`edgebench study run SPEC [--budget smoke|full] [--target local|SERIAL|lab[:KEY=VALUE]] [--resume] [--variants-for W]`.

Train the default model, tune, build the optimization variants of the default model and the best
trial(s) (`--variants-for default|best|all`: only the default model, or every trial's), measure them all in one
push-and-run session, and write a self-contained HTML report (path printed).
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from edgebench.cli.tune_cmd import add_tuning_arguments
    from edgebench.study.candidates import VARIANTS_FOR

    parser.add_argument("action", choices=("run",), help="run: the whole study pipeline")
    parser.add_argument("spec", metavar="SPEC", help="study spec (TOML), e.g. models/cnn_image.toml")
    add_tuning_arguments(parser)
    parser.add_argument("--protocol", default="smoke", help="measurement protocol for the variants (default: smoke)")
    parser.add_argument("--variants", default=None, metavar="A,B",
                        help="variants to build (default: the spec's plus fp32, dynamic_range, float16, int8)")
    parser.add_argument("--variants-for", default="best", choices=VARIANTS_FOR,
                        help="which trained models get the variants: default = the spec-default model only; "
                             "best = it and the tuning's best trials (default); all = every finished trial's "
                             "model, for hyperparameter effects on optimized models")


def run(args: argparse.Namespace) -> int:
    from edgebench.cli.console import wide_console

    from edgebench.cli.progress import StageProgress
    from edgebench.spec import load_spec
    from edgebench.study.run import run_study

    spec = load_spec(args.spec, args.budget)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()] if args.variants else None
    console = wide_console(stderr=True, min_width=180)  # logs and CI: one line per message
    with StageProgress(console) as progress:
        result = run_study(spec, workspace=args.workspace, target=args.target, resume=args.resume,
                           objectives=args.objectives, sampler=args.sampler, trials=args.trials,
                           storage=args.storage, join=args.join, heartbeat_s=args.heartbeat_s,
                           grace_s=args.grace_s, runs=args.runs, protocol=args.protocol, variants=variants,
                           variants_for=args.variants_for,
                           data_dir=args.data_dir, latency_from=args.latency_from,
                           energy_from=args.energy_from, log=progress.log, on_step=progress.step)
    measured = sum(r.status == "measured" for r in result.rows)
    failed = [r for r in result.rows if r.status != "measured"]
    print(f"study {result.spec_name} ({result.budget}) on {result.target}: {measured}/{len(result.rows)} "
          f"variant(s) measured, session {result.session}")
    for r in failed:
        print(f"  {r.source} {r.variant or '(no variant)'}: {r.status}: {r.problem}")
    from edgebench.study.table import study_table

    print(study_table(result.rows))
    print(result.report_path)
    return 0 if measured else 1
