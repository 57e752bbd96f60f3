"""Keras -> .tflite with the LiteRT converter: fp32, dynamic range, float16, full int8, QAT.

Builtin ops only: a model that would need Flex (SELECT_TF_OPS) is an error, never a fallback,
because phones' stock runtimes cannot run Flex. Models with an LSTM are converted through a
concrete function with a fixed batch of 1 (the converter cannot lower a dynamic-batch LSTM);
`lstm_lowering="unrolled"` first rebuilds the LSTM with `unroll=True` (same weights), giving plain
ops without the fused op's variable state tensors, which LiteRT 2.3's CompiledModel refuses.

The converter reads a SavedModel of the model's serving signature. tf-keras's own SavedModel export
also traces every layer's call functions (for `keras.models.load_model`), which the converter never
reads and which took about half of each conversion (a quarter-width ResNet-50: 100 s -> 52 s for its
four quantizations), so edgebench exports the signature and variables only: the .tflite is the same
graph and weights (tests/optimize/test_convert_export.py compares them).
"""
from __future__ import annotations

import contextlib
import tempfile
import warnings
from typing import Any, Iterator

import numpy as np

from edgebench.errors import EdgebenchError
from edgebench.zoo._tf import load_tf


class ConversionError(EdgebenchError):
    """The converter failed, or produced a model edgebench will not ship (e.g. Flex ops)."""


def has_recurrent(model: Any) -> bool:
    tf = load_tf()
    return any(isinstance(layer, tf.keras.layers.RNN) for layer in model.layers)


def unrolled(model: Any) -> Any:
    """The same model with every LSTM unrolled over its fixed sequence length; weights copied."""
    tf = load_tf()

    def clone(layer: Any) -> Any:
        config = layer.get_config()
        if isinstance(layer, tf.keras.layers.LSTM):
            config["unroll"] = True
        return layer.__class__.from_config(config)

    copy = tf.keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy


def to_tflite(model: Any, *, quantization: str, representative: np.ndarray | None = None, qat: bool = False,
              lstm_lowering: str = "unrolled") -> bytes:
    """Convert `model`. `representative` (training inputs) calibrates int8 and QAT conversions."""
    tf = load_tf()
    if quantization not in ("fp32", "dynamic_range", "float16", "int8"):
        raise ValueError(quantization)
    if qat and quantization != "int8":
        raise ConversionError(f"a quantization-aware-trained model converts to int8 only, not {quantization}")
    recurrent = has_recurrent(model)
    spec = model.inputs[0]
    float_input = spec.dtype == tf.float32
    with _quiet(tf), tempfile.TemporaryDirectory(prefix="edgebench-convert-") as export:
        if recurrent:
            source = unrolled(model) if lstm_lowering == "unrolled" else model
            fn = tf.function(lambda x: source(x, training=False))
            concrete = fn.get_concrete_function(tf.TensorSpec([1, *spec.shape[1:]], spec.dtype, name="input"))
            converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], source)
        else:
            converter = _serving_export_converter(tf, model, export)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if quantization != "fp32":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantization == "float16":
            converter.target_spec.supported_types = [tf.float16]
        if quantization == "int8":
            if representative is None or not len(representative):
                raise ConversionError("int8 conversion needs representative data for calibration")
            converter.representative_dataset = _calibration(representative)
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            if float_input:  # token ids are not quantizable: they stay int32
                converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
        try:
            # The concrete-function path exports `source` with its signature: without the layer traces too.
            with _without_layer_traces() if recurrent else contextlib.nullcontext():
                data = converter.convert()
        except Exception as exc:  # the converter raises many types; all mean "did not convert"
            raise ConversionError(f"the LiteRT converter failed ({quantization}"
                                  f"{', QAT' if qat else ''}): {str(exc).strip().splitlines()[-1][:400]}") from exc
    _check_builtin_only(data)
    return bytes(data)


def _serving_export_converter(tf: Any, model: Any, directory: str) -> Any:
    """A converter of `model` exported to `directory` with only the serving signature tf-keras's own
    export would give it (inference mode, outputs by name) and its variables."""
    try:
        from tf_keras.src.saving.legacy.saved_model.save_impl import default_save_signature
    except ImportError:  # tf-keras moved its internals: convert as before, with its full export
        return tf.lite.TFLiteConverter.from_keras_model(model)
    try:
        with _without_layer_traces():
            tf.saved_model.save(model, directory, signatures=default_save_signature(model),
                                options=tf.saved_model.SaveOptions(save_debug_info=True))
    except Exception:  # as from_keras_model does when its export fails: convert the model its own way
        return tf.lite.TFLiteConverter.from_keras_model(model)
    return tf.lite.TFLiteConverter.from_saved_model(directory)


@contextlib.contextmanager
def _without_layer_traces() -> Iterator[None]:
    """tf-keras SavedModel exports inside skip the per-layer call traces (Keras's save_traces=False)."""
    try:
        from tf_keras.src.saving.legacy.saved_model.utils import keras_option_scope
    except ImportError:  # tf-keras moved its internals: export with the traces, as before
        yield
        return
    with keras_option_scope(save_traces=False):
        yield


def _calibration(samples: np.ndarray) -> Any:
    def gen() -> Iterator[list[np.ndarray]]:
        for i in range(len(samples)):
            yield [samples[i:i + 1]]
    return gen


def _check_builtin_only(data: bytes) -> None:
    from edgebench.inspect.tflite_model import parse_tflite

    info = parse_tflite(data)
    if info.needs_flex or info.custom_ops:
        raise ConversionError(f"conversion produced custom/Flex ops {list(info.custom_ops)}, which stock LiteRT "
                              f"runtimes cannot run; edgebench converts with builtin ops only")


@contextlib.contextmanager
def _quiet(tf: Any) -> Iterator[None]:
    # The converter logs a page of MLIR notes per model; keep errors only.
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        with warnings.catch_warnings():
            # Emitted for every int8 conversion of a float-input model; expected, not actionable.
            warnings.filterwarnings("ignore", message="Statistics for quantized inputs were expected")
            yield
    finally:
        logger.setLevel(level)
