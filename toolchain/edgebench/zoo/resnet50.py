"""ResNet-50 (seed study subject 2, CIFAR-10): keras.applications backbone + a tuned head.

The study tuned filters, kernel size, activation, pooling and dropout of a ResNet-50 whose
scripts are not in its replication package. Our reading: the backbone is fixed
(`keras.applications.ResNet50(weights=None, include_top=False)`), and the tuned values belong to a
head: Conv2D(filters, kernel_size, activation) -> pooling -> Dropout -> Dense softmax.

`width_multiplier` and `stage_blocks` exist so tests and smoke budgets can run a narrow or
shallow ResNet of the same shape; at 1.0 and (3, 4, 6, 3) the backbone IS keras.applications'.
The scaled backbone is built block by block with the same layer names and structure (ResNet v1
bottlenecks), checked against keras.applications' parameter count in tests/zoo.
"""
from __future__ import annotations

from typing import Any, Callable

from edgebench.errors import UsageError
from edgebench.zoo.common import compile_model, pooling_2d, start

FULL_BLOCKS = (3, 4, 6, 3)
_EPS = 1.001e-5  # keras.applications' BatchNormalization epsilon


def build_resnet50(input_shape: tuple[int, ...], num_classes: int, *, filters: int = 128, kernel_size: int = 7,
                   dropout: float = 0.5, activation: str = "relu", pooling: str = "globalavg",
                   loss: str = "categorical_crossentropy", optimizer: str = "adam", learning_rate: float = 1e-2,
                   input_size: int | None = None, width_multiplier: float = 1.0,
                   stage_blocks: tuple[int, ...] = FULL_BLOCKS, seed: int | None = None) -> Any:
    if len(input_shape) != 3 or input_shape[0] != input_shape[1]:
        raise UsageError(f"resnet50 takes square images [S, S, C]; got input shape {list(input_shape)}")
    if input_size is not None and input_shape[0] != input_size:
        raise UsageError(f"resnet50: model option input_size = {input_size} but the dataset gives "
                         f"{input_shape[0]}x{input_shape[1]} images; set the dataset's image_size = "
                         f"{input_size} to resize them, or change input_size")
    if input_shape[0] < 32:
        raise UsageError(f"resnet50 needs images of at least 32x32 (five stride-2 stages); got "
                         f"{input_shape[0]}x{input_shape[1]}: set the dataset's image_size = 32 or more")
    tf = start(seed)
    layers = tf.keras.layers
    inputs = tf.keras.Input(shape=input_shape, name="image")
    x = backbone(tf, inputs, width_multiplier, tuple(stage_blocks))
    x = layers.Conv2D(filters, kernel_size, padding="same", activation=activation, name="head_conv")(x)
    if pooling.startswith("global"):
        x = {"globalmax": layers.GlobalMaxPooling2D, "globalavg": layers.GlobalAveragePooling2D}[pooling](
            name="head_pool")(x)
    else:
        x = pooling_2d(layers, pooling, "head_pool")(x)
        x = layers.Flatten(name="head_flatten")(x)
    x = layers.Dropout(dropout, name="head_dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="classifier")(x)
    model = tf.keras.Model(inputs, outputs, name="resnet50")
    return compile_model(model, loss=loss, optimizer=optimizer, learning_rate=learning_rate)


def backbone(tf: Any, inputs: Any, width_multiplier: float, stage_blocks: tuple[int, ...],
             force_own: bool = False) -> Any:
    """Feature map of ResNet-50 (v1) on `inputs`; keras.applications' own model when full size."""
    if width_multiplier == 1.0 and stage_blocks == FULL_BLOCKS and not force_own:
        base = tf.keras.applications.ResNet50(weights=None, include_top=False, input_tensor=inputs)
        return base.output
    layers = tf.keras.layers
    width: Callable[[float], int] = lambda f: max(1, int(round(f * width_multiplier)))  # noqa: E731
    x = layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
    x = layers.Conv2D(width(64), 7, strides=2, name="conv1_conv")(x)
    x = layers.BatchNormalization(epsilon=_EPS, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, (filters, blocks) in enumerate(zip((64, 128, 256, 512), stage_blocks), start=2):
        for b in range(1, blocks + 1):
            stride = 2 if (b == 1 and stage > 2) else 1
            x = _bottleneck(layers, x, width(filters), stride, shortcut_conv=(b == 1), name=f"conv{stage}_block{b}")
    return x


def _bottleneck(layers: Any, x: Any, filters: int, stride: int, *, shortcut_conv: bool, name: str) -> Any:
    if shortcut_conv:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = layers.BatchNormalization(epsilon=_EPS, name=f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = layers.BatchNormalization(epsilon=_EPS, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(epsilon=_EPS, name=f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = layers.BatchNormalization(epsilon=_EPS, name=f"{name}_3_bn")(x)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)
