"""`edgebench train SPEC [--budget full|smoke] [--set NAME=VALUE]... [--selective-backprop beta=3,...]`: train
one model of a study spec.

Trains the spec's default hyperparameters (each --set must lie in the spec's search space) and
stores a content-addressed artifact under <workspace>/artifacts/trained/. The same spec,
hyperparameters, seed and data give the same id: a stored model is reused unless --retrain.
"""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edgebench.spec import StudySpec


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC", help="study spec (TOML), e.g. models/cnn_image.toml")
    parser.add_argument("--budget", default="full",
                        help="which [budget.X] of the spec to apply: smoke (minutes on 2 cores) or full (default)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="NAME=VALUE",
                        help="hyperparameter value instead of the spec's default (repeatable)")
    parser.add_argument("--seed", type=int, default=None, help="training seed (default: the spec's)")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="where dataset paths point (default: $EDGEBENCH_DATA or <workspace>/datasets)")
    parser.add_argument("--selective-backprop", default=None, metavar="beta=B[,history=N,staleness=S,lr_by=L]",
                        help="train with Selective-Backprop (over the spec's [train.selective_backprop], if any): "
                             "beta > 0 (backprops ~1/(beta+1) of the examples), history (recent losses, default "
                             "1024), staleness (0 = off; n = Stale-SB), lr_by backpropagated|analyzed")
    parser.add_argument("--retrain", action="store_true", help="train even if this exact model is stored")
    parser.add_argument("--json", action="store_true", help="print the artifact record as JSON")


def parse_overrides(spec: StudySpec, items: list[str]) -> dict[str, Any]:
    """NAME=VALUE pairs typed by the hyperparameter's own type."""
    from edgebench.errors import UsageError

    out: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--set {item!r}: expected NAME=VALUE, e.g. --set filters=24")
        if name == "selective_backprop.beta" and name not in {d.name for d in spec.search_space}:
            raise UsageError(f"--set {item!r}: this spec does not search Selective-Backprop's beta; give it with "
                             f"--selective-backprop beta={text.strip()}")
        try:
            hdef = spec.hyperparameter_def(name)
        except KeyError:
            names = ", ".join(d.name for d in spec.search_space)
            raise UsageError(f"--set {item!r}: unknown hyperparameter {name!r} for {spec.architecture}; "
                             f"allowed: {names}") from None
        try:
            out[name] = hdef.value_type(text.strip()) if hdef.value_type is not int else int(text.strip())
        except ValueError:
            raise UsageError(f"--set {item!r}: {name} takes {hdef.value_type.__name__} values "
                             f"({hdef.describe_domain()}), got {text!r}") from None
    return out


def apply_selective_backprop(spec: StudySpec, text: str | None, overrides: dict[str, Any]) -> StudySpec:
    """The spec with --selective-backprop's settings; a beta the spec tunes goes into `overrides`
    (and must then lie in its search space)."""
    import dataclasses

    from edgebench.spec.selective_backprop import BETA_DIMENSION, parse_cli

    if text is None:
        return spec
    settings, beta_given = parse_cli(text, spec.selective_backprop)
    searched = any(d.name == BETA_DIMENSION for d in spec.search_space)
    if searched and beta_given:
        overrides[BETA_DIMENSION] = settings.beta
    return dataclasses.replace(spec, selective_backprop=settings)


def run(args: argparse.Namespace) -> int:
    from edgebench.datasets import load_dataset
    from edgebench.datasets.loaders import data_root
    from edgebench.spec import load_spec
    from edgebench.train import ArtifactStore, train_model
    from edgebench.train.report import describe_trained, dump_json, epoch_printer
    from edgebench.train.trainer import check_dataset, trained_id
    from edgebench.workspace import Workspace

    spec = load_spec(args.spec, args.budget)
    overrides = parse_overrides(spec, args.overrides)
    spec = apply_selective_backprop(spec, args.selective_backprop, overrides)
    hparams = spec.resolve_hyperparameters(overrides)
    ws = Workspace.resolve(args.workspace)
    store = ArtifactStore.for_workspace(ws)
    data_dir = data_root(args.data_dir, ws.root)
    dataset = load_dataset(spec.dataset, data_dir, where=f"{spec.source}: dataset")
    check_dataset(spec.arch, dataset, f"{spec.source}: dataset")
    seed = spec.seed if args.seed is None else args.seed
    reused = not args.retrain and store.exists("trained", trained_id(spec, hparams, seed, dataset.data_hash))
    if not reused and not args.json:
        sb = spec.selective_backprop_for(hparams)
        how = f", Selective-Backprop ({sb.describe()})" if sb else ""
        print(f"training {spec.name} ({spec.budget}) on {dataset.info().loader}: "
              f"{len(dataset.x_train)} examples, {hparams['epochs']} epoch(s){how}", file=sys.stderr, flush=True)
    record = train_model(spec, hparams, store=store, seed=seed, dataset=dataset, reuse=not args.retrain,
                         on_epoch_end=None if args.json else epoch_printer(int(hparams["epochs"]), sys.stderr))
    from edgebench.lineage import record_in_workspace

    sb_note = f" --selective-backprop {args.selective_backprop}" if args.selective_backprop else ""
    record_in_workspace(ws.root, store, [record],
                        note=f"edgebench train {spec.source} --budget {spec.budget}{sb_note}")
    print(dump_json([record]) if args.json else describe_trained(record, reused))
    return 0
