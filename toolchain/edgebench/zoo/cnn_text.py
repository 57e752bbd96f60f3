"""CNN text classifier (seed study subject 3, IMDB): Embedding -> Conv1D -> global pooling -> Dropout -> Dense."""
from __future__ import annotations

from typing import Any

from edgebench.errors import UsageError
from edgebench.zoo.common import compile_model, start


def build_cnn_text(input_shape: tuple[int, ...], num_classes: int, *, vocab_size: int | None,
                   filters: int = 128, kernel_size: int = 7, embedding_dim: int = 128, dropout: float = 0.5,
                   activation: str = "relu", pooling: str = "globalmax", loss: str = "binary_crossentropy",
                   optimizer: str = "adam", learning_rate: float = 1e-3, seed: int | None = None) -> Any:
    if len(input_shape) != 1 or not vocab_size:
        raise UsageError(f"cnn_text takes token sequences [T] and a vocabulary size; got input shape "
                         f"{list(input_shape)} and vocabulary {vocab_size!r}")
    if input_shape[0] < kernel_size:
        raise UsageError(f"cnn_text: sequences of {input_shape[0]} tokens are shorter than kernel_size "
                         f"{kernel_size}; raise the dataset's sequence_length or lower kernel_size")
    tf = start(seed)
    layers = tf.keras.layers
    inputs = tf.keras.Input(shape=input_shape, dtype="int32", name="tokens")
    x = layers.Embedding(vocab_size, embedding_dim, name="embedding")(inputs)
    x = layers.Conv1D(filters, kernel_size, activation=activation, name="conv")(x)
    pool = {"globalmax": layers.GlobalMaxPooling1D, "globalavg": layers.GlobalAveragePooling1D}[pooling]
    x = pool(name="pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="classifier")(x)
    model = tf.keras.Model(inputs, outputs, name="cnn_text")
    return compile_model(model, loss=loss, optimizer=optimizer, learning_rate=learning_rate)
