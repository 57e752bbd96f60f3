"""Tuning: samplers run, failures are recorded, resume skips finished trials, multi-objective gives a Pareto set."""
from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
from tiny import tiny_spec  # noqa: E402

import edgebench.train.trainer as trainer  # noqa: E402
from edgebench.errors import UsageError  # noqa: E402
from edgebench.train import ArtifactStore  # noqa: E402
from edgebench.tune import run_tuning  # noqa: E402
from edgebench.tune.space import grid, grid_size  # noqa: E402


class FakeTrainer:
    """Stands in for train_model: accuracy grows with filters and epochs; calls on_epoch_end per epoch."""

    def __init__(self, fail_first: int = 0) -> None:
        self.calls: list[dict] = []
        self.fail_first = fail_first

    def __call__(self, spec, params, *, store, dataset=None, on_epoch_end=None, **_):
        hp = spec.resolve_hyperparameters(params)
        self.calls.append(hp)
        if len(self.calls) <= self.fail_first:
            raise ValueError("synthetic failure: out of memory")
        acc = hp["filters"] / 32 + hp["epochs"] / 10
        for e in range(int(hp["epochs"])):
            if on_epoch_end:
                on_epoch_end(e, {"val_accuracy": acc * (e + 1) / hp["epochs"]})
        return SimpleNamespace(artifact_id=f"id-{hp['filters']}-{hp['epochs']}", val_accuracy=acc, test_accuracy=acc)


@pytest.fixture
def spec(tmp_path):
    return tiny_spec(tmp_path, "cnn_image")


def _tune(spec, tmp_path, **kw):
    return run_tuning(spec, store=ArtifactStore(tmp_path / "artifacts"), workspace=tmp_path, log=lambda _: None, **kw)


@pytest.mark.parametrize("sampler", ["grid", "random", "tpe", "bohb"])
def test_every_single_objective_sampler_runs_and_ranks_by_accuracy(spec, tmp_path, monkeypatch, sampler):
    fake = FakeTrainer()
    monkeypatch.setattr(trainer, "train_model", fake)
    monkeypatch.setattr("edgebench.lineage.record_in_workspace", lambda *a, **k: None)  # fakes have no lineage
    result = _tune(spec, tmp_path, sampler=sampler, trials=4, top_k=2)
    assert len(result.trials) == 4 and result.ran_now == 4
    assert all(t.state in ("COMPLETE", "PRUNED") for t in result.trials)
    values = [t.values[0] for t in result.best]
    assert values == sorted(values, reverse=True) and len(values) <= 2
    assert Path(tmp_path / "optuna.sqlite").is_file()
    if sampler == "grid":  # the 4 trials cover the 2 x 2 grid exactly once
        assert grid_size(spec) == 4
        assert sorted((c["filters"], c["epochs"]) for c in fake.calls) == [(8, 1), (8, 2), (16, 1), (16, 2)]
    else:  # the spec's defaults are trial 0, the sampler's own picks follow
        defaults = {d.name: d.default for d in spec.search_space if not d.fixed}
        assert result.trials[0].params == defaults


def test_grid_spreads_continuous_ranges(tmp_path):
    spec = tiny_spec(tmp_path, "cnn_image", extra_space="learning_rate = { low = 1e-4, high = 1e-2, log = true, default = 1e-3 }")
    lr = grid(spec)["learning_rate"]
    assert lr[0] == pytest.approx(1e-4) and lr[1] == pytest.approx(1e-3) and lr[2] == pytest.approx(1e-2)


def test_a_failing_trial_is_recorded_with_its_reason_and_the_study_goes_on(spec, tmp_path, monkeypatch):
    monkeypatch.setattr(trainer, "train_model", FakeTrainer(fail_first=1))
    monkeypatch.setattr("edgebench.lineage.record_in_workspace", lambda *a, **k: None)  # fakes have no lineage
    result = _tune(spec, tmp_path, sampler="random", trials=3)
    states = [t.state for t in result.trials]
    assert states == ["FAIL", "COMPLETE", "COMPLETE"]
    assert "synthetic failure: out of memory" in result.trials[0].failure
    assert all(t.number != 0 for t in result.best)


def test_resume_continues_without_redoing_finished_trials(spec, tmp_path, monkeypatch):
    fake = FakeTrainer()
    monkeypatch.setattr(trainer, "train_model", fake)
    monkeypatch.setattr("edgebench.lineage.record_in_workspace", lambda *a, **k: None)  # fakes have no lineage
    first = _tune(spec, tmp_path, sampler="random", trials=2)
    second = _tune(spec, tmp_path, sampler="random", trials=3, resume=True)
    assert len(fake.calls) == 3 and second.ran_now == 1
    assert [t.params for t in second.trials[:2]] == [t.params for t in first.trials]
    assert _tune(spec, tmp_path, sampler="random", trials=3, resume=True).ran_now == 0
    assert len(fake.calls) == 3
    fresh = _tune(spec, tmp_path, sampler="random", trials=1)  # without resume: starts over
    assert len(fresh.trials) == 1


def test_a_sampler_that_does_not_fit_the_objectives_is_refused(spec, tmp_path):
    with pytest.raises(UsageError, match="allowed: nsga2"):
        _tune(spec, tmp_path, objectives="multi", sampler="bohb", trials=1)


def test_multi_objective_study_measures_latency_and_yields_a_pareto_set(spec, tmp_path):
    result = _tune(spec, tmp_path, objectives="multi", sampler="nsga2", trials=3, top_k=3, runs=20)
    done = [t for t in result.trials if t.state == "COMPLETE"]
    assert len(done) == 3, [t.failure for t in result.trials]
    for t in done:
        acc, size, latency = t.values
        assert 0 <= acc <= 1 and size > 0 and latency > 0
        assert t.attrs["tflite_sha256"] and t.attrs["run_ids"]
    assert result.best
    # Brute force: no finished trial is at least as accurate, small and fast, and better in one.
    def beats(a, b):
        a, b = (-a[0], a[1], a[2]), (-b[0], b[1], b[2])
        return all(x <= y for x, y in zip(a, b)) and a != b

    front = {t.number for t in done if not any(beats(o.values, t.values) for o in done)}
    assert {t.number for t in result.best} <= front


def test_resume_fails_a_trial_left_running_by_a_killed_process_and_retries_it(spec, tmp_path, monkeypatch):
    import optuna

    from edgebench.tune import default_storage, study_name

    fake = FakeTrainer()
    monkeypatch.setattr(trainer, "train_model", fake)
    monkeypatch.setattr("edgebench.lineage.record_in_workspace", lambda *a, **k: None)  # fakes have no lineage
    _tune(spec, tmp_path, sampler="random", trials=1)
    study = optuna.load_study(study_name=study_name(spec, "accuracy", "random"), storage=default_storage(tmp_path))
    killed = study.ask()  # a trial the killed process never finished
    killed.suggest_categorical("filters", [8, 16])
    result = _tune(spec, tmp_path, sampler="random", trials=3, resume=True)
    # Trial 1 does not count: its retry (trial 2, same parameters) takes its place, so 3 finished trials.
    assert [t.state for t in result.trials] == ["COMPLETE", "FAIL", "COMPLETE", "COMPLETE"]
    assert "interrupted" in result.trials[1].failure and "retried as trial 2" in result.trials[1].failure
    retry = study.trials[2]
    assert retry.system_attrs["failed_trial"] == 1 and retry.params["filters"] == killed.params["filters"]
    assert len(fake.calls) == 3 and result.ran_now == 2
