"""to_tflite exports only what the converter reads: no per-layer Keras call traces, the same .tflite.

tf-keras's SavedModel export traces every layer's call functions for keras.models.load_model; the
converter reads the serving signature only, and those traces were about half of each conversion.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from edgebench.optimize.convert import to_tflite
from edgebench.zoo._tf import load_tf
from edgebench.zoo.registry import ARCHITECTURES

# Untrained is enough: the export and the conversion do not depend on the weights' values.
MODELS: dict[str, dict[str, Any]] = {
    "cnn_image": dict(hyperparameters={"filters": 8}, input_shape=(8, 8, 1), num_classes=10),
    "lstm_sentiment": dict(hyperparameters={"units": 8, "embedding_dim": 8}, input_shape=(8,), num_classes=2,
                           vocab_size=50)}


def _model(arch: str) -> Any:
    return ARCHITECTURES[arch].build(seed=0, **MODELS[arch])


def _without_metadata(data: bytes) -> bytes:
    """The model with its metadata buffers emptied: CONVERSION_METADATA names the converter's entry
    point (a Keras model or a SavedModel), which is all that differs."""
    load_tf()
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
    for entry in model.metadata or []:
        model.buffers[entry.buffer].data = None
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


@pytest.mark.parametrize("arch", sorted(MODELS))
def test_conversion_traces_no_layer_call_functions(arch: str, monkeypatch: pytest.MonkeyPatch) -> None:
    load_tf()
    from tf_keras.src.saving.legacy.saved_model import save_impl

    traced: list[str] = []
    wrap = save_impl.wrap_layer_functions

    def spy(layer: Any, cache: Any) -> Any:
        traced.append(layer.name)
        return wrap(layer, cache)

    monkeypatch.setattr(save_impl, "wrap_layer_functions", spy)
    data = to_tflite(_model(arch), quantization="fp32")
    assert data[4:8] == b"TFL3"
    assert traced == [], f"the export traced the call functions of {len(traced)} layers: {traced[:5]}"


@pytest.mark.parametrize("quantization", ["fp32", "int8"])
def test_the_lean_export_converts_to_the_keras_converters_model(quantization: str) -> None:
    tf = load_tf()
    model = _model("cnn_image")
    representative = np.random.default_rng(0).random((8, 8, 8, 1), dtype=np.float32)
    ours = to_tflite(model, quantization=quantization, representative=representative)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)  # tf-keras's full export
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantization == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([representative[i:i + 1]] for i in range(len(representative)))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = converter.inference_output_type = tf.int8
    theirs = bytes(converter.convert())
    assert _without_metadata(ours) == _without_metadata(theirs)
