"""Study specs: the four shipped specs, budget merging, and bad specs failing with file, field and allowed values."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edgebench.errors import UsageError
from edgebench.spec import SpecError, load_spec
from edgebench.spec.study_spec import merge
from edgebench.zoo import ARCHITECTURES
from tests.train.tiny import tiny_toml

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
SHIPPED = ["cnn_image", "resnet50", "cnn_text", "lstm_sentiment"]

# The seed study's defaults (models/*.toml; from its replication package's hyperparameter table).
STUDY_DEFAULTS = {
    "cnn_image": dict(filters=12, kernel_size=3, dropout=0.5, activation="relu", pooling="max",
                      loss="categorical_crossentropy", optimizer="adam", learning_rate=1e-3, batch_size=128, epochs=4),
    "resnet50": dict(filters=128, kernel_size=7, dropout=0.5, activation="relu", pooling="globalavg",
                     loss="categorical_crossentropy", optimizer="adam", learning_rate=1e-2, batch_size=32, epochs=25),
    "cnn_text": dict(filters=128, kernel_size=7, embedding_dim=128, dropout=0.5, activation="relu", pooling="globalmax",
                     loss="binary_crossentropy", optimizer="adam", learning_rate=1e-3, batch_size=32, epochs=3),
    "lstm_sentiment": dict(units=64, embedding_dim=128, dropout=0.5, activation="tanh", loss="binary_crossentropy",
                           optimizer="adam", learning_rate=1e-3, batch_size=32, epochs=2),
}


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_full_budget_declares_the_study_table(name: str) -> None:
    spec = load_spec(MODELS / f"{name}.toml", "full")
    assert spec.architecture == name
    assert spec.defaults() == STUDY_DEFAULTS[name]
    # Every hyperparameter of the study's table is a declared (tunable) dimension, not a silent default.
    declared = set(spec.raw["search_space"])
    assert declared == {d.name for d in ARCHITECTURES[name].hyperparameters}
    assert not any(d.fixed for d in spec.search_space)
    assert spec.dataset.loader in ("mnist", "cifar10", "imdb")
    assert spec.tuning.top_k == 10 and spec.tuning.trials >= 100
    assert spec.optimize.variants[0] == "fp32"


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_smoke_budget_is_offline_and_smaller(name: str) -> None:
    smoke, full = load_spec(MODELS / f"{name}.toml", "smoke"), load_spec(MODELS / f"{name}.toml", "full")
    assert smoke.dataset.loader in ("digits", "sentiment_builtin")  # runs in CI with no data files
    assert smoke.tuning.trials < full.tuning.trials
    assert smoke.dimension("epochs").high <= 8
    assert smoke.measure.protocol == "smoke"
    assert set(smoke.optimize.variants) <= set(full.optimize.variants)


def test_search_space_values_match_the_study() -> None:
    cnn = load_spec(MODELS / "cnn_image.toml")
    assert cnn.dimension("filters").choices == (6, 12, 24, 48, 96, 192)
    assert cnn.dimension("batch_size").choices == (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
    lr = cnn.dimension("learning_rate")
    assert (lr.low, lr.high, lr.log) == (1e-4, 1e-1, True)
    assert cnn.dimension("dropout").kind == "float" and cnn.dimension("epochs").kind == "int"
    assert load_spec(MODELS / "resnet50.toml").dimension("pooling").choices == ("max", "avg", "globalmax", "globalavg")
    assert len(load_spec(MODELS / "lstm_sentiment.toml").dimension("optimizer").choices) == 8


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.toml"
    path.write_text(text)
    return path


def _fails(tmp_path: Path, text: str, budget: str = "smoke") -> str:
    path = _write(tmp_path, text)
    with pytest.raises(SpecError) as info:
        load_spec(path, budget)
    message = str(info.value)
    assert message.startswith(str(path) + ": "), message  # always names the file
    return message


def test_unknown_hyperparameter_names_field_and_allowed(tmp_path: Path) -> None:
    msg = _fails(tmp_path, tiny_toml("cnn_image", extra_space='widht = { choices = [1], default = 1 }'))
    assert "search_space.widht" in msg and "unknown hyperparameter" in msg
    assert "allowed: filters, kernel_size, dropout" in msg


def test_wrong_type_names_field_and_domain(tmp_path: Path) -> None:
    text = tiny_toml("cnn_image").replace("filters = { choices = [8, 16], default = 8 }",
                                          'filters = { choices = ["8", 16], default = 16 }')
    msg = _fails(tmp_path, text)
    assert "search_space.filters.choices" in msg and "expected int, got string '8'" in msg


def test_categorical_given_a_range_is_refused(tmp_path: Path) -> None:
    msg = _fails(tmp_path, tiny_toml("cnn_image", extra_space='activation = { low = 0, high = 1 }'))
    assert "search_space.activation" in msg and "give choices" in msg and "'tanh', 'relu', 'sigmoid'" in msg


@pytest.mark.parametrize("entry, expected", [
    ('dropout = { choices = [], default = 0.5 }', "empty search space"),
    ('dropout = { low = 0.8, high = 0.2 }', "empty search space: low 0.8 > high 0.2"),
    ('dropout = { low = 0.0, high = 0.5, log = true }', "a log range needs low > 0"),
    ('learning_rate = { low = 0.0, high = 0.1, log = true }', "0.0 is out of range; allowed: float in [1e-06, 1]"),
    ('dropout = { low = 0.0, high = 0.3, default = 0.5 }', "0.5 is not in the search space"),
    ('dropout = { low = 0.0, high = 1.5 }', "out of range"),
    ('pooling = { choices = ["max", "max"] }', "duplicate values"),
    ('pooling = { choices = ["max", "globalavg"] }', "'globalavg' is not allowed; allowed: 'max', 'avg'"),
    ('epochs = { low = 1, high = 2, stride = 1 }', "unknown field"),
])
def test_bad_dimensions(tmp_path: Path, entry: str, expected: str) -> None:
    text = tiny_toml("cnn_image").replace("epochs = { low = 1, high = 2, default = 1 }\n", "") + ""
    text = text.replace("[tuning]", entry + "\n" + ("epochs = { low = 1, high = 2, default = 1 }\n"
                                                    if not entry.startswith("epochs") else "") + "\n[tuning]")
    msg = _fails(tmp_path, text)
    assert expected in msg, msg


def test_unknown_optimization_lists_the_grammar(tmp_path: Path) -> None:
    msg = _fails(tmp_path, tiny_toml("cnn_image", variants=["fp32", "prune:0.5+int4"]))
    assert "optimize.variants" in msg and "entry 2 ('prune:0.5+int4')" in msg
    assert "allowed after '+': fp32, dynamic_range, float16, int8" in msg
    msg = _fails(tmp_path, tiny_toml("cnn_image", variants=["distill"]))
    assert "unknown optimization 'distill'" in msg and "prune:<sparsity in (0,1)>" in msg and "qat" in msg


def test_inapplicable_optimization_says_why(tmp_path: Path) -> None:
    msg = _fails(tmp_path, tiny_toml("lstm_sentiment", variants=["fp32", "qat"]))
    assert "qat does not apply to lstm_sentiment" in msg and "covers neither LSTM" in msg
    msg = _fails(tmp_path, tiny_toml("cnn_text", variants=["prune_2_4+int8"]))
    assert "prune_2_4+int8 does not apply to cnn_text" in msg and "Conv1D" in msg


def test_dataset_errors(tmp_path: Path) -> None:
    msg = _fails(tmp_path, tiny_toml("cnn_text").replace('loader = "sentiment_builtin"', 'loader = "mnsit"'))
    assert "dataset.loader" in msg and "unknown or missing loader 'mnsit'" in msg and "cifar10" in msg
    msg = _fails(tmp_path, tiny_toml("cnn_text").replace('loader = "sentiment_builtin"\nsamples = 240\n'
                                                         'num_words = 120\nsequence_length = 16',
                                                         'loader = "mnist"\npath = "mnist"'))
    assert "gives image data but the architecture takes text data" in msg and "imdb" in msg
    msg = _fails(tmp_path, tiny_toml("cnn_image").replace('loader = "digits"', 'loader = "digits"\nimage_sise = 3'))
    assert "dataset.image_sise (budget smoke): unknown field for loader 'digits'" in msg
    assert "allowed: loader, path, validation_fraction" in msg and "image_size, channels" in msg
    msg = _fails(tmp_path, tiny_toml("cnn_image").replace('loader = "digits"', 'loader = "digits"\nchannels = 2'))
    assert "dataset (budget smoke): option channels: expected 1 or 3, got 2" in msg
    msg = _fails(tmp_path, tiny_toml("cnn_image").replace('loader = "digits"', 'loader = "digits"\npath = "x"'))
    assert "dataset.path" in msg and "built in" in msg
    msg = _fails(tmp_path, tiny_toml("cnn_image").replace('train_samples = 160', 'train_samples = -4'))
    assert "dataset.train_samples" in msg


def test_budget_errors(tmp_path: Path) -> None:
    msg = _fails(tmp_path, tiny_toml("cnn_image").replace("[budget.full]\n", ""))
    assert "budget.full: missing table" in msg
    path = _write(tmp_path, tiny_toml("cnn_image"))
    with pytest.raises(SpecError, match="no budget 'huge'; allowed: smoke, full"):
        load_spec(path, "huge")
    # A broken smoke budget is reported even when the full one is loaded, under its own path.
    text = tiny_toml("cnn_image").replace("[budget.smoke]\n", "[budget.smoke]\n[budget.smoke.search_space]\n"
                                          "filters = { choices = [7], default = 8 }\n")
    msg = _fails(tmp_path, text, budget="full")
    assert "budget.smoke.search_space.filters.default (budget smoke): 8 is not in the search space" in msg
    msg = _fails(tmp_path, tiny_toml("cnn_image").replace("[budget.smoke]\n", "[budget.smoke]\ntrials = 3\n"))
    assert "budget.smoke.trials: unknown field" in msg and "tuning" in msg


def test_top_level_and_plan_errors(tmp_path: Path) -> None:
    assert "modle: unknown field" in _fails(tmp_path, "modle = 1\n" + tiny_toml("cnn_image"))
    assert "schema_version: expected 1" in _fails(tmp_path, tiny_toml("cnn_image").replace("schema_version = 1",
                                                                                         "schema_version = 2"))
    msg = _fails(tmp_path, tiny_toml("cnn_image").replace('architecture = "cnn_image"', 'architecture = "vgg"'))
    assert "architecture (budget smoke): unknown architecture 'vgg'; allowed: cnn_image, resnet50, cnn_text, lstm_sentiment" in msg
    msg = _fails(tmp_path, tiny_toml("cnn_image").replace('protocol = "smoke"', 'protocol = "quick"'))
    assert "measure.protocol" in msg and "standard" in msg
    msg = _fails(tmp_path, tiny_toml("cnn_image").replace("top_k = 1", "top_k = 5"))
    assert "tuning.top_k (budget smoke): top_k 5 exceeds trials 2" in msg
    msg = _fails(tmp_path, tiny_toml("resnet50").replace("stage_blocks = [1, 1, 1, 1]", "stage_blocks = [1, 1]"))
    assert "model" in msg and "stage_blocks" in msg and "4 integers" in msg


def test_not_toml_names_the_file(tmp_path: Path) -> None:
    assert "not valid TOML" in _fails(tmp_path, "name = [")
    with pytest.raises(UsageError, match="no such spec file"):
        load_spec(tmp_path / "missing.toml")


def test_merge_replaces_dataset_and_merges_tables() -> None:
    base = {"dataset": {"loader": "mnist", "path": "mnist"}, "search_space": {"epochs": {"low": 1, "high": 9}},
            "optimize": {"variants": ["fp32", "int8"]}}
    over = {"dataset": {"loader": "digits"}, "search_space": {"epochs": {"high": 2}}, "optimize": {"variants": ["fp32"]}}
    merged = merge(base, over)
    assert merged["dataset"] == {"loader": "digits"}  # no stray mnist path
    assert merged["search_space"]["epochs"] == {"low": 1, "high": 2}
    assert merged["optimize"]["variants"] == ["fp32"]
    assert base["search_space"]["epochs"]["high"] == 9  # inputs untouched


def test_resolve_hyperparameters(tmp_path: Path) -> None:
    spec = load_spec(_write(tmp_path, tiny_toml("cnn_image")), "smoke")
    assert spec.resolve_hyperparameters({"filters": 16.0})["filters"] == 16
    with pytest.raises(SpecError, match=r"filters \(budget smoke\): 12 is outside the search space; allowed: 8, 16"):
        spec.resolve_hyperparameters({"filters": 12})
    with pytest.raises(SpecError, match="unknown hyperparameter.*units"):
        spec.resolve_hyperparameters({"units": 8})
    with pytest.raises(SpecError, match="expected float, got string"):
        spec.resolve_hyperparameters({"dropout": "high"})
    # Omitted hyperparameters are fixed at the study default.
    assert spec.dimension("optimizer").choices == ("adam",)


def test_spec_hash_ignores_location_but_not_content(tmp_path: Path) -> None:
    a = load_spec(_write(tmp_path, tiny_toml("cnn_image")), "smoke")
    other = tmp_path / "b"
    other.mkdir()
    b = load_spec(_write(other, tiny_toml("cnn_image")), "smoke")
    c = load_spec(_write(other, tiny_toml("cnn_image").replace("seed = 3", "seed = 4")), "smoke")
    assert a.spec_hash == b.spec_hash != c.spec_hash


def test_loading_specs_imports_no_tensorflow() -> None:
    code = ("import sys; from edgebench.spec import load_spec; "
            "[load_spec(f'models/{n}.toml', b) for n in ('cnn_image','resnet50','cnn_text','lstm_sentiment') "
            "for b in ('smoke','full')]; import edgebench.optimize, edgebench.train, edgebench.zoo; "
            "assert 'tensorflow' not in sys.modules, 'tensorflow imported'")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, env={"PYTHONPATH": str(REPO / "toolchain")})


def _with_measure(extra: str, budget_extra: str = "") -> str:
    text = tiny_toml("cnn_image").replace('[measure]\nprotocol = "smoke"\n', f'[measure]\nprotocol = "smoke"\n{extra}\n')
    return text.replace("[budget.full]\n", f"[budget.full]\n{budget_extra}")


def test_measure_input_shapes_reach_push_and_run(tmp_path: Path) -> None:
    spec = load_spec(_write(tmp_path, _with_measure("input_shapes = { image = [1, 28, 28, 1] }")), "smoke")
    assert spec.measure.input_shapes == (("image", (1, 28, 28, 1)),) and not spec.measure.input_shapes_default
    assert spec.measure.push_and_run_shapes() == ["image=1,28,28,1"]
    spec = load_spec(_write(tmp_path, _with_measure('input_shapes = "default"')), "smoke")
    assert spec.measure.input_shapes_default and spec.measure.push_and_run_shapes() == ["default"]
    plain = load_spec(_write(tmp_path, _with_measure("")), "smoke")
    assert plain.measure.push_and_run_shapes() is None
    assert "input_shapes" not in plain.to_json()["measure"]  # hashes of specs without the key are unchanged
    assert spec.spec_hash != plain.spec_hash


def test_a_budget_can_set_its_own_input_shapes(tmp_path: Path) -> None:
    text = _with_measure("input_shapes = { image = [1, 28, 28, 1] }",
                         budget_extra="[budget.full.measure.input_shapes]\nimage = [4, 28, 28, 1]\n")
    assert load_spec(_write(tmp_path, text), "full").measure.input_shapes == (("image", (4, 28, 28, 1)),)
    assert load_spec(_write(tmp_path, text), "smoke").measure.input_shapes == (("image", (1, 28, 28, 1)),)


@pytest.mark.parametrize("value, needle", [
    ('"all"', 'expected "default" or a table'),
    ("[1, 28, 28, 1]", 'expected "default" or a table'),
    ("{ image = [1, 0, 28, 1] }", "at least 1, got 0"),
    ('{ image = "1,28,28,1" }', "list of whole numbers"),
])
def test_bad_measure_input_shapes_name_the_field(tmp_path: Path, value: str, needle: str) -> None:
    msg = _fails(tmp_path, _with_measure(f"input_shapes = {value}"))
    assert "measure.input_shapes" in msg and needle in msg
