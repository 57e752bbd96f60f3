"""Which trained models of a study get the optimization variants (`--variants-for default|best|all`).

    default  only the spec-default model
    best     the default model and the tuning's best trials (top_k by accuracy, or the non-dominated set)
    all      the default model and every trial that trained a model, so hyperparameter effects can be
             computed on the optimized models too; a trial that did not finish is reported with its reason

Trials share trained models by content (trial 0 trains the spec's defaults, a sampler may draw the
same point twice): each model is optimized once, under the first source that names it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from edgebench.errors import EdgebenchError, UsageError

VARIANTS_FOR = ("default", "best", "all")


@dataclass(frozen=True)
class Candidate:
    """A trained model to optimize, and where it came from."""

    source: str  # "default" or "trial N"
    trained: Any  # TrainedModel
    trial: int | None  # the first tuning trial that trained this model; None if no trial did
    trial_state: str | None  # that trial's Optuna state (COMPLETE), None without a trial


@dataclass(frozen=True)
class UnfinishedTrial:
    """A tuning trial that did not finish: failed (its reason) or pruned. Its model, if one was trained
    before the failure (a multi-objective trial fails when its timing fails), is not optimized."""

    number: int
    state: str  # FAIL | PRUNED | RUNNING | WAITING (Optuna's names)
    hyperparameters: dict[str, Any]
    trained_id: str | None
    reason: str


def check_variants_for(choice: str) -> str:
    if choice not in VARIANTS_FOR:
        raise UsageError(f"--variants-for {choice!r}: expected one of {', '.join(VARIANTS_FOR)} "
                         "(default: only the spec's default model; best: it and the tuning's best trials; "
                         "all: every trial's model)")
    return choice


def select_candidates(default: Any, trials: Sequence[Any], best: Sequence[Any], choice: str,
                      load_trained: Callable[[str], Any]) -> list[Candidate]:
    """The models to optimize, default first, then trials in the order `best` (best) or by number (all).

    `trials` and `best` are tune.TrialSummary records; `load_trained(id)` loads a TrainedModel."""
    check_variants_for(choice)
    first_trial: dict[str, tuple[int, str]] = {}  # trained id -> (number, state) of the lowest-numbered finished trial that trained it
    for t in sorted(trials, key=lambda t: t.number):
        if t.trained_id and t.state == "COMPLETE":
            first_trial.setdefault(t.trained_id, (t.number, t.state))
    number, state = first_trial.get(default.artifact_id, (None, None))
    out = [Candidate("default", default, number, state)]
    if choice == "default":
        return out
    chosen = best if choice == "best" else sorted(trials, key=lambda t: t.number)
    seen = {default.artifact_id}
    for t in chosen:
        if t.state != "COMPLETE" or not t.trained_id or t.trained_id in seen:
            continue
        seen.add(t.trained_id)
        out.append(Candidate(f"trial {t.number}", load_trained(t.trained_id), t.number, t.state))
    return out


def unfinished_trials(trials: Sequence[Any], resolve: Callable[[dict[str, Any]], dict[str, Any]]
                      ) -> list[UnfinishedTrial]:
    """The trials that did not finish, with the full hyperparameters they asked for (`resolve`
    fills in the spec's defaults) and why: Optuna's recorded failure, or the pruner's decision."""
    out = []
    for t in sorted(trials, key=lambda t: t.number):
        if t.state == "COMPLETE":
            continue
        if t.state == "PRUNED":
            reason = "pruned: stopped early by the tuning's pruner (its intermediate accuracy was not promising)"
        else:
            reason = t.failure or f"no trained model recorded (trial state {t.state})"
        try:
            hyperparameters = resolve(dict(t.params))
        except (EdgebenchError, ValueError):  # a failed trial may hold values the spec refuses: keep them as drawn
            hyperparameters = dict(t.params)
        out.append(UnfinishedTrial(t.number, t.state, hyperparameters, t.trained_id, reason))
    return out
