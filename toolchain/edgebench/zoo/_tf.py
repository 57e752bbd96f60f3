"""Lazy TensorFlow import with Keras 2 (tf-keras), which TF-MOT needs.

`TF_USE_LEGACY_KERAS=1` only works if it is set before TensorFlow's first import, so every
module that needs TensorFlow calls `load_tf()` inside its functions, never at import time.
"""
from __future__ import annotations

import os
import sys
from types import ModuleType

from edgebench.errors import EdgebenchError


def load_tf() -> ModuleType:
    """Import TensorFlow with tf.keras bound to tf-keras (Keras 2); fail clearly if too late."""
    if "tensorflow" not in sys.modules:
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise EdgebenchError(
            "training, optimization and conversion need TensorFlow; install the extra: "
            "pip install 'edgebench[train]'") from exc
    if not tf.keras.__name__.startswith("tf_keras"):
        raise EdgebenchError(
            f"TensorFlow was imported with Keras 3 ({tf.keras.__name__}) before edgebench could select "
            "Keras 2; TF-MOT needs tf-keras. Set TF_USE_LEGACY_KERAS=1 in the environment before "
            "starting Python (and install tf-keras).")
    # Python-side TF warnings (retracing notes, "compiled metrics not built") are noise here, unless
    # the user asked for everything (`edgebench --verbose` sets EDGEBENCH_VERBOSE=1).
    if os.environ.get("EDGEBENCH_VERBOSE") != "1":
        tf.get_logger().setLevel("ERROR")
    module: ModuleType = tf
    return module


def load_tfmot() -> ModuleType:
    load_tf()
    try:
        import tensorflow_model_optimization as tfmot
    except ImportError as exc:  # pragma: no cover
        raise EdgebenchError("optimization needs tensorflow-model-optimization; "
                             "pip install 'edgebench[train]'") from exc
    module: ModuleType = tfmot
    return module
