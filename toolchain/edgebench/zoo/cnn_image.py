"""CNN image classifier (seed study subject 1, MNIST): [Conv2D -> pooling] x conv_blocks -> Dropout -> Dense."""
from __future__ import annotations

from typing import Any

from edgebench.zoo.common import compile_model, pooling_2d, start


def build_cnn_image(input_shape: tuple[int, ...], num_classes: int, *, filters: int = 12, kernel_size: int = 3,
                    dropout: float = 0.5, activation: str = "relu", pooling: str = "max",
                    loss: str = "categorical_crossentropy", optimizer: str = "adam", learning_rate: float = 1e-3,
                    conv_blocks: int = 2, seed: int | None = None) -> Any:
    tf = start(seed)
    layers = tf.keras.layers
    inputs = tf.keras.Input(shape=input_shape, name="image")
    x = inputs
    for i in range(conv_blocks):
        x = layers.Conv2D(filters, kernel_size, padding="same", activation=activation, name=f"conv{i + 1}")(x)
        x = pooling_2d(layers, pooling, f"pool{i + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="classifier")(x)
    model = tf.keras.Model(inputs, outputs, name="cnn_image")
    return compile_model(model, loss=loss, optimizer=optimizer, learning_rate=learning_rate)
