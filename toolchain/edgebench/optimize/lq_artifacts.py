"""Store a litert-quantizer variant as a content-addressed artifact with its lineage.

    record = store_quantized(store, parent_bytes, "model.tflite", variant, calibration)

The id is the sha256 of the variant's bytes (artifacts/quantized/<id>/); the record names the
parent's sha256, the recipe (and its JSON), and the calibration data's hash, so the same file
made twice is stored once and every figure in the record can be traced to what made it.
"""
from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import cast

from edgebench.optimize.lq_calibration import Calibration
from edgebench.optimize.lq_quantize import LqVariant
from edgebench.optimize.validate import gzip_size
from edgebench.store.artifacts import ArtifactStore, QuantizedModel, utc_now


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("litert-quantizer", "ai-edge-litert"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:  # pragma: no cover - both are dependencies of this path
            out[dist] = "unknown"
    return out


def store_quantized(store: ArtifactStore, parent: bytes, parent_file: str, variant: LqVariant,
                    calibration: Calibration | None) -> QuantizedModel:
    artifact_id = hashlib.sha256(variant.data).hexdigest()
    stem = Path(parent_file).stem

    def make_record(path: Path) -> QuantizedModel:
        return QuantizedModel(
            artifact_id=artifact_id, recipe=variant.recipe.name, recipe_json=list(variant.recipe.recipe),
            recipe_sha256=variant.recipe.recipe_sha256, parent_sha256=hashlib.sha256(parent).hexdigest(),
            parent_file=Path(parent_file).name, parent_size_bytes=len(parent),
            calibration=calibration.source if calibration else None,
            calibration_sha256=calibration.data_sha256 if calibration else None,
            size_bytes=len(variant.data), gzip_size_bytes=gzip_size(variant.data),
            parent_gzip_size_bytes=gzip_size(parent), weights_quantized=dict(variant.weights_quantized),
            activations_quantized=dict(variant.activations_quantized),
            io_dtype_changes=list(variant.io_dtype_changes),
            agreement=[dataclasses.asdict(a) for a in variant.agreement], agreement_samples=variant.agreement_samples,
            agreement_seed=variant.agreement_seed, per_tensor=dict(variant.per_tensor),
            quantize_seconds=variant.quantize_seconds, created_utc=utc_now(), versions=versions(), path=path)

    def write(model_file: Path) -> None:
        model_file.write_bytes(variant.data)

    keep_parent(store, parent, parent_file)
    filename = f"{stem}-{variant.recipe.name.replace(':', '_')}-{artifact_id[:8]}.tflite"
    record = cast(QuantizedModel, store.put("quantized", artifact_id, write, make_record, filename))
    if (record.recipe, record.parent_sha256, record.calibration_sha256) != (
            variant.recipe.name, hashlib.sha256(parent).hexdigest(),
            calibration.data_sha256 if calibration else None):
        # Identical bytes from another recipe/parent/calibration: its own lineage record beside the first.
        lineage = hashlib.sha256(f"{variant.recipe.recipe_sha256}|{record.parent_sha256}|"
                                 f"{calibration.data_sha256 if calibration else ''}".encode()).hexdigest()[:16]
        record = cast(QuantizedModel, store.add_lineage(make_record(record.path), lineage))
    return record


PARENTS = "parents"  # artifacts/parents/<sha256>/<file>: the files quantized variants were made from


def keep_parent(store: ArtifactStore, parent: bytes, parent_file: str) -> Path:
    """A copy of the parent .tflite, once per content, so a variant's reference can be found later (push-and-run
    --check-outputs compares a variant's outputs with its parent's on the device) however the user's file moves."""
    import os
    import uuid

    folder = store.root / PARENTS / hashlib.sha256(parent).hexdigest()
    target = folder / Path(parent_file).name
    existing = sorted(folder.glob("*.tflite")) if folder.is_dir() else []
    if existing:
        return existing[0]
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{uuid.uuid4().hex[:8]}.tmp"
    tmp.write_bytes(parent)
    os.replace(tmp, target)
    return target
