"""Which trained models get the variants (`--variants-for`), and the study's accuracy/latency front:
synthetic trial summaries and rows, no training."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from edgebench.errors import UsageError
from edgebench.study.candidates import select_candidates, unfinished_trials
from edgebench.study.run import VariantRow, _mark_front
from edgebench.tune import TrialSummary


def _trial(number, state="COMPLETE", trained_id=None, failure=None, params=None):
    return TrialSummary(number=number, state=state, params=params or {"filters": 8}, values=(0.5,) if state == "COMPLETE"
                        else None, trained_id=trained_id, failure=failure, attrs={})


DEFAULT = SimpleNamespace(artifact_id="t-default")
# trial 0 trained the defaults, trials 1 and 4 their own models, 3 repeats trial 1's point, 2 failed, 5 was
# pruned, 6 trained a model but failed afterwards (a multi-objective trial whose timing failed)
TRIALS = (_trial(0, trained_id="t-default"), _trial(1, trained_id="t-1"),
          _trial(2, "FAIL", failure="ValueError: out of memory", params={"filters": 16}),
          _trial(3, trained_id="t-1"), _trial(4, trained_id="t-4"), _trial(5, "PRUNED"),
          _trial(6, "FAIL", trained_id="t-6", failure="RuntimeError: no latency measured on local"))
BEST = (TRIALS[4], TRIALS[0])


def _load(trained_id):
    return SimpleNamespace(artifact_id=trained_id)


def _picked(choice):
    return [(c.source, c.trained.artifact_id, c.trial, c.trial_state)
            for c in select_candidates(DEFAULT, TRIALS, BEST, choice, _load)]


def test_default_optimizes_only_the_spec_default_model_and_names_the_trial_that_trained_it():
    assert _picked("default") == [("default", "t-default", 0, "COMPLETE")]


def test_best_adds_the_tuning_best_trials_in_their_order():
    assert _picked("best") == [("default", "t-default", 0, "COMPLETE"), ("trial 4", "t-4", 4, "COMPLETE")]


def test_all_adds_every_finished_trial_model_once_under_its_first_trial_and_no_failed_trial_model():
    assert _picked("all") == [("default", "t-default", 0, "COMPLETE"), ("trial 1", "t-1", 1, "COMPLETE"),
                              ("trial 4", "t-4", 4, "COMPLETE")]


def test_without_tuning_the_default_model_has_no_trial():
    assert [(c.source, c.trial) for c in select_candidates(DEFAULT, (), (), "all", _load)] == [("default", None)]


def test_an_unknown_choice_says_what_is_allowed():
    with pytest.raises(UsageError, match="expected one of default, best, all"):
        select_candidates(DEFAULT, TRIALS, BEST, "every", _load)


def test_unfinished_trials_keep_their_hyperparameters_state_and_reason():
    out = unfinished_trials(TRIALS, lambda params: {"filters": 8, "epochs": 1, **params})
    assert [(t.number, t.state, t.hyperparameters, t.trained_id) for t in out] == [
        (2, "FAIL", {"filters": 16, "epochs": 1}, None), (5, "PRUNED", {"filters": 8, "epochs": 1}, None),
        (6, "FAIL", {"filters": 8, "epochs": 1}, "t-6")]
    assert out[0].reason == "ValueError: out of memory" and "pruned" in out[1].reason and "latency" in out[2].reason


def _row(accuracy, latency_us, status="measured"):
    return VariantRow(source="default", trained_id="t", hyperparameters={}, val_accuracy=None, variant="v",
                      tflite_sha256=None, tflite_path=None, size_bytes=None, gzip_size_bytes=None,
                      test_accuracy=accuracy, latency_median_us=latency_us, energy_mj_per_inference=None,
                      simulated=None, run_ids=(), status=status, problem=None)


def test_front_maximizes_accuracy_and_minimizes_latency():
    rows = [_row(0.9, 10.0), _row(0.8, 5.0), _row(0.7, 6.0), _row(0.9, 12.0), _row(None, None, "build_failed"),
            _row(0.9, 10.0)]
    assert [r.non_dominated for r in _mark_front(rows)] == [True, True, False, False, False, True]


def test_front_of_one_measured_variant_or_none():
    assert [r.non_dominated for r in _mark_front([_row(0.5, 3.0), _row(None, None, "run_failed")])] == [True, False]
    assert _mark_front([_row(None, None, "run_failed")])[0].non_dominated is False
