"""train_model: content-addressed, reusable, atomic; clear errors when data and model do not fit."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgebench.datasets import DatasetError, DatasetSpec, load_dataset
from edgebench.errors import UsageError
from edgebench.store.artifacts import from_json, to_json
from edgebench.train import ArtifactStore, load_keras, train_model, trained_id
from tests.train.tiny import tiny_spec


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("train")
    spec = tiny_spec(root, "cnn_image")
    store = ArtifactStore(root / "artifacts")
    seen: list[tuple[int, dict]] = []
    record = train_model(spec, {"epochs": 2}, store=store, on_epoch_end=lambda e, logs: seen.append((e, logs)))
    return spec, store, record, seen


def test_record_describes_the_model_and_its_inputs(trained) -> None:
    spec, store, record, seen = trained
    assert record.kind == "trained" and record.architecture == "cnn_image"
    assert record.hyperparameters == {**spec.defaults(), "epochs": 2}
    assert record.seed == 3 and record.epochs_run == 2 and len(record.history["loss"]) == 2
    assert [e for e, _ in seen] == [0, 1] and "val_accuracy" in seen[0][1]
    assert 0.0 <= record.test_accuracy <= 1.0 and record.val_accuracy is not None
    assert record.dataset.loader == "digits" and record.dataset.num_train == 144 and record.dataset.num_test == 64
    assert record.spec["optimize"]["variants"] == list(spec.optimize.variants)
    assert record.path.is_file() and record.path.name == "model.h5"
    assert record.path.parent.name == record.artifact_id == trained_id(spec, record.hyperparameters, 3,
                                                                       record.dataset.data_hash)
    assert "tensorflow" in record.versions


def test_stored_model_reloads_with_the_same_outputs(trained) -> None:
    spec, store, record, _ = trained
    ds = load_dataset(spec.dataset)
    model = load_keras(record)
    acc = float(np.mean(np.argmax(model.predict(ds.x_test, verbose=0), axis=-1) == ds.y_test))
    assert acc == pytest.approx(record.test_accuracy)


def test_same_inputs_reuse_the_artifact_and_new_inputs_do_not(trained) -> None:
    spec, store, record, _ = trained
    again = train_model(spec, {"epochs": 2}, store=store, on_epoch_end=lambda *a: pytest.fail("retrained"))
    assert again == record
    assert trained_id(spec, record.hyperparameters, 4, record.dataset.data_hash) != record.artifact_id
    assert trained_id(spec, {**record.hyperparameters, "filters": 16}, 3, record.dataset.data_hash) != record.artifact_id
    assert trained_id(spec, record.hyperparameters, 3, "0" * 64) != record.artifact_id


def test_record_json_round_trips(trained) -> None:
    _, store, record, _ = trained
    data = json.loads((record.path.parent / "record.json").read_text())
    assert from_json(data, record.path) == record
    assert to_json(record) == data


def test_an_interrupted_training_leaves_nothing(tmp_path: Path) -> None:
    spec = tiny_spec(tmp_path, "cnn_image")
    store = ArtifactStore(tmp_path / "artifacts")

    def stop(epoch: int, logs: dict) -> None:
        raise KeyboardInterrupt  # what a tuner's pruning or Ctrl-C looks like

    with pytest.raises(KeyboardInterrupt):
        train_model(spec, {"epochs": 2}, store=store, on_epoch_end=stop)
    assert store.records() == []
    assert not (tmp_path / "artifacts" / "trained").exists() or not any((tmp_path / "artifacts" / "trained").iterdir())
    assert not any((tmp_path / "artifacts" / ".tmp").glob("*")) if (tmp_path / "artifacts" / ".tmp").exists() else True


def test_hyperparameters_outside_the_space_are_refused_before_training(tmp_path: Path) -> None:
    spec = tiny_spec(tmp_path, "cnn_image")
    store = ArtifactStore(tmp_path / "artifacts")
    with pytest.raises(UsageError, match=r"search_space.filters \(budget smoke\): 12 is outside the search space; allowed: 8, 16"):
        train_model(spec, {"filters": 12}, store=store)
    assert store.records() == []


def test_dataset_that_does_not_fit_the_model(tmp_path: Path) -> None:
    spec = tiny_spec(tmp_path, "lstm_sentiment")
    store = ArtifactStore(tmp_path / "artifacts")
    digits = load_dataset(DatasetSpec("digits"))
    with pytest.raises(DatasetError, match="was loaded from .*digits.* not from this spec's"):
        train_model(spec, store=store, dataset=digits)
    from edgebench.train.trainer import check_dataset

    with pytest.raises(DatasetError, match=r"dataset 'digits' gives image data of shape \[8, 8, 1\], but lstm_sentiment "
                                           r"takes text data"):
        check_dataset(spec.arch, digits, f"{spec.source}: dataset")


def test_store_lookup_by_prefix(trained) -> None:
    _, store, record, _ = trained
    assert store.resolve(record.artifact_id[:8]) == record
    with pytest.raises(UsageError, match="too short"):
        store.resolve("ab")
    with pytest.raises(UsageError, match=r"no trained artifact 'ffffffffff' .*recent: trained "):
        store.resolve("ffffffffff", kinds=("trained",))
