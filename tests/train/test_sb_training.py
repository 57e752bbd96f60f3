"""Selective-Backprop training for real: accuracy against standard training, the recorded fractions,
Stale-SB's skipped passes, lr_by on a user's own Keras model, every zoo model, record and lineage."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from edgebench.datasets import load_dataset
from edgebench.lineage import record_in_workspace, render, trace
from edgebench.spec import load_spec
from edgebench.spec.selective_backprop import SelectiveBackpropSpec
from edgebench.store import ResultsStore
from edgebench.store.artifacts import from_json, to_json
from edgebench.train import ArtifactStore, train_model, trained_id
from edgebench.train.sb_loop import fit_selective_backprop
from edgebench.workspace import Workspace
from edgebench.zoo._tf import load_tf
from tests.train.tiny import tiny_spec, tiny_toml


def digits_spec(tmp_path: Path, *, batch_size: int, learning_rate: float = 0.003):
    """All of the digits (1,007 train / 432 val examples), a small CNN that converges in 10 epochs."""
    text = (tiny_toml("cnn_image").replace("train_samples = 160\ntest_samples = 64", "validation_fraction = 0.3")
            .replace("choices = [32], default = 32", f"choices = [{batch_size}], default = {batch_size}")
            .replace("epochs = { low = 1, high = 2, default = 1 }",
                     "epochs = { low = 1, high = 10, default = 10 }\ndropout = { choices = [0.2], default = 0.2 }\n"
                     f"learning_rate = {{ choices = [{learning_rate}], default = {learning_rate} }}")
            .replace("choices = [8, 16], default = 8", "choices = [16], default = 16"))
    path = tmp_path / f"digits_{batch_size}.toml"
    path.write_text(text)
    return load_spec(path, "smoke")


def test_sb_reaches_standard_trainings_accuracy_and_is_another_artifact(tmp_path: Path) -> None:
    spec = digits_spec(tmp_path, batch_size=16)
    data = load_dataset(spec.dataset)
    store = ArtifactStore(tmp_path / "artifacts")
    standard = train_model(spec, store=store, dataset=data, seed=0)
    sb_spec = dataclasses.replace(spec, selective_backprop=SelectiveBackpropSpec(beta=2))
    sb = train_model(sb_spec, store=store, dataset=data, seed=0)
    assert standard.val_accuracy is not None and sb.val_accuracy is not None
    assert standard.val_accuracy > 0.9  # both converged, so the comparison means something
    assert abs(sb.val_accuracy - standard.val_accuracy) <= 0.02
    # The SB settings are part of the content address: same spec, seed and data, another artifact.
    assert sb.artifact_id != standard.artifact_id and standard.selective_backprop is None
    assert standard.artifact_id == trained_id(spec, standard.hyperparameters, 0, data.data_hash)
    assert sb.artifact_id == trained_id(sb_spec, sb.hyperparameters, 0, data.data_hash)
    record = sb.selective_backprop
    assert record is not None and record["settings"] == {"beta": 2.0, "history": 1024, "staleness": 0,
                                                         "lr_by": "backpropagated"}
    epochs, n = record["epochs"], sb.dataset.num_train
    assert n == 1007 and len(epochs) == 10 and epochs[0]["primed"] and epochs[0]["examples_backpropagated"] == n
    for e in epochs[1:]:
        assert e["examples_analyzed"] == e["examples_forwarded"] == n
        assert 0 < e["examples_backpropagated"] < n and e["forward_seconds"] > 0 and e["backward_seconds"] > 0
        assert e["backprop_fraction"] == pytest.approx(e["examples_backpropagated"] / n, abs=1e-6)
    # The record survives its JSON, and the results store's lineage says how the model was trained.
    assert from_json(json.loads(json.dumps(to_json(sb))), sb.path) == sb
    record_in_workspace(tmp_path / "ws", store, [sb], note="test")
    results = ResultsStore(Workspace.resolve(tmp_path / "ws").results_store)
    try:
        shown = render(trace(results, sb.artifact_id[:12]))
    finally:
        results.close()
    assert "Selective-Backprop beta 2, backpropagated" in shown and "after priming" in shown


@pytest.mark.parametrize("beta", [1, 3])
def test_a_real_training_backprops_about_one_over_beta_plus_one(tmp_path: Path, beta: int) -> None:
    # The authors' ratio of batch to history (128 of 1024) and a modest learning rate: the loss distribution
    # drifts little across the history. (When it falls fast, new losses rank low and fewer are selected.)
    spec = dataclasses.replace(digits_spec(tmp_path, batch_size=128, learning_rate=0.001),
                               selective_backprop=SelectiveBackpropSpec(beta=beta))
    record = train_model(spec, {"epochs": 4}, store=ArtifactStore(tmp_path / "artifacts"), seed=0)
    assert record.selective_backprop is not None
    totals = record.selective_backprop["totals"]
    assert totals["selective_epochs"] == 3 and totals["examples_analyzed"] == 3 * 1007
    assert totals["backprop_fraction"] == pytest.approx(1 / (beta + 1), abs=0.03)


def test_stale_sb_skips_the_selection_pass_of_losses_younger_than_the_staleness(tmp_path: Path) -> None:
    spec = tiny_spec(tmp_path, "cnn_image")
    data = load_dataset(spec.dataset)
    n = len(data.x_train)
    tf = load_tf()
    model = spec.arch.build(spec.defaults(), input_shape=data.input_shape, num_classes=data.num_classes, seed=0)
    y = np.eye(data.num_classes, dtype=np.float32)[data.y_train]
    result = fit_selective_backprop(model, data.x_train, y, settings=SelectiveBackpropSpec(beta=1, staleness=2),
                                    batch_size=32, epochs=3, seed=0, tf=tf)
    e1, e2, e3 = result.epochs
    # Priming trains on everything, and its training steps cache every example's loss.
    assert (e1.primed, e1.examples_forwarded, e1.examples_backpropagated) == (True, n, n)
    assert e2.examples_forwarded == 0 and e2.examples_analyzed == n  # 1 epoch old: every cached loss reused
    assert 0 < e2.examples_backpropagated < n
    # 2 epochs old unless backpropagated in epoch 2 (the training step refreshes the cache).
    assert e3.examples_forwarded == n - e2.examples_backpropagated


@pytest.mark.parametrize("lr_by", ["backpropagated", "analyzed"])
def test_lr_by_drives_a_users_schedule_by_the_examples_it_counts(lr_by: str) -> None:
    tf = load_tf()
    tf.keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 6)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 300)]
    model = tf.keras.Sequential([tf.keras.Input((6,)), tf.keras.layers.Dense(3, activation="softmax")])
    schedule = tf.keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=5, decay_rate=0.5)
    model.compile(optimizer=tf.keras.optimizers.SGD(schedule), loss="categorical_crossentropy")  # a loss by name
    result = fit_selective_backprop(model, x, y, settings=SelectiveBackpropSpec(beta=1, lr_by=lr_by),
                                    batch_size=50, epochs=3, validation_data=(x[:60], y[:60]), seed=0, tf=tf)
    counted = 900 if lr_by == "analyzed" else sum(e.examples_backpropagated for e in result.epochs)
    assert counted < 900 or lr_by == "analyzed"
    assert result.lr_schedule == "ExponentialDecay"
    # The schedule now in the optimizer (what its next step would use) sits at counted examples / batch size.
    next_lr = model.optimizer._learning_rate(model.optimizer.iterations)
    assert float(next_lr) == pytest.approx(float(schedule(counted / 50)), rel=1e-5)
    assert int(model.optimizer.iterations) == sum(e.backprop_batches for e in result.epochs)
    # Full batches of 50 selected examples, then the epoch's leftovers flushed as one smaller batch.
    for e in result.epochs[1:]:
        assert e.backprop_batches == -(-e.examples_backpropagated // 50)
    assert any(e.examples_backpropagated % 50 for e in result.epochs[1:])
    assert set(result.history) == {"loss", "backprop_fraction", "val_loss"} and len(result.history["loss"]) == 3


@pytest.mark.parametrize("arch", ["cnn_image", "resnet50", "cnn_text", "lstm_sentiment"])
def test_every_zoo_model_trains_with_sb(tmp_path: Path, arch: str) -> None:
    spec = dataclasses.replace(tiny_spec(tmp_path, arch), selective_backprop=SelectiveBackpropSpec(beta=1))
    record = train_model(spec, {"epochs": 2}, store=ArtifactStore(tmp_path / "a"), seed=0)
    assert record.selective_backprop is not None and record.epochs_run == 2
    second = record.selective_backprop["epochs"][1]
    assert 0 < second["examples_backpropagated"] < record.dataset.num_train


def test_a_searched_beta_is_a_hyperparameter_of_the_trained_model(tmp_path: Path) -> None:
    path = tmp_path / "searched.toml"
    path.write_text(tiny_toml("cnn_image", extra_space="selective_backprop.beta = { choices = [1, 3], default = 3 }")
                    .replace("[budget.smoke]", "[train.selective_backprop]\nhistory = 64\n\n[budget.smoke]"))
    spec = load_spec(path, "smoke")
    store = ArtifactStore(tmp_path / "a")
    # What a tuning trial does: train_model with the sampled point of the search space.
    record = train_model(spec, {"selective_backprop.beta": 1, "epochs": 2}, store=store, seed=0)
    assert record.hyperparameters["selective_backprop.beta"] == 1.0
    assert record.selective_backprop is not None
    assert record.selective_backprop["settings"] == {"beta": 1.0, "history": 64, "staleness": 0,
                                                     "lr_by": "backpropagated"}
    other = trained_id(spec, {**record.hyperparameters, "selective_backprop.beta": 3.0}, 0, record.dataset.data_hash)
    assert other != record.artifact_id


def test_tuning_samples_beta_and_trains_each_trial_with_it(tmp_path: Path) -> None:
    from edgebench.tune import run_tuning

    path = tmp_path / "tuned.toml"
    path.write_text(tiny_toml("cnn_image", extra_space="selective_backprop.beta = { low = 0.5, high = 4, default = 3 }")
                    .replace("[budget.smoke]", "[train.selective_backprop]\n\n[budget.smoke]"))
    spec = load_spec(path, "smoke")
    store = ArtifactStore(tmp_path / "artifacts")
    result = run_tuning(spec, store=store, workspace=tmp_path, sampler="random", trials=2, log=lambda _: None)
    betas = [t.params["selective_backprop.beta"] for t in result.trials]
    assert betas[0] == 3.0 and 0.5 <= betas[1] <= 4 and betas[1] != 3.0
    for trial, beta in zip(result.trials, betas):
        assert trial.state == "COMPLETE" and trial.trained_id is not None
        record = store.load("trained", trial.trained_id)
        assert record.kind == "trained" and record.selective_backprop is not None
        assert record.selective_backprop["settings"]["beta"] == beta
