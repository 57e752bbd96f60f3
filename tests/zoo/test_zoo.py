"""The zoo: every architecture builds at a tiny size, trains a step, and takes every study hyperparameter."""
from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgebench.errors import UsageError
from edgebench.zoo import ARCHITECTURES, get_architecture
from edgebench.zoo.hyperparameters import OPTIMIZERS

REPO = Path(__file__).resolve().parents[2]

TINY = {
    "cnn_image": dict(hp={"filters": 4}, shape=(8, 8, 1), options={}),
    "resnet50": dict(hp={"filters": 4, "kernel_size": 3}, shape=(32, 32, 3),
                     options={"width_multiplier": 0.0625, "stage_blocks": (1, 1, 1, 1)}),
    "cnn_text": dict(hp={"filters": 4, "embedding_dim": 4, "kernel_size": 3}, shape=(10,), options={}),
    "lstm_sentiment": dict(hp={"units": 4, "embedding_dim": 4}, shape=(10,), options={}),
}


def _inputs(arch: str, n: int = 8) -> np.ndarray:
    rng = np.random.default_rng(0)
    shape = TINY[arch]["shape"]
    if ARCHITECTURES[arch].task == "text":
        return rng.integers(0, 30, (n, *shape)).astype(np.int32)
    return rng.random((n, *shape)).astype(np.float32)


def _build(arch: str, **hp: object):
    t = TINY[arch]
    return get_architecture(arch).build({**t["hp"], **hp}, input_shape=t["shape"], num_classes=3, vocab_size=30,
                                        options=t["options"], seed=0)


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_builds_trains_one_step_and_predicts(arch: str) -> None:
    model = _build(arch)
    assert model.count_params() < 40_000
    x = _inputs(arch)
    y = np.eye(3, dtype=np.float32)[np.arange(8) % 3]
    loss = model.train_on_batch(x, y)
    assert np.all(np.isfinite(loss))
    out = model.predict(x, verbose=0)
    assert out.shape == (8, 3)
    assert np.allclose(out.sum(axis=1), 1.0, atol=1e-5)  # softmax over classes


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_every_study_hyperparameter_is_a_builder_parameter(arch: str) -> None:
    a = ARCHITECTURES[arch]
    module, func = a.builder.split(":")
    params = inspect.signature(getattr(importlib.import_module(module), func)).parameters
    for d in a.hyperparameters:
        if d.stage == "fit":  # batch_size and epochs are train_model's
            continue
        assert d.name in params, d.name
        assert params[d.name].default == d.default, d.name  # builder defaults are the study's
    for o in a.options:
        assert o.name in params


def test_same_seed_same_weights() -> None:
    a, b = _build("cnn_image"), _build("cnn_image")
    assert all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights()))


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_trains(optimizer: str) -> None:
    model = _build("cnn_image", optimizer=optimizer, loss="kl_divergence")
    assert np.isfinite(model.train_on_batch(_inputs("cnn_image"), np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1, 2, 0, 1]])[0])


@pytest.mark.parametrize("arch, pooling", [("cnn_image", "avg"), ("resnet50", "max"), ("resnet50", "globalmax"),
                                           ("cnn_text", "globalavg")])
def test_pooling_variants_build(arch: str, pooling: str) -> None:
    assert _build(arch, pooling=pooling).predict(_inputs(arch, 2), verbose=0).shape == (2, 3)


def test_lstm_activation_and_loss_choices() -> None:
    model = _build("lstm_sentiment", activation="relu", loss="poisson")
    layer = model.get_layer("lstm")
    assert layer.activation.__name__ == "relu"


def test_bad_hyperparameters_and_shapes() -> None:
    a = get_architecture("cnn_image")
    with pytest.raises(UsageError, match="unknown hyperparameter.*units.*allowed: filters"):
        a.build({"units": 3}, input_shape=(8, 8, 1), num_classes=2)
    with pytest.raises(UsageError, match="pooling: 'globalavg' is not allowed; allowed: 'max', 'avg'"):
        a.build({"pooling": "globalavg"}, input_shape=(8, 8, 1), num_classes=2)
    r = get_architecture("resnet50")
    with pytest.raises(UsageError, match="input_size = 64 but the dataset gives 32x32 images; set the dataset's image_size"):
        r.build({}, input_shape=(32, 32, 3), num_classes=2, options={"input_size": 64})
    with pytest.raises(UsageError, match="at least 32x32.*image_size = 32"):
        r.build({}, input_shape=(8, 8, 1), num_classes=2)
    with pytest.raises(UsageError, match="sequences of 4 tokens are shorter than kernel_size 7"):
        get_architecture("cnn_text").build({}, input_shape=(4,), num_classes=2, vocab_size=10)
    with pytest.raises(UsageError, match="takes token sequences"):
        get_architecture("lstm_sentiment").build({}, input_shape=(8, 8, 1), num_classes=2, vocab_size=10)
    with pytest.raises(UsageError, match="unknown architecture 'vgg16'"):
        get_architecture("vgg16")


def test_scaled_resnet_is_keras_applications_resnet50_at_full_size() -> None:
    """The backbone used for narrow test/smoke models has keras.applications' exact structure at width 1."""
    import tensorflow as tf

    from edgebench.zoo.resnet50 import FULL_BLOCKS, backbone

    inputs = tf.keras.Input((32, 32, 3))
    ours = tf.keras.Model(inputs, backbone(tf, inputs, 1.0, FULL_BLOCKS, force_own=True))
    theirs = tf.keras.applications.ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3))
    assert ours.count_params() == theirs.count_params() == 23_587_712
    kinds = lambda m: sorted((type(layer).__name__, layer.name) for layer in m.layers[1:])  # noqa: E731
    assert kinds(ours) == kinds(theirs)
    assert ours.output_shape == theirs.output_shape


def test_registry_imports_no_tensorflow() -> None:
    code = ("import sys; from edgebench.zoo import ARCHITECTURES; ARCHITECTURES['resnet50'].resolve_hyperparameters({}); "
            "assert 'tensorflow' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": str(REPO / "toolchain")})
