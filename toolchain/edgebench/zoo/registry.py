"""The four seed-study architectures: their hyperparameters, structural options and builders.

Importing this module imports no TensorFlow; `Architecture.build` loads the builder lazily.
Hyperparameters are what a study tunes (the study's table); options are structural choices a
spec fixes (e.g. ResNet width for fast tests) and are part of a trained artifact's identity.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from edgebench.errors import UsageError
from edgebench.options import Option, resolve_options
from edgebench.zoo import hyperparameters as hp
from edgebench.zoo.hyperparameters import HyperparameterDef, Value


OptionDef = Option  # a model's [model] options are declared like a loader's


def _int_in(low: int, high: int) -> Callable[[Any], int]:
    def check(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
            raise ValueError(f"expected an integer in [{low}, {high}], got {v!r}")
        return v
    return check


def _optional(inner: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda v: None if v is None else inner(v)


def _width(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.01 <= v <= 4.0:
        raise ValueError(f"expected a number in [0.01, 4.0], got {v!r}")
    return float(v)


def _stage_blocks(v: Any) -> tuple[int, ...]:
    if (not isinstance(v, (list, tuple)) or len(v) != 4
            or any(isinstance(b, bool) or not isinstance(b, int) or not 1 <= b <= 64 for b in v)):
        raise ValueError(f"expected 4 integers in [1, 64] (blocks per stage), got {v!r}")
    return tuple(v)


@dataclass(frozen=True)
class Architecture:
    name: str
    task: str  # "image" (float32 [H, W, C] in [0, 1]) | "text" (int32 token ids [T])
    description: str
    hyperparameters: tuple[HyperparameterDef, ...]
    options: tuple[OptionDef, ...]
    builder: str  # "module:function", imported on first build
    recurrent: bool = False  # has an LSTM: converted through a fixed-batch concrete function

    def hyperparameter(self, name: str) -> HyperparameterDef:
        for d in self.hyperparameters:
            if d.name == name:
                return d
        raise KeyError(name)

    def defaults(self) -> dict[str, Value]:
        return {d.name: d.default for d in self.hyperparameters}

    def resolve_hyperparameters(self, values: Mapping[str, Any], *, where: str | None = None) -> dict[str, Value]:
        return hp.resolve(self.hyperparameters, values, where=where or f"model {self.name}")

    def resolve_options(self, values: Mapping[str, Any], *, where: str | None = None) -> dict[str, Any]:
        return resolve_options(self.options, values, where=where or f"model {self.name}")

    def build(self, hyperparameters: Mapping[str, Any], *, input_shape: tuple[int, ...], num_classes: int,
              vocab_size: int | None = None, options: Mapping[str, Any] | None = None,
              seed: int | None = None) -> Any:
        """A compiled tf.keras model. `hyperparameters` may be partial (defaults fill the rest);
        batch_size and epochs are training parameters and are ignored here."""
        values = self.resolve_hyperparameters(hyperparameters)
        kwargs: dict[str, Any] = {k: v for k, v in values.items() if self.hyperparameter(k).stage != "fit"}
        kwargs.update(self.resolve_options(options or {}))
        if self.task == "text":
            kwargs["vocab_size"] = vocab_size
        module_name, func = self.builder.split(":")
        build = getattr(importlib.import_module(module_name), func)
        return build(tuple(input_shape), num_classes, seed=seed, **kwargs)


ARCHITECTURES: dict[str, Architecture] = {
    "cnn_image": Architecture(
        "cnn_image", "image", "CNN image classifier: [Conv2D -> pooling] x conv_blocks -> Dropout -> Dense",
        (hp.size("filters", 12, "filters of every Conv2D"), hp.kernel_size(3), hp.dropout(), hp.activation(),
         HyperparameterDef("pooling", str, "max", "pooling after each conv block", choices=("max", "avg")),
         *hp.training(losses=hp.IMAGE_LOSSES, loss="categorical_crossentropy", learning_rate=1e-3,
                      batch_size=128, epochs=4)),
        (OptionDef("conv_blocks", 2, "number of Conv2D + pooling blocks", _int_in(1, 6)),),
        "edgebench.zoo.cnn_image:build_cnn_image"),
    "resnet50": Architecture(
        "resnet50", "image",
        "ResNet-50 backbone (keras.applications, weights=None) + head Conv2D -> pooling -> Dropout -> Dense",
        (hp.size("filters", 128, "filters of the head Conv2D"), hp.kernel_size(7), hp.dropout(), hp.activation(),
         HyperparameterDef("pooling", str, "globalavg", "pooling after the head conv",
                           choices=("max", "avg", "globalmax", "globalavg")),
         *hp.training(losses=hp.IMAGE_LOSSES, loss="categorical_crossentropy", learning_rate=1e-2,
                      batch_size=32, epochs=25)),
        (OptionDef("input_size", None, "expected image side in pixels (None: the dataset's); must match "
                   "the dataset", _optional(_int_in(32, 1024))),
         OptionDef("width_multiplier", 1.0, "scales every backbone width; 1.0 with the default blocks is "
                   "exactly keras.applications.ResNet50", _width),
         OptionDef("stage_blocks", (3, 4, 6, 3), "bottleneck blocks per stage", _stage_blocks)),
        "edgebench.zoo.resnet50:build_resnet50"),
    "cnn_text": Architecture(
        "cnn_text", "text", "CNN text classifier: Embedding -> Conv1D -> global pooling -> Dropout -> Dense",
        (hp.size("filters", 128, "filters of the Conv1D"), hp.kernel_size(7),
         hp.size("embedding_dim", 128, "embedding width"), hp.dropout(), hp.activation(),
         HyperparameterDef("pooling", str, "globalmax", "global pooling over time",
                           choices=("globalmax", "globalavg")),
         *hp.training(losses=hp.TEXT_LOSSES, loss="binary_crossentropy", learning_rate=1e-3,
                      batch_size=32, epochs=3)),
        (), "edgebench.zoo.cnn_text:build_cnn_text"),
    "lstm_sentiment": Architecture(
        "lstm_sentiment", "text", "LSTM sentiment classifier: Embedding -> LSTM -> Dropout -> Dense",
        (hp.size("units", 64, "LSTM units"), hp.size("embedding_dim", 128, "embedding width"), hp.dropout(),
         hp.activation("tanh"),
         *hp.training(losses=hp.TEXT_LOSSES, loss="binary_crossentropy", learning_rate=1e-3,
                      batch_size=32, epochs=2)),
        (), "edgebench.zoo.lstm_sentiment:build_lstm_sentiment", recurrent=True),
}


def get_architecture(name: str) -> Architecture:
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise UsageError(f"unknown architecture {name!r}; known: {', '.join(ARCHITECTURES)}") from None
