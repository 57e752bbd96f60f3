"""The optimize and convert stages as pure functions over artifact records.

    transform_model(trained, "prune:0.5", store=...)      -> TransformedModel   (`edgebench optimize`)
    convert_model(trained_or_transformed, "int8", store=...) -> ConvertedModel  (`edgebench convert`)
    build_variant(trained, "prune:0.5+int8", store=...)   -> ConvertedModel     (both, cached)

Defaults (fine-tuning epochs, learning-rate scale, calibration and validation sample counts, LSTM
lowering) come from the `[optimize]` table of the spec the model was trained from; keyword
arguments override them. The data is reloaded from that spec and must hash as it did at training.
"""
from __future__ import annotations

import hashlib
import math
import os
import time
import uuid
from pathlib import Path
from typing import Any, cast

import numpy as np

from edgebench.datasets.base import Dataset, DatasetError, DatasetSpec
from edgebench.datasets.loaders import load_dataset
from edgebench.optimize.applicability import TABLE, check_recipe
from edgebench.optimize.convert import to_tflite
from edgebench.optimize.lq_recipes import PREFIX as LQ_PREFIX
from edgebench.optimize.recipes import Recipe, RecipeError, Transform
from edgebench.optimize.transforms import apply, load_keras, qat_scope, weight_stats
from edgebench.optimize.validate import gzip_size, validate
from edgebench.store.artifacts import (ArtifactStore, ConvertedModel, TrainedModel, TransformedModel, key,
                                       utc_now)
from edgebench.zoo.common import compile_model, start
from edgebench.zoo.keras_io import accuracy, fit, predict, save_keras, versions
from edgebench.zoo.registry import ARCHITECTURES

TRANSFORM_FORMAT = 1
CONVERT_FORMAT = 1
DataDir = str | os.PathLike[str] | None


def dataset_for(trained: TrainedModel, dataset: Dataset | None = None, data_dir: DataDir = None) -> Dataset:
    """The data `trained` was trained on, reloaded from its spec; refuses data that changed since."""
    if dataset is None:
        spec = DatasetSpec.from_json(trained.spec["dataset"])
        dataset = load_dataset(spec, data_dir, where=f"{trained.spec['source']}: dataset")
    if dataset.data_hash != trained.dataset.data_hash:
        raise DatasetError(f"the data changed since model {trained.artifact_id[:16]} was trained: it hashes "
                           f"{dataset.data_hash[:16]} now, {trained.dataset.data_hash[:16]} then ({trained.dataset.source}). "
                           f"Restore the original files or retrain.")
    return dataset


def root_of(record: TrainedModel | TransformedModel, store: ArtifactStore) -> TrainedModel:
    if isinstance(record, TrainedModel):
        return record
    return store.load("trained", record.parent_id)  # type: ignore[return-value]


def transform_model(trained: TrainedModel, transform: Transform | str, *, store: ArtifactStore,
                    dataset: Dataset | None = None, data_dir: DataDir = None, finetune_epochs: int | None = None,
                    learning_rate_scale: float | None = None, seed: int | None = None, reuse: bool = True,
                    verbose: int = 0) -> TransformedModel:
    t = Transform.parse(transform) if isinstance(transform, str) else transform
    arch = ARCHITECTURES[trained.architecture]
    check_recipe(arch.name, Recipe(t, "int8" if t.kind == "qat" else "fp32"))
    plan = trained.spec["optimize"]
    epochs = int(finetune_epochs if finetune_epochs is not None else plan["finetune_epochs"])
    scale = float(learning_rate_scale if learning_rate_scale is not None else plan["finetune_learning_rate_scale"])
    seed = trained.seed if seed is None else seed
    lr = float(trained.hyperparameters["learning_rate"]) * scale
    artifact_id = key({"kind": "transformed", "format": TRANSFORM_FORMAT, "parent": trained.artifact_id,
                       "transform": t.name, "epochs": epochs, "learning_rate": lr, "seed": seed})
    if reuse and store.exists("transformed", artifact_id):
        return store.load("transformed", artifact_id)  # type: ignore[return-value]
    ds = dataset_for(trained, dataset, data_dir)
    batch = int(trained.hyperparameters["batch_size"])
    steps = math.ceil(len(ds.x_train) / batch)
    if t.kind == "prune_2_4" and steps * epochs < 2:
        raise DatasetError(f"prune_2_4 sets its masks at the second training step; {len(ds.x_train)} examples in "
                           f"batches of {batch} for {epochs} epoch(s) give {steps * epochs}: raise finetune_epochs")
    began = time.perf_counter()
    start(seed)
    model = load_keras(trained)
    wrapped = apply(model, t, steps_per_epoch=steps, epochs=epochs)
    h = trained.hyperparameters
    with qat_scope():
        compile_model(wrapped.model, loss=h["loss"], optimizer=h["optimizer"], learning_rate=lr)
        fit(wrapped.model, ds, batch_size=batch, epochs=epochs, callbacks=wrapped.callbacks, verbose=verbose)
    final = wrapped.strip(wrapped.model)
    seconds = time.perf_counter() - began
    sparsity, unique = weight_stats(final)
    note = TABLE[(arch.name, t.kind)].note

    def make_record(path: Any) -> TransformedModel:
        return TransformedModel(
            artifact_id=artifact_id, transform=t.name, parent_id=trained.artifact_id, architecture=arch.name,
            hyperparameters=dict(h), seed=seed, finetune_epochs=epochs, finetune_learning_rate=lr,
            dataset=ds.info(), parameter_count=int(final.count_params()),
            val_accuracy=accuracy(final, ds.x_val, ds.y_val) if len(ds.x_val) else None,
            test_accuracy=accuracy(final, ds.x_test, ds.y_test), weight_sparsity=round(sparsity, 6),
            max_unique_weights=unique, covered_layers=wrapped.covered, uncovered_layers=wrapped.uncovered, note=note,
            finetune_seconds=round(seconds, 3), created_utc=utc_now(), versions=versions(), path=path)

    return store.put("transformed", artifact_id, lambda p: save_keras(final, p), make_record)  # type: ignore[return-value]


def convert_model(source: TrainedModel | TransformedModel, quantization: str, *, store: ArtifactStore,
                  dataset: Dataset | None = None, data_dir: DataDir = None, lstm_lowering: str | None = None,
                  calibration_samples: int | None = None, validation_samples: int | None = None,
                  reuse: bool = True) -> ConvertedModel:
    if quantization.startswith(LQ_PREFIX):
        from edgebench.optimize.lq_variant import convert_lq

        if not isinstance(source, TrainedModel):
            raise RecipeError(f"{quantization} quantizes the trained model's fp32 .tflite; it takes no transform")
        ds = dataset_for(source, dataset, data_dir)
        fp32 = convert_model(source, "fp32", store=store, dataset=ds, lstm_lowering=lstm_lowering,
                             validation_samples=validation_samples, reuse=reuse)
        return convert_lq(source, quantization, store=store, dataset=ds, fp32=fp32,
                          calibration_samples=calibration_samples, validation_samples=validation_samples, reuse=reuse)
    trained = root_of(source, store)
    transform = getattr(source, "transform", None)
    recipe = Recipe.parse(f"{transform}+{quantization}" if transform else quantization)
    arch = ARCHITECTURES[trained.architecture]
    check_recipe(arch.name, recipe)
    plan = trained.spec["optimize"]
    lowering = (lstm_lowering or plan["lstm_lowering"]) if arch.recurrent else None
    if lowering not in (None, "unrolled", "fused"):
        raise ValueError(f"lstm_lowering must be unrolled or fused, not {lowering!r}")
    n_calib = int(calibration_samples or plan["calibration_samples"])
    n_valid = validation_samples or plan.get("validation_samples")
    index_key = key({"kind": "converted", "format": CONVERT_FORMAT, "parent": source.artifact_id,
                     "variant": recipe.name, "lowering": lowering, "validation": n_valid,
                     "calibration": n_calib if quantization == "int8" else None})
    index = store.root / "index" / "converted" / index_key
    if reuse and index.is_file():
        known, *lineage = index.read_text().split()
        if store.exists("converted", known):
            if lineage:
                return store.load_lineage("converted", known, lineage[0])  # type: ignore[return-value]
            return store.load("converted", known)  # type: ignore[return-value]
    ds = dataset_for(trained, dataset, data_dir)
    began = time.perf_counter()
    model = load_keras(source)
    order = np.sort(np.random.default_rng(0).permutation(len(ds.x_test))[:n_valid]) if n_valid else slice(None)
    x, y = ds.x_test[order], ds.y_test[order]
    keras_out = predict(model, x)
    representative = ds.representative(n_calib, seed=trained.seed) if quantization == "int8" else None
    data = to_tflite(model, quantization=quantization, representative=representative, qat=transform == "qat",
                     lstm_lowering=lowering or "unrolled")
    check = validate(data, keras_out, x, y)
    seconds = time.perf_counter() - began
    sparsity, unique = weight_stats(model)
    from edgebench.inspect.tflite_model import parse_tflite

    info = parse_tflite(data, source=recipe.name)
    artifact_id = hashlib.sha256(data).hexdigest()

    def make_record(path: Any) -> ConvertedModel:
        return ConvertedModel(
            artifact_id=artifact_id, variant=recipe.name, transform=transform, quantization=quantization,
            parent_id=source.artifact_id, trained_id=trained.artifact_id, architecture=arch.name,
            hyperparameters=dict(trained.hyperparameters), lstm_lowering=lowering, dataset=ds.info(),
            size_bytes=len(data), gzip_size_bytes=gzip_size(data), validation_samples=check.samples,
            xnnpack_error=check.xnnpack_error,
            test_accuracy=check.accuracy, keras_test_accuracy=check.keras_accuracy, agreement=check.agreement,
            max_abs_output_diff=check.max_abs_output_diff, input_shape=tuple(info.inputs[0].shape_signature),
            input_dtype=info.inputs[0].dtype, output_dtype=info.outputs[0].dtype, ops_by_type=dict(info.ops_by_type),
            operator_count=info.operator_count, flops=info.flops, flops_not_counted=tuple(info.flops_not_counted),
            parameter_count=info.parameter_count, tflite_quantization=info.quantization,
            weight_sparsity=round(sparsity, 6), max_unique_weights=unique, convert_seconds=round(seconds, 3),
            created_utc=utc_now(), versions={**versions(), "ai_edge_litert": _litert_version()}, path=path)

    filename = f"{arch.name}-{recipe.name.replace(':', '')}-{artifact_id[:8]}.tflite"
    def write(model_file: Path) -> None:
        model_file.write_bytes(data)

    record = cast(ConvertedModel, store.put("converted", artifact_id, write, make_record, filename))
    entry = artifact_id
    if (record.variant, record.parent_id, record.lstm_lowering) != (recipe.name, source.artifact_id, lowering):
        # Identical bytes from another lineage: same file, but this request gets its own record.
        record = cast(ConvertedModel, store.add_lineage(make_record(record.path), index_key))
        entry += f" {index_key}"
    index.parent.mkdir(parents=True, exist_ok=True)
    tmp = index.with_name(f"{index.name}.{uuid.uuid4().hex[:8]}.tmp")  # several workers may share a store
    tmp.write_text(entry + "\n")
    os.replace(tmp, index)
    return record


def build_variant(trained: TrainedModel, recipe: Recipe | str, *, store: ArtifactStore,
                  dataset: Dataset | None = None, data_dir: DataDir = None, reuse: bool = True,
                  **options: Any) -> ConvertedModel:
    """Transform (if the recipe has one, reusing a stored result) and convert: one variant of a
    trained model. `options` are transform_model's and convert_model's keyword overrides."""
    r = Recipe.parse(recipe) if isinstance(recipe, str) else recipe
    check_recipe(trained.architecture, r)
    ds = dataset_for(trained, dataset, data_dir)
    t_opts = {k: options.pop(k) for k in ("finetune_epochs", "learning_rate_scale", "seed", "verbose") if k in options}
    source: TrainedModel | TransformedModel = trained
    if r.transform is not None:
        source = transform_model(trained, r.transform, store=store, dataset=ds, reuse=reuse, **t_opts)
    return convert_model(source, r.quantization, store=store, dataset=ds, reuse=reuse, **options)


def _litert_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ai-edge-litert")
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"
