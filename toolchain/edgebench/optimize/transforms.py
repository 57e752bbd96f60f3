"""Training-time optimizations with TF-MOT: magnitude pruning, 2:4 pruning, clustering, QAT.

Each takes a trained Keras model, wraps the layers it can handle, fine-tunes, and (except QAT,
whose wrappers are the model) strips the wrappers. Which layers were and were not covered is
returned, so a "partial" cell of the applicability table is visible in every record.
"""
from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np

from edgebench.optimize.applicability import NotApplicableError
from edgebench.optimize.recipes import Transform
from edgebench.zoo._tf import load_tf, load_tfmot

KERNEL_NAMES = ("kernel", "embeddings", "recurrent_kernel", "depthwise_kernel")


@dataclass
class Wrapped:
    model: Any  # the wrapped model to fine-tune
    covered: tuple[str, ...]
    uncovered: tuple[str, ...]
    callbacks: list[Any]
    strip: Callable[[Any], Any]  # wrapped model after fine-tuning -> model to store and convert


def weighted_layers(model: Any) -> list[Any]:
    """Layers holding kernels or embeddings (what the transforms act on)."""
    return [layer for layer in model.layers if any(_short(w.name) in KERNEL_NAMES for w in layer.weights)]


def _short(name: str) -> str:
    return name.split("/")[-1].split(":")[0]


def weight_stats(model: Any) -> tuple[float, int]:
    """(fraction of exact zeros, most distinct values in one tensor) over kernels and embeddings."""
    zeros = total = 0
    unique = 0
    for w in model.weights:
        if _short(w.name) in KERNEL_NAMES:
            a = w.numpy()
            zeros += int(np.count_nonzero(a == 0))
            total += a.size
            unique = max(unique, int(np.unique(a).size))
    return (zeros / total if total else 0.0), unique


def apply(model: Any, transform: Transform, *, steps_per_epoch: int, epochs: int) -> Wrapped:
    if transform.kind == "prune":
        return _prune(model, transform.sparsity, steps_per_epoch * epochs)  # type: ignore[arg-type]
    if transform.kind == "prune_2_4":
        return _prune_2_4(model)
    if transform.kind == "cluster":
        return _cluster(model, transform.clusters)  # type: ignore[arg-type]
    if transform.kind == "qat":
        return _qat(model)
    raise ValueError(transform.kind)


def _names(layers: list[Any]) -> tuple[str, ...]:
    return tuple(layer.name for layer in layers)


def _prune(model: Any, sparsity: float, total_steps: int) -> Wrapped:
    tfmot = load_tfmot()
    sk = tfmot.sparsity.keras
    if total_steps >= 10:
        # Gradual (TF-MOT's recommendation for fine-tuning): 0 -> target over the first two thirds,
        # the last mask update landing exactly on end_step so the target is reached.
        frequency = max(1, total_steps // 10)
        end = frequency * max(1, (2 * total_steps // 3) // frequency)
        schedule = sk.PolynomialDecay(initial_sparsity=0.0, final_sparsity=sparsity, begin_step=0, end_step=end,
                                      frequency=frequency)
    else:
        schedule = sk.ConstantSparsity(sparsity, begin_step=0, frequency=1)
    wrapped = sk.prune_low_magnitude(model, pruning_schedule=schedule)
    return Wrapped(wrapped, _names(weighted_layers(model)), (), [sk.UpdatePruningStep()], sk.strip_pruning)


def _m_by_n_ok(layer: Any) -> bool:
    # TF-MOT's 2:4 mask groups 4 consecutive input channels; it needs rank-2/4 kernels whose
    # input dimension is a multiple of 4 (otherwise the trailing group stays dense or fails).
    tf = load_tf()
    layers = tf.keras.layers
    if isinstance(layer, layers.Conv2D) and not isinstance(layer, (layers.DepthwiseConv2D, layers.Conv2DTranspose)):
        return bool(layer.kernel.shape[2] % 4 == 0)
    if isinstance(layer, layers.Dense):
        return bool(layer.kernel.shape[0] % 4 == 0)
    if isinstance(layer, layers.LSTM):
        return bool(layer.cell.kernel.shape[0] % 4 == 0 and layer.cell.recurrent_kernel.shape[0] % 4 == 0)
    return False


def _prune_2_4(model: Any) -> Wrapped:
    tf, tfmot = load_tf(), load_tfmot()
    sk = tfmot.sparsity.keras
    chosen = [layer for layer in weighted_layers(model) if _m_by_n_ok(layer)]
    if not chosen:
        raise NotApplicableError("prune_2_4: no layer of this model has a rank-2/4 kernel whose input dimension is a "
                                 "multiple of 4 (Dense, Conv2D, LSTM); nothing would be pruned")
    ids = {id(layer) for layer in chosen}

    def clone(layer: Any) -> Any:
        if id(layer) in ids:
            return sk.prune_low_magnitude(layer, pruning_schedule=sk.ConstantSparsity(0.5, begin_step=0),
                                          sparsity_m_by_n=(2, 4))
        return layer

    wrapped = tf.keras.models.clone_model(model, clone_function=clone)
    uncovered = [layer for layer in weighted_layers(model) if id(layer) not in ids]
    return Wrapped(wrapped, _names(chosen), _names(uncovered), [sk.UpdatePruningStep()], sk.strip_pruning)


def _cluster(model: Any, clusters: int) -> Wrapped:
    tf, tfmot = load_tf(), load_tfmot()
    ck = tfmot.clustering.keras
    layers = tf.keras.layers
    clusterable = (layers.Conv1D, layers.Conv2D, layers.Dense, layers.Embedding, layers.LSTM)
    # k-means++ needs at least as many weights as centroids; a smaller layer gains nothing.
    chosen = [layer for layer in weighted_layers(model) if isinstance(layer, clusterable)
              and min(w.shape.num_elements() for w in layer.weights if _short(w.name) in KERNEL_NAMES) >= clusters]
    ids = {id(layer) for layer in chosen}

    def clone(layer: Any) -> Any:
        if id(layer) in ids:
            return ck.cluster_weights(layer, number_of_clusters=clusters,
                                      cluster_centroids_init=ck.CentroidInitialization.KMEANS_PLUS_PLUS)
        return layer

    if not chosen:
        raise NotApplicableError(f"cluster:{clusters}: no layer has {clusters} or more weights to cluster")
    wrapped = tf.keras.models.clone_model(model, clone_function=clone)
    uncovered = [layer for layer in weighted_layers(model) if id(layer) not in ids]
    return Wrapped(wrapped, _names(chosen), _names(uncovered), [], ck.strip_clustering)


@functools.lru_cache(maxsize=1)
def conv1d_quantize_config() -> type:
    """An 8-bit QuantizeConfig for Conv1D, which TF-MOT's default registry lacks: per-tensor
    symmetric kernel, asymmetric moving-average activation (as the default 8-bit scheme)."""
    Q = load_tfmot().quantization.keras
    QuantizeConfig: Any = Q.QuantizeConfig

    class Conv1DQuantizeConfig(QuantizeConfig):  # type: ignore[misc]  # TF-MOT ships no types
        def get_weights_and_quantizers(self, layer: Any) -> list[Any]:
            return [(layer.kernel, Q.quantizers.LastValueQuantizer(num_bits=8, symmetric=True, narrow_range=False,
                                                                   per_axis=False))]

        def get_activations_and_quantizers(self, layer: Any) -> list[Any]:
            return [(layer.activation, Q.quantizers.MovingAverageQuantizer(num_bits=8, symmetric=False,
                                                                           narrow_range=False, per_axis=False))]

        def set_quantize_weights(self, layer: Any, quantize_weights: list[Any]) -> None:
            layer.kernel = quantize_weights[0]

        def set_quantize_activations(self, layer: Any, quantize_activations: list[Any]) -> None:
            layer.activation = quantize_activations[0]

        def get_output_quantizers(self, layer: Any) -> list[Any]:
            return []

        def get_config(self) -> dict[str, Any]:
            return {}

    return Conv1DQuantizeConfig


@contextlib.contextmanager
def qat_scope() -> Iterator[None]:
    """Needed to build, save-load or clone QAT models (they name our Conv1D config)."""
    Q = load_tfmot().quantization.keras
    with Q.quantize_scope({"Conv1DQuantizeConfig": conv1d_quantize_config()}):
        yield


def load_keras(record: Any) -> Any:
    """The Keras model of a TrainedModel or TransformedModel record (uncompiled)."""
    tf = load_tf()
    if getattr(record, "transform", None) == "qat":
        with qat_scope():
            return tf.keras.models.load_model(str(record.path), compile=False)
    return tf.keras.models.load_model(str(record.path), compile=False)


def _qat(model: Any) -> Wrapped:
    tf, tfmot = load_tf(), load_tfmot()
    Q = tfmot.quantization.keras
    layers = tf.keras.layers
    if any(isinstance(layer, (layers.LSTM, layers.GRU, layers.SimpleRNN)) for layer in model.layers):
        raise NotApplicableError("qat: TF-MOT quantization-aware training does not cover recurrent layers (LSTM)")
    if not any(isinstance(layer, (layers.Embedding, layers.Conv1D)) for layer in model.layers):
        with qat_scope():
            wrapped = Q.quantize_model(model)
        return Wrapped(wrapped, _names(weighted_layers(model)), (), [], lambda m: m)
    # TF-MOT refuses Embedding and has no Conv1D default: annotate Conv1D (our config) and Dense.
    chosen = [layer for layer in model.layers if isinstance(layer, (layers.Conv1D, layers.Dense))]
    ids = {id(layer) for layer in chosen}

    def annotate(layer: Any) -> Any:
        if id(layer) not in ids:
            return layer
        config = conv1d_quantize_config()() if isinstance(layer, layers.Conv1D) else None
        return Q.quantize_annotate_layer(layer, config)

    with qat_scope():
        annotated = tf.keras.models.clone_model(model, clone_function=annotate)
        wrapped = Q.quantize_apply(annotated)
    uncovered = [layer for layer in weighted_layers(model) if id(layer) not in ids]
    return Wrapped(wrapped, _names(chosen), _names(uncovered), [], lambda m: m)
