"""Train one zoo model from a spec: a pure function from (spec, hyperparameters, seed, data) to a record.

`train_model` is what `edgebench train` runs once and what a tuner calls per trial: pass the
loaded `Dataset` to skip reloading, and `on_epoch_end(epoch, logs)` to report or prune (an
exception raised there stops training and nothing is written).
"""
from __future__ import annotations

import os
import time
from typing import Any, Mapping

from edgebench.datasets.base import Dataset, DatasetError
from edgebench.datasets.loaders import load_dataset
from edgebench.errors import UsageError
from edgebench.spec import StudySpec
from edgebench.spec.selective_backprop import BETA_DIMENSION
from edgebench.store.artifacts import ArtifactStore, TrainedModel, key, utc_now
from edgebench.zoo._tf import load_tf
from edgebench.zoo.keras_io import EpochCallback, accuracy, fit, one_hot, save_keras, versions
from edgebench.zoo.registry import Architecture

TRAIN_FORMAT = 1  # bump when training code changes what a given key would produce


def check_dataset(arch: Architecture, dataset: Dataset, where: str) -> None:
    """The dataset fits the architecture's input; a DatasetError naming both otherwise."""
    shape = dataset.input_shape
    if dataset.task != arch.task:
        raise DatasetError(f"{where}: dataset {dataset.spec.loader!r} gives {dataset.task} data of shape {list(shape)}, "
                           f"but {arch.name} takes {arch.task} data; pick a {arch.task} loader")
    if arch.task == "image" and (len(shape) != 3 or shape[-1] not in (1, 3)):
        raise DatasetError(f"{where}: {arch.name} takes images [H, W, 1 or 3]; dataset {dataset.spec.loader!r} "
                           f"gives {list(shape)}")
    if arch.task == "text" and (len(shape) != 1 or not dataset.vocab_size):
        raise DatasetError(f"{where}: {arch.name} takes token sequences [T] with a vocabulary; dataset "
                           f"{dataset.spec.loader!r} gives {list(shape)} (vocabulary {dataset.vocab_size})")


def trained_id(spec: StudySpec, hyperparameters: Mapping[str, Any], seed: int, data_hash: str) -> str:
    payload = {"kind": "trained", "format": TRAIN_FORMAT, "architecture": spec.architecture,
               "options": spec.model_options, "hyperparameters": dict(hyperparameters), "seed": seed,
               "data": data_hash}
    sb = spec.selective_backprop_for(hyperparameters)
    if sb is not None:  # only then: the ids of standard training stay what they were
        payload["selective_backprop"] = sb.to_json()
    return key(payload)


def train_model(spec: StudySpec, hyperparameters: Mapping[str, Any] | None = None, *, store: ArtifactStore,
                seed: int | None = None, dataset: Dataset | None = None,
                data_dir: str | os.PathLike[str] | None = None, on_epoch_end: EpochCallback | None = None,
                reuse: bool = True, verbose: int = 0) -> TrainedModel:
    """Train `spec`'s model with its defaults overridden by `hyperparameters` (each must lie in the
    spec's search space) and store it. With `reuse`, an artifact with the same id is returned
    without training (and without calling `on_epoch_end`)."""
    hparams = spec.resolve_hyperparameters(hyperparameters)
    seed = spec.seed if seed is None else seed
    where = f"{spec.source}: dataset"
    if dataset is None:
        dataset = load_dataset(spec.dataset, data_dir, where=where)
    elif dataset.spec != spec.dataset:
        raise DatasetError(f"{where}: the dataset passed in was loaded from {dataset.spec}, not from this spec's "
                           f"{spec.dataset}")
    arch = spec.arch
    check_dataset(arch, dataset, where)
    artifact_id = trained_id(spec, hparams, seed, dataset.data_hash)
    if reuse and store.exists("trained", artifact_id):
        return store.load("trained", artifact_id)  # type: ignore[return-value]

    tf = load_tf()
    start = time.perf_counter()
    sb = spec.selective_backprop_for(hparams)
    model_hparams = {k: v for k, v in hparams.items() if k != BETA_DIMENSION}
    try:
        model = arch.build(model_hparams, input_shape=dataset.input_shape, num_classes=dataset.num_classes,
                           vocab_size=dataset.vocab_size, options=spec.model_options, seed=seed)
    except UsageError as exc:  # shape mismatches found by the builder: say which spec
        raise UsageError(f"{spec.source} (budget {spec.budget}): {exc}") from None
    sb_record: dict[str, Any] | None = None
    if sb is None:
        history = fit(model, dataset, batch_size=int(hparams["batch_size"]), epochs=int(hparams["epochs"]),
                      on_epoch_end=on_epoch_end, verbose=verbose, tf=tf)
    else:
        from edgebench.train.sb_loop import fit_selective_backprop

        validation = (dataset.x_val, one_hot(dataset.y_val, dataset.num_classes)) if len(dataset.x_val) else None
        result = fit_selective_backprop(model, dataset.x_train, one_hot(dataset.y_train, dataset.num_classes),
                                        settings=sb, batch_size=int(hparams["batch_size"]),
                                        epochs=int(hparams["epochs"]), validation_data=validation, seed=seed,
                                        on_epoch_end=on_epoch_end, tf=tf)
        history = result.history
        sb_record = {"settings": sb.to_json(), "lr_schedule": result.lr_schedule, "totals": result.summary(),
                     "epochs": [e.to_json() for e in result.epochs]}
    seconds = time.perf_counter() - start
    val_acc = accuracy(model, dataset.x_val, dataset.y_val) if len(dataset.x_val) else None
    test_acc = accuracy(model, dataset.x_test, dataset.y_test)

    def make_record(path: Any) -> TrainedModel:
        return TrainedModel(
            artifact_id=artifact_id, architecture=arch.name, hyperparameters=hparams,
            model_options=dict(spec.model_options), seed=seed, dataset=dataset.info(), spec=spec.to_json(),
            parameter_count=int(model.count_params()), val_accuracy=val_acc, test_accuracy=test_acc,
            epochs_run=len(history.get("loss", [])), history=history, train_seconds=round(seconds, 3),
            created_utc=utc_now(), versions=versions(), path=path, selective_backprop=sb_record)

    return store.put("trained", artifact_id, lambda p: save_keras(model, p), make_record)  # type: ignore[return-value]
