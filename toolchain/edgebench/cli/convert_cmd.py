"""`edgebench convert ARTIFACT... [--quantize Q,...]`: .tflite variants, validated on this host.

Converts trained or transformed (pruned, clustered, QAT) models with the LiteRT converter (fp32,
dynamic_range, float16, int8 calibrated on training data; builtin ops only), runs each on the
test split with LiteRT, and stores it under <workspace>/artifacts/converted/<sha256>/ with a
record: accuracy, agreement with Keras, size raw and gzipped, ops, FLOPs. Without --quantize, the
quantizations the spec's [optimize] variants pair with the artifact's transform are made.
"""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from edgebench.store.artifacts import TrainedModel, TransformedModel


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("artifacts", nargs="+", metavar="ARTIFACT", help="id (or unique prefix) of a trained or "
                        "transformed model")
    parser.add_argument("--quantize", default=None, metavar="Q[,Q...]",
                        help="fp32, dynamic_range, float16, int8 (default: the spec's variants)")
    parser.add_argument("--lstm", choices=("unrolled", "fused"), default=None,
                        help="LSTM lowering: unrolled plain ops (runs in LiteRT's CompiledModel) or the fused "
                             "UNIDIRECTIONAL_SEQUENCE_LSTM (classic Interpreter only); default: the spec's")
    parser.add_argument("--calibration-samples", type=int, default=None, metavar="N",
                        help="training examples that calibrate int8 (default: the spec's)")
    parser.add_argument("--validation-samples", type=int, default=None, metavar="N",
                        help="test examples run through LiteRT (default: the spec's, else all)")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="where dataset paths point (default: $EDGEBENCH_DATA or <workspace>/datasets)")
    parser.add_argument("--redo", action="store_true", help="convert again even if this variant is stored")
    parser.add_argument("--json", action="store_true", help="print the artifact records as JSON")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from edgebench.cli.progress import StageProgress
    from edgebench.datasets.loaders import data_root
    from edgebench.errors import UsageError
    from edgebench.optimize import QUANTIZATIONS, Recipe, check_recipe
    from edgebench.optimize.pipeline import convert_model, dataset_for, root_of
    from edgebench.study.run import StudyStep
    from edgebench.train import ArtifactStore
    from edgebench.train.report import converted_table, dump_json
    from edgebench.workspace import Workspace

    for name, value in (("--calibration-samples", args.calibration_samples),
                        ("--validation-samples", args.validation_samples)):
        if value is not None and value < 1:
            raise UsageError(f"{name} must be at least 1, got {value}")
    ws = Workspace.resolve(args.workspace)
    store = ArtifactStore.for_workspace(ws)
    sources = [cast("TrainedModel | TransformedModel", store.resolve(ref, kinds=("trained", "transformed")))
               for ref in args.artifacts]  # the kinds asked for
    wanted = None
    if args.quantize:
        wanted = [q.strip() for q in args.quantize.split(",") if q.strip()]
        bad = [q for q in wanted if q not in QUANTIZATIONS]
        if bad or not wanted:
            raise UsageError(f"--quantize {args.quantize!r}: unknown {', '.join(bad) or 'empty list'}; "
                             f"allowed: {', '.join(QUANTIZATIONS)}")
    jobs = []
    for source in sources:  # check every job before converting anything
        trained = root_of(source, store)
        transform = getattr(source, "transform", None)
        quantizations = wanted or _spec_quantizations(trained, transform)
        for q in quantizations:
            recipe = Recipe.parse(f"{transform}+{q}" if transform else q)
            check_recipe(trained.architecture, recipe)
            jobs.append((source, trained, q))
    data_dir = data_root(args.data_dir, ws.root)
    datasets: dict[str, Any] = {}
    records = []
    with StageProgress(Console(stderr=True)) as progress:  # a bar naming model, artifact, variant, stage
        for done, (source, trained, q) in enumerate(jobs):
            if trained.artifact_id not in datasets:
                datasets[trained.artifact_id] = dataset_for(trained, data_dir=data_dir)
            label = getattr(source, "transform", None) or "trained"
            if not args.json:
                progress.log(f"converting {trained.architecture} {source.artifact_id[:12]} ({label}) -> {q}")
            progress.step(StudyStep("convert", trained.architecture, f"{label} {source.artifact_id[:12]}", q,
                                    "this host", "convert, validate with LiteRT", done, len(jobs)))
            records.append(convert_model(source, q, store=store, dataset=datasets[trained.artifact_id],
                                         lstm_lowering=args.lstm, calibration_samples=args.calibration_samples,
                                         validation_samples=args.validation_samples, reuse=not args.redo))
    from edgebench.lineage import record_in_workspace

    record_in_workspace(ws.root, store, records)
    print(dump_json(records) if args.json else converted_table(records))
    return 0


def _spec_quantizations(trained: TrainedModel, transform: str | None) -> list[str]:
    from edgebench.optimize import Recipe

    out = []
    for text in trained.spec["optimize"]["variants"]:
        r = Recipe.parse(text)
        if (r.transform.name if r.transform else None) == transform and r.quantization not in out:
            out.append(r.quantization)
    return out or (["int8"] if transform == "qat" else ["fp32"])
