"""A study variant `lq:NAME`: litert-quantizer on the trained model's fp32 .tflite, validated like convert.

    convert_lq(trained, "lq:int4_blockwise_32", store=...) -> ConvertedModel

The fp32 .tflite is made (or reused) by pipeline.convert_model, which calls this; litert-quantizer quantizes its
bytes (static recipes calibrate on `calibration_samples` training inputs, seeded as convert's int8
does); lq_quantize refuses a recipe that quantized nothing. The variant is validated on the test
split against the Keras model exactly as convert's variants are, and recorded as a ConvertedModel
whose parent is the fp32 artifact (lineage: trained -> fp32 .tflite -> lq variant).
"""
from __future__ import annotations

import hashlib
import os
import time
import uuid
from pathlib import Path
from typing import cast

import numpy as np

from edgebench.datasets.base import Dataset
from edgebench.optimize.agreement import input_specs
from edgebench.optimize.lq_calibration import Calibration, samples_sha256
from edgebench.optimize.lq_quantize import quantize_tflite
from edgebench.optimize.lq_recipes import PREFIX, named
from edgebench.optimize.validate import gzip_size, validate
from edgebench.store.artifacts import ArtifactStore, ConvertedModel, TrainedModel, key, utc_now

LQ_FORMAT = 1


def convert_lq(trained: TrainedModel, quantization: str, *, store: ArtifactStore, dataset: Dataset,
               fp32: ConvertedModel, calibration_samples: int | None = None, validation_samples: int | None = None,
               reuse: bool = True) -> ConvertedModel:
    """`fp32` is the trained model's fp32 .tflite (pipeline.convert_model makes or reuses it) and `dataset` the
    data it was trained on; both come from the caller, so this module does not import the pipeline."""
    from edgebench.inspect.tflite_model import parse_tflite
    from edgebench.optimize.lq_artifacts import versions as lq_versions
    from edgebench.optimize.transforms import load_keras, weight_stats
    from edgebench.zoo.keras_io import predict, versions

    recipe = named(quantization)
    plan = trained.spec["optimize"]
    n_calib = int(calibration_samples or plan["calibration_samples"])
    n_valid = validation_samples or plan.get("validation_samples")
    ds = dataset
    index_key = key({"kind": "converted", "format": LQ_FORMAT, "parent": fp32.artifact_id, "variant": quantization,
                     "recipe": recipe.recipe_sha256, "validation": n_valid,
                     "calibration": n_calib if recipe.static else None})
    index = store.root / "index" / "converted" / index_key
    if reuse and index.is_file():
        known = index.read_text().split()[0]
        if store.exists("converted", known):
            return cast(ConvertedModel, store.load("converted", known))
    began = time.perf_counter()
    parent = fp32.path.read_bytes()
    calibration = None
    if recipe.static:
        rows = ds.representative(n_calib, seed=trained.seed)
        (spec,) = input_specs(parent)  # zoo models have one input
        samples = [{spec.name: np.asarray(row[None, ...], dtype=spec.dtype)} for row in rows]
        calibration = Calibration(f"{len(samples)} training inputs (seed {trained.seed})", tuple(samples),
                                  samples_sha256(samples), False)
    variant = quantize_tflite(parent, recipe, calibration)
    model = load_keras(trained)
    order = np.sort(np.random.default_rng(0).permutation(len(ds.x_test))[:n_valid]) if n_valid else slice(None)
    x, y = ds.x_test[order], ds.y_test[order]
    check = validate(variant.data, predict(model, x), x, y)
    sparsity, unique = weight_stats(model)
    info = parse_tflite(variant.data, source=quantization)
    artifact_id = hashlib.sha256(variant.data).hexdigest()
    seconds = time.perf_counter() - began

    def make_record(path: Path) -> ConvertedModel:
        return ConvertedModel(
            artifact_id=artifact_id, variant=quantization, transform=None, quantization=quantization,
            parent_id=fp32.artifact_id, trained_id=trained.artifact_id, architecture=trained.architecture,
            hyperparameters=dict(trained.hyperparameters), lstm_lowering=fp32.lstm_lowering, dataset=ds.info(),
            size_bytes=len(variant.data), gzip_size_bytes=gzip_size(variant.data), validation_samples=check.samples,
            xnnpack_error=check.xnnpack_error, test_accuracy=check.accuracy, keras_test_accuracy=check.keras_accuracy,
            agreement=check.agreement, max_abs_output_diff=check.max_abs_output_diff,
            input_shape=tuple(info.inputs[0].shape_signature), input_dtype=info.inputs[0].dtype,
            output_dtype=info.outputs[0].dtype, ops_by_type=dict(info.ops_by_type),
            operator_count=info.operator_count, flops=info.flops, flops_not_counted=tuple(info.flops_not_counted),
            parameter_count=info.parameter_count, tflite_quantization=info.quantization,
            weight_sparsity=round(sparsity, 6), max_unique_weights=unique, convert_seconds=round(seconds, 3),
            created_utc=utc_now(), versions={**versions(), **lq_versions(), "ai_edge_litert": lq_versions()["ai-edge-litert"]},
            path=path)

    filename = f"{trained.architecture}-{quantization.replace(PREFIX, 'lq_')}-{artifact_id[:8]}.tflite"
    def write(model_file: Path) -> None:
        model_file.write_bytes(variant.data)

    record = cast(ConvertedModel, store.put("converted", artifact_id, write, make_record, filename))
    if (record.variant, record.parent_id) != (quantization, fp32.artifact_id):
        record = cast(ConvertedModel, store.add_lineage(make_record(record.path), index_key))
    index.parent.mkdir(parents=True, exist_ok=True)
    tmp = index.with_name(f"{index.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(artifact_id + "\n")
    os.replace(tmp, index)
    return record

