"""`edgebench optimize TRAINED_ID [--variant T]...`: training-time optimizations of a trained model.

Applies magnitude pruning (prune:S), 2:4 pruning (prune_2_4), weight clustering (cluster:N) or
quantization-aware training (qat) with TF-MOT, fine-tunes, and stores each result under
<workspace>/artifacts/transformed/. Without --variant, the transforms listed in the spec's
[optimize] variants are applied. Conversion to .tflite is `edgebench convert`.
"""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from edgebench.optimize import Transform
    from edgebench.store.artifacts import ArtifactStore, TrainedModel


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("artifact", metavar="TRAINED_ID", help="id (or unique prefix) of a trained model")
    parser.add_argument("--variant", action="append", default=[], metavar="T",
                        help="prune:S | prune_2_4 | cluster:N | qat (repeatable; default: the spec's)")
    parser.add_argument("--finetune-epochs", type=int, default=None, help="default: the spec's [optimize]")
    parser.add_argument("--lr-scale", type=float, default=None,
                        help="fine-tuning learning rate = trained learning rate x this (default: the spec's)")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="where dataset paths point (default: $EDGEBENCH_DATA or <workspace>/datasets)")
    parser.add_argument("--redo", action="store_true", help="fine-tune again even if the result is stored")
    parser.add_argument("--json", action="store_true", help="print the artifact records as JSON")


def run(args: argparse.Namespace) -> int:
    from edgebench.datasets.loaders import data_root
    from edgebench.errors import UsageError
    from edgebench.optimize import Recipe, Transform, check_recipe
    from edgebench.optimize.pipeline import dataset_for, transform_model
    from edgebench.train import ArtifactStore
    from edgebench.train.report import describe_transformed, dump_json
    from edgebench.workspace import Workspace

    ws = Workspace.resolve(args.workspace)
    store = ArtifactStore.for_workspace(ws)
    trained = cast("TrainedModel", store.resolve(args.artifact, kinds=("trained",)))  # the kind asked for
    if args.variant:
        transforms = []
        for text in args.variant:
            if "+" in text:
                raise UsageError(f"--variant {text!r}: give the training-time transform only (prune:S, prune_2_4, "
                                 f"cluster:N, qat); quantization is `edgebench convert --quantize`")
            transforms.append(Transform.parse(text))
    else:
        recipes = [Recipe.parse(v) for v in trained.spec["optimize"]["variants"]]
        transforms = list({r.transform.name: r.transform for r in recipes if r.transform}.values())
        if not transforms:
            print("the spec's [optimize] variants list no training-time transform; nothing to do "
                  "(convert the trained model directly with edgebench convert)", file=sys.stderr)
            return 0
    for t in transforms:  # refuse inapplicable ones before any work
        check_recipe(trained.architecture, Recipe(t, "int8" if t.kind == "qat" else "fp32"))
    dataset = dataset_for(trained, data_dir=data_root(args.data_dir, ws.root))
    records = []
    for t in transforms:
        reused = not args.redo and _stored(store, trained, t, args)
        if not args.json and not reused:
            print(f"{t.name}: fine-tuning {trained.architecture} {trained.artifact_id[:12]}", file=sys.stderr, flush=True)
        r = transform_model(trained, t, store=store, dataset=dataset, finetune_epochs=args.finetune_epochs,
                            learning_rate_scale=args.lr_scale, reuse=not args.redo)
        records.append(r)
        if not args.json:
            print(describe_transformed(r, reused))
    from edgebench.lineage import record_in_workspace

    record_in_workspace(ws.root, store, records)
    if args.json:
        print(dump_json(records))
    return 0


def _stored(store: ArtifactStore, trained: TrainedModel, transform: Transform, args: argparse.Namespace) -> bool:
    # Cheap check for the "reused" label: the same id transform_model would compute.
    from edgebench.optimize.pipeline import TRANSFORM_FORMAT
    from edgebench.store.artifacts import key

    plan = trained.spec["optimize"]
    epochs = args.finetune_epochs if args.finetune_epochs is not None else plan["finetune_epochs"]
    scale = args.lr_scale if args.lr_scale is not None else plan["finetune_learning_rate_scale"]
    lr = float(trained.hyperparameters["learning_rate"]) * float(scale)
    artifact_id = key({"kind": "transformed", "format": TRANSFORM_FORMAT, "parent": trained.artifact_id,
                       "transform": transform.name, "epochs": int(epochs), "learning_rate": lr, "seed": trained.seed})
    return bool(store.exists("transformed", artifact_id))
