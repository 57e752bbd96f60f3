"""Keras model helpers shared by training and fine-tuning: fit on a Dataset, predict, accuracy, save,
and the library versions an artifact records. TensorFlow is imported only when one is called.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable, Mapping

import numpy as np

from edgebench.datasets.base import Dataset
from edgebench.zoo._tf import load_tf

EpochCallback = Callable[[int, Mapping[str, float]], None]


def versions() -> dict[str, str]:
    from edgebench.version import __version__

    tf = load_tf()
    out = {"edgebench": __version__, "tensorflow": tf.__version__}
    try:
        import tf_keras
        out["tf_keras"] = tf_keras.__version__
    except (ImportError, AttributeError):  # pragma: no cover
        pass
    try:
        import tensorflow_model_optimization as tfmot
        out["tfmot"] = tfmot.__version__
    except (ImportError, AttributeError):  # pragma: no cover
        pass
    return out


def fit(model: Any, dataset: Dataset, *, batch_size: int, epochs: int, on_epoch_end: EpochCallback | None = None,
        callbacks: list[Any] | None = None, verbose: int = 0, tf: Any = None) -> dict[str, list[float]]:
    tf = tf or load_tf()
    cbs = list(callbacks or [])
    if on_epoch_end is not None:
        cbs.append(tf.keras.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs: on_epoch_end(epoch, {k: float(v) for k, v in (logs or {}).items()})))
    validation = (dataset.x_val, one_hot(dataset.y_val, dataset.num_classes)) if len(dataset.x_val) else None
    result = model.fit(dataset.x_train, one_hot(dataset.y_train, dataset.num_classes), batch_size=batch_size,
                       epochs=epochs, validation_data=validation, callbacks=cbs, verbose=verbose, shuffle=True)
    return {k: [float(v) for v in vs] for k, vs in result.history.items()}


def one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
    encoded: np.ndarray = np.eye(num_classes, dtype=np.float32)[labels]
    return encoded


def predict(model: Any, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0))


def accuracy(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(predict(model, x), axis=-1) == y))


def save_keras(model: Any, path: Any) -> None:
    # HDF5: one file, and the only format that round-trips TF-MOT's QAT wrappers (the .keras zip
    # format loses the quantize layer's variables).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*HDF5 file.*legacy", category=UserWarning)
        model.save(str(path), include_optimizer=False, save_format="h5")
