"""The model zoo: the seed study's four architectures (TensorFlow is imported only to build).

`get_architecture(name).build(hyperparameters, input_shape=..., num_classes=..., vocab_size=...)`
returns a compiled tf.keras (Keras 2) model. Each builder function (`build_cnn_image`,
`build_resnet50`, `build_cnn_text`, `build_lstm_sentiment`) takes every model and compile
hyperparameter of the study's table as a keyword; batch_size and epochs are `train_model`'s.
"""
from __future__ import annotations

from edgebench.zoo.hyperparameters import HyperparameterDef
from edgebench.zoo.registry import ARCHITECTURES, Architecture, OptionDef, get_architecture

__all__ = ["ARCHITECTURES", "Architecture", "HyperparameterDef", "OptionDef", "get_architecture"]
