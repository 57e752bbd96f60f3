"""Optimize and convert: each technique does what it says, the .tflite is valid and validated on this host."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from edgebench.datasets import DatasetError, DatasetSpec, load_dataset
from edgebench.inspect.tflite_model import read_tflite
from edgebench.optimize import NotApplicableError, RecipeError, build_variant, convert_model, transform_model
from edgebench.train import ArtifactStore, load_keras, train_model
from tests.train.tiny import tiny_spec


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory):
    """A tiny trained CNN (3k parameters; conv2's 2,304-weight kernel is big enough for dynamic range)."""
    root = tmp_path_factory.mktemp("opt-image")
    spec = tiny_spec(root, "cnn_image")
    store = ArtifactStore(root / "artifacts")
    return store, train_model(spec, {"filters": 16}, store=store)


@pytest.fixture(scope="module")
def lstm(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("opt-lstm")
    store = ArtifactStore(root / "artifacts")
    return store, train_model(tiny_spec(root, "lstm_sentiment"), store=store)


@pytest.fixture(scope="module")
def text(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("opt-text")
    store = ArtifactStore(root / "artifacts")
    return store, train_model(tiny_spec(root, "cnn_text"), store=store)


def test_fp32_is_the_keras_model(image) -> None:
    store, trained = image
    r = convert_model(trained, "fp32", store=store)
    data = r.path.read_bytes()
    assert r.artifact_id == hashlib.sha256(data).hexdigest() == r.path.parent.name
    assert r.variant == "fp32" and r.parent_id == r.trained_id == trained.artifact_id
    assert r.agreement == 1.0 and r.max_abs_output_diff < 1e-4
    assert r.test_accuracy == pytest.approx(r.keras_test_accuracy)
    assert r.validation_samples == 48 and r.xnnpack_error is None
    assert r.size_bytes == len(data) and 0 < r.gzip_size_bytes < r.size_bytes
    assert r.input_shape == (-1, 8, 8, 1) and r.input_dtype == "float32"
    assert r.ops_by_type == read_tflite(r.path).ops_by_type and r.ops_by_type["CONV_2D"] == 2
    assert r.flops == read_tflite(r.path).flops > 0 and r.tflite_quantization == "float32"


@pytest.mark.parametrize("quantization, holds, io", [("dynamic_range", "dynamic_range_int8", "float32"),
                                                     ("float16", "float16", "float32"),
                                                     ("int8", "full_int8", "int8")])
def test_post_training_quantization(image, quantization: str, holds: str, io: str) -> None:
    store, trained = image
    fp32 = convert_model(trained, "fp32", store=store)
    r = convert_model(trained, quantization, store=store)
    assert r.quantization == quantization and r.tflite_quantization == holds
    assert r.input_dtype == r.output_dtype == io
    assert r.size_bytes < fp32.size_bytes
    assert abs(r.test_accuracy - r.keras_test_accuracy) <= 0.1 and r.agreement >= 0.8


def test_magnitude_pruning_reaches_the_target_sparsity(image) -> None:
    store, trained = image
    t = transform_model(trained, "prune:0.5", store=store)
    assert t.transform == "prune:0.5" and t.parent_id == trained.artifact_id
    assert t.covered_layers == ("conv1", "conv2", "classifier") and t.uncovered_layers == ()
    assert t.weight_sparsity == pytest.approx(0.5, abs=0.01)
    model = load_keras(t)
    for name in t.covered_layers:  # every pruned kernel is half zeros, not just the total
        assert np.mean(model.get_layer(name).kernel.numpy() == 0) == pytest.approx(0.5, abs=0.02)
    r = convert_model(t, "fp32", store=store)
    dense = convert_model(trained, "fp32", store=store)
    assert r.variant == "prune:0.5" and r.weight_sparsity == t.weight_sparsity
    assert r.gzip_size_bytes < dense.gzip_size_bytes  # zeros compress: the study's "encoded size"


def test_2_4_pruning_keeps_two_of_every_four_input_weights(image) -> None:
    store, trained = image
    t = transform_model(trained, "prune_2_4", store=store)
    assert t.covered_layers == ("conv2", "classifier")
    assert t.uncovered_layers == ("conv1",)  # 1 input channel: no group of 4 to prune
    model = load_keras(t)
    for name in t.covered_layers:
        kernel = model.get_layer(name).kernel.numpy()
        groups = np.moveaxis(kernel, -2, -1).reshape(-1, kernel.shape[-2] // 4, 4)  # 4 consecutive inputs
        assert np.all(np.sum(groups == 0, axis=-1) >= 2)
    assert build_variant(trained, "prune_2_4+float16", store=store).tflite_quantization == "float16"


def test_clustering_bounds_distinct_weights(image) -> None:
    store, trained = image
    t = transform_model(trained, "cluster:4", store=store)
    assert t.max_unique_weights <= 4 and set(t.covered_layers) == {"conv1", "conv2", "classifier"}
    r = build_variant(trained, "cluster:4+int8", store=store)
    assert r.parent_id == t.artifact_id and r.tflite_quantization == "full_int8"


def test_qat_converts_to_int8(image) -> None:
    store, trained = image
    r = build_variant(trained, "qat", store=store)
    assert r.variant == "qat" and r.transform == "qat" and r.quantization == "int8"
    assert r.tflite_quantization == "full_int8" and r.input_dtype == "int8"
    assert r.agreement >= 0.8
    with pytest.raises(RecipeError, match="produces an int8 model"):
        convert_model(store.load("transformed", r.parent_id), "float16", store=store)


def test_stages_are_reused_not_redone(image, monkeypatch: pytest.MonkeyPatch) -> None:
    store, trained = image
    first = build_variant(trained, "prune:0.5+int8", store=store)
    import edgebench.optimize.pipeline as pipeline

    monkeypatch.setattr(pipeline, "to_tflite", lambda *a, **k: pytest.fail("converted again"))
    monkeypatch.setattr(pipeline, "apply", lambda *a, **k: pytest.fail("fine-tuned again"))
    assert build_variant(trained, "prune:0.5+int8", store=store) == first
    assert store.load("transformed", first.parent_id).transform == "prune:0.5"


def test_changed_data_is_refused(image) -> None:
    store, trained = image
    other = load_dataset(DatasetSpec("digits", train_samples=150, test_samples=64, seed=3))
    with pytest.raises(DatasetError, match="the data changed since model .* was trained"):
        convert_model(trained, "int8", store=store, dataset=other, reuse=False)


def test_lstm_converts_with_a_fixed_batch_and_unrolled_by_default(lstm) -> None:
    store, trained = lstm
    r = convert_model(trained, "fp32", store=store)
    assert r.lstm_lowering == "unrolled" and r.input_shape == (1, 8) and r.input_dtype == "int32"
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" not in r.ops_by_type and "FULLY_CONNECTED" in r.ops_by_type
    assert r.agreement == 1.0 and r.max_abs_output_diff < 1e-4
    assert not any(op.startswith("Flex") for op in r.ops_by_type)
    # The reason for unrolling: LiteRT's CompiledModel (the harness's API) runs it.
    from ai_edge_litert.compiled_model import CompiledModel

    CompiledModel.from_file(str(r.path))


def test_lstm_fused_lowering_keeps_the_fused_op(lstm) -> None:
    store, trained = lstm
    r = convert_model(trained, "fp32", store=store, lstm_lowering="fused")
    assert r.lstm_lowering == "fused" and r.ops_by_type.get("UNIDIRECTIONAL_SEQUENCE_LSTM") == 1
    assert r.agreement == 1.0 and r.input_shape == (1, 8)


def test_lstm_int8_keeps_token_input(lstm) -> None:
    store, trained = lstm
    r = convert_model(trained, "int8", store=store)
    assert r.input_dtype == "int32" and r.output_dtype == "int8" and r.tflite_quantization == "full_int8"


def test_lstm_not_applicable_and_partial(lstm) -> None:
    store, trained = lstm
    with pytest.raises(NotApplicableError, match="qat does not apply to lstm_sentiment.*LSTM"):
        transform_model(trained, "qat", store=store)
    t = transform_model(trained, "prune_2_4", store=store)
    assert t.covered_layers == ("lstm", "classifier") and t.uncovered_layers == ("embedding",)
    assert "Embedding" in t.note


def test_text_cnn_partial_qat_and_no_2_4(text) -> None:
    store, trained = text
    r = build_variant(trained, "qat", store=store)
    t = store.load("transformed", r.parent_id)
    assert t.covered_layers == ("conv", "classifier") and t.uncovered_layers == ("embedding",)
    assert "Embedding" in t.note and "Conv1D" in t.note
    assert r.input_dtype == "int32" and r.tflite_quantization == "full_int8" and r.agreement >= 0.8
    with pytest.raises(NotApplicableError, match="prune_2_4 does not apply to cnn_text.*Conv1D"):
        build_variant(trained, "prune_2_4", store=store)


def test_tiny_resnet_converts(tmp_path: Path) -> None:
    spec = tiny_spec(tmp_path, "resnet50")
    store = ArtifactStore(tmp_path / "artifacts")
    r = build_variant(train_model(spec, store=store), "int8", store=store)
    assert r.input_shape == (-1, 32, 32, 3) and r.tflite_quantization == "full_int8"
    assert r.ops_by_type["ADD"] == 4  # one residual add per bottleneck block


def test_identical_bytes_from_another_recipe_keep_their_own_lineage(image, monkeypatch: pytest.MonkeyPatch) -> None:
    store, trained = image
    fp32 = convert_model(trained, "fp32", store=store)
    import edgebench.optimize.pipeline as pipeline

    # Pretend float16 conversion produced exactly the fp32 file (as a converter may for tiny models).
    monkeypatch.setattr(pipeline, "to_tflite", lambda *a, **k: fp32.path.read_bytes())
    r = convert_model(trained, "float16", store=store, validation_samples=20)
    assert r.artifact_id == fp32.artifact_id and r.path == fp32.path
    assert r.variant == "float16" and r.validation_samples == 20  # not fp32's record
    assert store.load("converted", fp32.artifact_id).variant == "fp32"  # the first lineage is untouched
    assert convert_model(trained, "float16", store=store, validation_samples=20) == r  # reused via the index


@pytest.mark.parametrize("variant, weights", [("lq:int8_dynamic", "dynamic_range_int8"), ("lq:int8_static", "full_int8"),
                                              ("lq:int16x8_static", "int16x8")])
def test_litert_quantizer_variant_from_the_fp32_tflite(image, variant: str, weights: str) -> None:
    store, trained = image
    r = build_variant(trained, variant, store=store)
    fp32 = convert_model(trained, "fp32", store=store)
    assert r.variant == r.quantization == variant and r.transform is None
    assert r.parent_id == fp32.artifact_id and r.trained_id == trained.artifact_id
    assert r.artifact_id == hashlib.sha256(r.path.read_bytes()).hexdigest()
    assert r.tflite_quantization == weights and r.size_bytes < fp32.size_bytes
    assert r.agreement >= 0.9 and r.validation_samples == 48
    assert "litert-quantizer" in r.versions
    assert build_variant(trained, variant, store=store) == r  # reused, not redone


def test_litert_quantizer_static_is_not_applicable_to_the_lstm(lstm) -> None:
    store, trained = lstm
    with pytest.raises(NotApplicableError, match="lq:int8_static does not apply to lstm_sentiment.*Tensor data is null"):
        build_variant(trained, "lq:int8_static", store=store)
