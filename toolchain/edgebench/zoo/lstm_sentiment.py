"""LSTM sentiment classifier (seed study subject 4, IMDB): Embedding -> LSTM -> Dropout -> Dense."""
from __future__ import annotations

from typing import Any

from edgebench.errors import UsageError
from edgebench.zoo.common import compile_model, start


def build_lstm_sentiment(input_shape: tuple[int, ...], num_classes: int, *, vocab_size: int | None,
                         units: int = 64, embedding_dim: int = 128, dropout: float = 0.5, activation: str = "tanh",
                         loss: str = "binary_crossentropy", optimizer: str = "adam", learning_rate: float = 1e-3,
                         seed: int | None = None) -> Any:
    if len(input_shape) != 1 or not vocab_size:
        raise UsageError(f"lstm_sentiment takes token sequences [T] and a vocabulary size; got input shape "
                         f"{list(input_shape)} and vocabulary {vocab_size!r}")
    tf = start(seed)
    layers = tf.keras.layers
    inputs = tf.keras.Input(shape=input_shape, dtype="int32", name="tokens")
    x = layers.Embedding(vocab_size, embedding_dim, name="embedding")(inputs)
    x = layers.LSTM(units, activation=activation, name="lstm")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="classifier")(x)
    model = tf.keras.Model(inputs, outputs, name="lstm_sentiment")
    return compile_model(model, loss=loss, optimizer=optimizer, learning_rate=learning_rate)
