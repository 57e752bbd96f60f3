"""Tiny study specs for fast tests: offline data, a few hundred to a few thousand parameters, 1 epoch.

`tiny_spec(tmp_path, "cnn_image")` writes a TOML spec into tmp_path and loads it (smoke budget),
so the tests go through exactly the parsing and validation a user's spec goes through.
"""
from __future__ import annotations

from pathlib import Path

from edgebench.spec import StudySpec, load_spec

# The stage commands, for CLI tests to register until cli/main.py lists them (harmless after).
STAGE_COMMANDS = {
    "train": ("edgebench.cli.train_cmd", "Train one model of a study spec."),
    "optimize": ("edgebench.cli.optimize_cmd", "Prune, cluster or QAT a trained model."),
    "convert": ("edgebench.cli.convert_cmd", "Convert to .tflite and validate on this host."),
}

ALL_VARIANTS = {
    "cnn_image": ["fp32", "dynamic_range", "float16", "int8", "prune:0.5", "prune_2_4", "cluster:4", "qat",
                  "prune:0.5+int8", "prune_2_4+float16", "cluster:4+int8"],
    "resnet50": ["fp32", "dynamic_range", "float16", "int8", "prune:0.5", "prune_2_4", "cluster:4", "qat",
                 "prune:0.5+int8", "prune_2_4+int8", "cluster:4+dynamic_range"],
    "cnn_text": ["fp32", "dynamic_range", "float16", "int8", "prune:0.5", "cluster:4", "qat", "prune:0.5+int8",
                 "cluster:4+float16"],
    "lstm_sentiment": ["fp32", "dynamic_range", "float16", "int8", "prune:0.5", "prune_2_4", "cluster:4",
                       "prune:0.5+int8", "prune_2_4+dynamic_range", "cluster:4+int8"],
}

_DATA = {
    "cnn_image": 'loader = "digits"\ntrain_samples = 160\ntest_samples = 64',
    "resnet50": 'loader = "digits"\nimage_size = 32\nchannels = 3\ntrain_samples = 96\ntest_samples = 32',
    "cnn_text": 'loader = "sentiment_builtin"\nsamples = 240\nnum_words = 120\nsequence_length = 16',
    "lstm_sentiment": 'loader = "sentiment_builtin"\nsamples = 240\nnum_words = 120\nsequence_length = 8',
}
_SPACE = {
    "cnn_image": 'filters = { choices = [8, 16], default = 8 }\nkernel_size = { choices = [3], default = 3 }',
    "resnet50": 'filters = { choices = [8], default = 8 }\nkernel_size = { choices = [3], default = 3 }',
    "cnn_text": ('filters = { choices = [8], default = 8 }\nkernel_size = { choices = [3], default = 3 }\n'
                 'embedding_dim = { choices = [8], default = 8 }'),
    "lstm_sentiment": 'units = { choices = [8], default = 8 }\nembedding_dim = { choices = [8], default = 8 }',
}
_MODEL = {"resnet50": "width_multiplier = 0.0625\nstage_blocks = [1, 1, 1, 1]", "cnn_image": "conv_blocks = 2"}


def tiny_toml(arch: str, *, variants: list[str] | None = None, extra_space: str = "") -> str:
    variants = variants or ALL_VARIANTS[arch]
    listed = ", ".join(f'"{v}"' for v in variants)
    return f"""schema_version = 1
name = "tiny_{arch}"
architecture = "{arch}"
seed = 3

[model]
{_MODEL.get(arch, "")}

[dataset]
{_DATA[arch]}

[search_space]
{_SPACE[arch]}
batch_size = {{ choices = [32], default = 32 }}
epochs = {{ low = 1, high = 2, default = 1 }}
{extra_space}

[tuning]
trials = 2
top_k = 1

[optimize]
variants = [{listed}]
finetune_epochs = 1
calibration_samples = 16
validation_samples = 48

[measure]
protocol = "smoke"

[budget.smoke]
[budget.full]
"""


def tiny_spec(tmp_path: Path, arch: str, **kwargs: object) -> StudySpec:
    path = tmp_path / f"tiny_{arch}.toml"
    path.write_text(tiny_toml(arch, **kwargs))  # type: ignore[arg-type]
    return load_spec(path, "smoke")
