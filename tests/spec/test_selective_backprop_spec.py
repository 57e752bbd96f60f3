"""`[train.selective_backprop]` and `--selective-backprop`: parsed settings, beta as a search dimension,
and errors that name the key and its allowed values. No TensorFlow."""
from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.errors import UsageError
from edgebench.spec import SpecError, load_spec
from edgebench.spec.selective_backprop import BETA_DIMENSION, SelectiveBackpropSpec, parse_cli
from edgebench.tune.space import grid, tunable
from tests.train.tiny import tiny_toml


def write(tmp_path: Path, train: str = "", space: str = "", budget: str = "") -> Path:
    text = tiny_toml("cnn_image", extra_space=space).replace("[budget.smoke]", f"{train}\n\n[budget.smoke]\n{budget}")
    path = tmp_path / "sb.toml"
    path.write_text(text)
    return path


def test_settings_are_read_with_their_defaults_and_change_the_spec_hash(tmp_path: Path) -> None:
    plain = load_spec(write(tmp_path), "smoke")
    assert plain.selective_backprop is None and "train" not in plain.to_json()
    spec = load_spec(write(tmp_path, "[train.selective_backprop]\nbeta = 3"), "smoke")
    assert spec.selective_backprop == SelectiveBackpropSpec(beta=3.0, history=1024, staleness=0, lr_by="backpropagated")
    assert spec.spec_hash != plain.spec_hash
    full = load_spec(write(tmp_path, '[train.selective_backprop]\nbeta = 1.5\nhistory = 256\nstaleness = 2\n'
                                     'lr_by = "analyzed"'), "smoke")
    assert full.selective_backprop == SelectiveBackpropSpec(1.5, 256, 2, "analyzed")
    assert full.to_json()["train"] == {"selective_backprop": {"beta": 1.5, "history": 256, "staleness": 2,
                                                              "lr_by": "analyzed"}}


def test_a_budget_overrides_one_key(tmp_path: Path) -> None:
    path = write(tmp_path, "[train.selective_backprop]\nbeta = 3", budget="[budget.smoke.train.selective_backprop]\n"
                 "staleness = 3")
    assert load_spec(path, "smoke").selective_backprop == SelectiveBackpropSpec(3.0, staleness=3)
    assert load_spec(path, "full").selective_backprop == SelectiveBackpropSpec(3.0)


def test_beta_is_a_search_dimension_the_tuner_sees(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, "[train.selective_backprop]\nhistory = 512",
                           f"{BETA_DIMENSION} = {{ choices = [1, 2, 3], default = 2 }}"), "smoke")
    assert BETA_DIMENSION in {d.name for d in tunable(spec)} and grid(spec)[BETA_DIMENSION] == [1.0, 2.0, 3.0]
    assert spec.selective_backprop_for(spec.defaults()) == SelectiveBackpropSpec(2.0, history=512)
    chosen = spec.resolve_hyperparameters({BETA_DIMENSION: 3})
    assert spec.selective_backprop_for(chosen) == SelectiveBackpropSpec(3.0, history=512)
    with pytest.raises(SpecError, match=r"search_space.selective_backprop.beta \(budget smoke\): 4.0 is outside"):
        spec.resolve_hyperparameters({BETA_DIMENSION: 4})
    ranged = load_spec(write(tmp_path, "[train.selective_backprop]",
                             f"{BETA_DIMENSION} = {{ low = 1, high = 4, default = 3 }}"), "smoke")
    assert ranged.dimension(BETA_DIMENSION).kind == "float" and ranged.defaults()[BETA_DIMENSION] == 3.0


@pytest.mark.parametrize("train, space, message", [
    ("beta = 0", "", "train.selective_backprop.beta (budget smoke): 0 is out of range; allowed: a number in [0.01, 100]"),
    ('beta = "3"', "", "train.selective_backprop.beta (budget smoke): expected a number, got str '3'"),
    ("history = 10", "", "train.selective_backprop.beta (budget smoke): missing"),
    ("beta = 3\nhistory = 0", "", "train.selective_backprop.history (budget smoke): 0 is out of range; allowed: "
     "integers in [1, 1000000]"),
    ("beta = 3\nhistory = 2.5", "", "train.selective_backprop.history (budget smoke): expected an integer"),
    ("beta = 3\nstaleness = -1", "", "train.selective_backprop.staleness (budget smoke): -1 is out of range"),
    ('beta = 3\nlr_by = "steps"', "", "train.selective_backprop.lr_by (budget smoke): unknown value 'steps'; "
     "allowed: backpropagated, analyzed"),
    ("beta = 3\nprob_pow = 3", "", "train.selective_backprop.prob_pow (budget smoke): unknown field; allowed: beta, "
     "history, staleness, lr_by"),
    ("beta = 3", f"{BETA_DIMENSION} = {{ choices = [1, 2], default = 2 }}", "beta is also a search dimension"),
    ("", f"{BETA_DIMENSION} = {{ choices = [1, 2], default = 2 }}", "search_space.selective_backprop.beta (budget smoke): tunes "
     "Selective-Backprop's beta, but the spec trains without it; allowed: add [train.selective_backprop]"),
    ("", f"{BETA_DIMENSION} = {{ choices = [0, 2] }}", "search_space.selective_backprop.beta.choices"),
    ("", "selective_backprop.history = { choices = [1] }", "search_space.selective_backprop (budget smoke): expected "
     "only a beta dimension"),
])
def test_bad_settings_name_the_key_and_the_allowed_values(tmp_path: Path, train: str, space: str, message: str) -> None:
    header = "[train.selective_backprop]\n" + train if train else ""
    with pytest.raises(SpecError) as info:
        load_spec(write(tmp_path, header, space), "smoke")
    assert message in str(info.value)


def test_train_table_takes_only_known_fields(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"train.sb \(budget smoke\): unknown field; allowed: selective_backprop"):
        load_spec(write(tmp_path, "[train.sb]\nbeta = 3"), "smoke")
    with pytest.raises(SpecError, match="train.selective_backprop .*expected a table, got int 3"):
        load_spec(write(tmp_path, "[train]\nselective_backprop = 3"), "smoke")


def test_cli_text_overrides_the_spec_settings_key_by_key() -> None:
    assert parse_cli("beta=3") == (SelectiveBackpropSpec(3.0), True)
    assert parse_cli("beta=2.5,history=512,staleness=2,lr_by=analyzed") == (
        SelectiveBackpropSpec(2.5, 512, 2, "analyzed"), True)
    assert parse_cli(" staleness = 3 ", SelectiveBackpropSpec(1.0, 256)) == (SelectiveBackpropSpec(1.0, 256, 3), False)


@pytest.mark.parametrize("text, message", [
    ("3", "expected KEY=VALUE pairs separated by commas, got '3'; keys: beta, history, staleness, lr_by"),
    ("history=512", "beta: missing"),
    ("beta=x", "beta: expected a number, got 'x'"),
    ("beta=-1", "beta: -1 is out of range; allowed: a number in [0.01, 100]"),
    ("beta=3,history=1.5", "history: expected an integer, got float 1.5"),
    ("beta=3,lr_by=steps", "lr_by: unknown value 'steps'; allowed: backpropagated, analyzed"),
    ("beta=3,beta=2", "beta: given twice"),
    ("beta=3,window=5", "window: unknown key; allowed: beta, history, staleness, lr_by"),
])
def test_bad_cli_text_says_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_cli(text)
    assert message in str(info.value) and "e.g. --selective-backprop beta=3" in str(info.value)
