"""Shared pieces of the zoo builders: compilation with the study's losses and optimizers.

Every model ends in a softmax over `num_classes` and trains on one-hot labels, so the study's
three losses per task (categorical or binary cross-entropy, Poisson, KL divergence) are all
well defined; with a single sigmoid unit, KL divergence would be identically zero on negatives.
"""
from __future__ import annotations

from typing import Any

from edgebench.zoo._tf import load_tf


def compile_model(model: Any, *, loss: str, optimizer: str, learning_rate: float) -> Any:
    tf = load_tf()
    k = tf.keras
    optimizers = {"sgd": k.optimizers.SGD, "rmsprop": k.optimizers.RMSprop, "adam": k.optimizers.Adam,
                  "adadelta": k.optimizers.Adadelta, "adagrad": k.optimizers.Adagrad,
                  "adamax": k.optimizers.Adamax, "nadam": k.optimizers.Nadam, "ftrl": k.optimizers.Ftrl}
    losses = {"categorical_crossentropy": k.losses.CategoricalCrossentropy,
              "binary_crossentropy": k.losses.BinaryCrossentropy,
              "poisson": k.losses.Poisson, "kl_divergence": k.losses.KLDivergence}
    model.compile(optimizer=optimizers[optimizer](learning_rate=learning_rate), loss=losses[loss](),
                  # Explicit: the "accuracy" string would become binary accuracy under binary CE.
                  metrics=[k.metrics.CategoricalAccuracy(name="accuracy")])
    return model


def start(seed: int | None) -> Any:
    """TensorFlow, with a fresh Keras session (tuning builds many models in one process) and seeded
    weight initialisation when `seed` is given."""
    tf = load_tf()
    tf.keras.backend.clear_session()
    if seed is not None:
        tf.keras.utils.set_random_seed(seed)
    return tf


def pooling_2d(layers: Any, kind: str, name: str) -> Any:
    return {"max": layers.MaxPooling2D, "avg": layers.AveragePooling2D}[kind](2, padding="same", name=name)
