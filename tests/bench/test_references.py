"""Which reference --check-outputs compares a model with: a named file, the float parent edgebench
converted from the same trained model (the artifact store's lineage), else the model itself on CPU.
Real files (the fixtures' models) in a real ArtifactStore."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from edgebench.bench.plan import ModelFile
from edgebench.bench.references import plan_references, reference_models
from edgebench.datasets.base import DatasetInfo
from edgebench.errors import UsageError
from edgebench.store.artifacts import ArtifactStore, ConvertedModel

from ..conftest import REAL_MODELS

FLOAT = REAL_MODELS / "tflm_hello_world_float.tflite"
INT8 = REAL_MODELS / "tflm_hello_world_int8.tflite"
DATASET = DatasetInfo(loader="sine", task="image", source="made up", data_hash="0" * 16, num_train=1, num_val=0,
                      num_test=1, input_shape=(1,), input_dtype="float32", num_classes=1, class_names=("y",),
                      vocab_size=None)


def _model(path: Path) -> ModelFile:
    data = path.read_bytes()
    return ModelFile(path, path.name, hashlib.sha256(data).hexdigest(), len(data))


def _convert(store: ArtifactStore, source: Path, quantization: str, trained_id: str) -> None:
    model = _model(source)

    def record(path: Path) -> ConvertedModel:
        return ConvertedModel(
            artifact_id=model.sha256, variant=quantization, transform=None, quantization=quantization,
            parent_id=trained_id, trained_id=trained_id, architecture="dense", hyperparameters={},
            lstm_lowering=None, dataset=DATASET, size_bytes=model.size_bytes, gzip_size_bytes=1,
            validation_samples=1, xnnpack_error=None, test_accuracy=1.0, keras_test_accuracy=1.0, agreement=1.0,
            max_abs_output_diff=0.0, input_shape=(-1, 1), input_dtype="float32", output_dtype="float32",
            ops_by_type={}, operator_count=3, flops=1, flops_not_counted=(), parameter_count=1,
            tflite_quantization=quantization, weight_sparsity=0.0, max_unique_weights=1, convert_seconds=0.1,
            created_utc="2026-01-01T00:00:00Z", versions={}, path=path)

    store.put("converted", model.sha256, lambda p: shutil.copyfile(source, p), record, source.name)


def test_the_float_parent_comes_from_the_artifact_store(tmp_path):
    store = ArtifactStore(tmp_path / "artifacts")
    _convert(store, FLOAT, "fp32", "t" * 64)
    _convert(store, INT8, "int8", "t" * 64)
    variant, parent, stranger = _model(INT8), _model(FLOAT), _model(REAL_MODELS / "tflm_simple_add_model.tflite")
    plan = plan_references([variant, parent, stranger], None, store.root)
    assert plan[variant.sha256].kind == "parent" and plan[variant.sha256].model is not None
    assert plan[variant.sha256].model.sha256 == parent.sha256  # the stored copy, same bytes
    assert plan[parent.sha256].kind == "same_model_cpu"  # the float model itself has no parent
    assert plan[stranger.sha256].kind == "same_model_cpu"  # not made by edgebench
    assert [m.sha256 for m in reference_models(plan)] == [parent.sha256]


def test_a_named_reference_wins_and_a_bad_one_is_refused(tmp_path):
    plan = plan_references([_model(INT8)], FLOAT, None)
    assert plan[_model(INT8).sha256].kind == "named"
    with pytest.raises(UsageError, match="--reference .* Expected the .tflite file"):
        plan_references([_model(INT8)], tmp_path / "missing.tflite", None)


def test_a_quantized_variants_parent_is_the_file_it_was_made_from_even_once_that_file_is_gone(tmp_path):
    pytest.importorskip("litert_quantizer", reason="edgebench quantize needs the quantize extra")
    from edgebench.optimize.lq_artifacts import store_quantized
    from edgebench.optimize.lq_quantize import quantize_tflite
    from edgebench.optimize.lq_recipes import named
    from tests.optimize.tiny_tflite import tiny_cnn

    parent_bytes = tiny_cnn()
    store = ArtifactStore(tmp_path / "artifacts")
    record = store_quantized(store, parent_bytes, str(tmp_path / "mine.tflite"),
                             quantize_tflite(parent_bytes, named("int8_dynamic"), None), None)
    variant = _model(record.path)
    plan = plan_references([variant], None, store.root)  # the user's mine.tflite never existed on disk here
    ref = plan[variant.sha256]
    assert ref.kind == "parent" and ref.model is not None
    assert ref.model.sha256 == hashlib.sha256(parent_bytes).hexdigest() and ref.model.name == "mine.tflite"
