"""Tune a study spec with Optuna: one objective (validation accuracy) or three (accuracy, size, latency).

    run_tuning(spec, store=..., workspace=..., sampler="tpe", trials=20) -> TuningResult

Studies live in Optuna storage (default: `sqlite:///<workspace>/optuna.sqlite`; tune/storage.py) under
a name derived from the spec's hash, the objectives and the sampler, so `resume=True` continues a study
that was stopped without redoing its finished trials, and `join=True` lets workers on several hosts
share one in PostgreSQL (tune/worker.py: an exact budget, retries of trials whose worker died). A trial
that raises is recorded as failed with its reason in the user attr `failure`, and the study goes on.
"""
from __future__ import annotations

import os
import sys
import time
import traceback
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Literal, Mapping

from edgebench.datasets.base import Dataset
from edgebench.errors import UsageError
from edgebench.spec import StudySpec
from edgebench.store.artifacts import ArtifactStore
from edgebench.tune.space import grid, grid_size, suggest_all, tunable
from edgebench.tune.storage import (HeartbeatPolicy, TuningStorage, heartbeat_policy, open_storage, parse_storage_url,
                                    trial_lock)
from edgebench.tune.worker import fail_interrupted, ledger, work_on_study, worker_identity

SINGLE_SAMPLERS = ("tpe", "random", "grid", "bohb")
MULTI_SAMPLERS = ("nsga2", "tpe", "random")
DEFAULT_MULTI_SAMPLER = "tpe"  # MOTPE: steadier than NSGA-II at budgets of tens of trials (benchmarks/tuning_efficiency.py)
StudyDirectionName = Literal["minimize", "maximize"]
# accuracy, size bytes, latency median µs
MULTI_DIRECTIONS: tuple[StudyDirectionName, ...] = ("maximize", "minimize", "minimize")
OBJECTIVES = ("accuracy", "multi")


@dataclass(frozen=True)
class TrialSummary:
    number: int
    state: str  # COMPLETE | PRUNED | FAIL | RUNNING
    params: dict[str, Any]
    values: tuple[float, ...] | None  # (val accuracy,) or (val accuracy, size bytes, latency median µs)
    trained_id: str | None
    failure: str | None
    attrs: dict[str, Any]


@dataclass(frozen=True)
class TuningResult:
    study_name: str
    storage: str  # its URL, password hidden
    objectives: str
    sampler: str
    trials: tuple[TrialSummary, ...]
    best: tuple[TrialSummary, ...]  # top_k by accuracy, or the non-dominated set (by accuracy, top_k first)
    ran_now: int  # trials run to their end by this call (earlier calls and other workers ran the rest)


def study_name(spec: StudySpec, objectives: str, sampler: str) -> str:
    return f"{spec.name}-{spec.budget}-{spec.spec_hash[:12]}-{objectives}-{sampler}"


def make_sampler(objectives: str, sampler: str, spec: StudySpec, seed: int, trials: int | None = None,
                 distributed: bool = False) -> tuple[Any, Any]:
    """(sampler, pruner) for the objectives and a budget of `trials` (default: the spec's);
    a UsageError listing the allowed names otherwise. `distributed`: other workers run trials of the
    study at the same time (TPE then counts their running trials as bad ones, its "constant liar",
    rather than drawing the same point again)."""
    import optuna

    allowed = SINGLE_SAMPLERS if objectives == "accuracy" else MULTI_SAMPLERS
    if sampler not in allowed:
        raise UsageError(f"sampler {sampler!r} does not fit {objectives!r} tuning; allowed: {', '.join(allowed)}")
    budget = spec.tuning.trials if trials is None else trials
    s: optuna.samplers.BaseSampler
    pruner: optuna.pruners.BasePruner = optuna.pruners.NopPruner()
    if sampler == "grid":
        s = optuna.samplers.GridSampler(grid(spec), seed=seed)
    elif sampler == "random":
        s = optuna.samplers.RandomSampler(seed=seed)
    elif sampler == "nsga2":
        # A generation of a third of the budget: at least three generations evolve (Optuna's default
        # of 50 would leave a 30-trial study entirely random).
        s = optuna.samplers.NSGAIISampler(seed=seed, population_size=max(4, min(50, budget // 3)))
    else:  # tpe (MOTPE when multi-objective), and bohb = TPE + Hyperband over epochs (BOHB in Optuna's terms)
        s = optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=min(10, max(2, budget // 5)),
                                       constant_liar=distributed)
        if sampler == "bohb":
            epochs = spec.dimension("epochs") if "epochs" in {d.name for d in spec.search_space} else None
            top = int(epochs.high if epochs is not None and epochs.high is not None else spec.defaults()["epochs"])
            pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(top, 2), reduction_factor=3)
    return s, pruner


def run_tuning(spec: StudySpec, *, store: ArtifactStore, workspace: str | os.PathLike[str],
               objectives: str = "accuracy", sampler: str | None = None, trials: int | None = None,
               storage: str | None = None, resume: bool = False, join: bool = False,
               heartbeat_s: int | None = None, grace_s: int | None = None, dataset: Dataset | None = None,
               data_dir: str | os.PathLike[str] | None = None, target: str = "local", runs: int | None = None,
               timeout_minutes: float | None = None, top_k: int | None = None, seed: int | None = None,
               log: Callable[[str], None] | None = None) -> TuningResult:
    """Run the study until it holds `trials` finished trials (default: the spec's budget), counting those
    of every worker that joined it. Without `resume` or `join` an existing study of the same name is
    replaced in a SQLite file and refused in a server database (others may be working on it); `resume`
    continues it alone (trials left running are retried); `join` works on it, created if missing,
    beside other workers."""
    import optuna

    from edgebench.datasets.loaders import load_dataset

    if objectives not in OBJECTIVES:
        raise UsageError(f"objectives {objectives!r}: allowed: {', '.join(OBJECTIVES)}")
    if resume and join:
        raise UsageError("--resume and --join exclude each other: --resume continues a study no one else works on "
                         "(its running trials are retried at once), --join works on it beside other workers")
    policy = heartbeat_policy(heartbeat_s, grace_s)
    where = parse_storage_url(storage, workspace)
    sampler = sampler or (spec.tuning.sampler if objectives == "accuracy" else DEFAULT_MULTI_SAMPLER)
    trials = spec.tuning.trials if trials is None else trials
    if sampler == "grid":
        trials = min(trials, grid_size(spec))  # the grid sampler draws every point once, then stops
    top_k = spec.tuning.top_k if top_k is None else top_k
    seed = spec.seed if seed is None else seed
    timeout_minutes = spec.tuning.timeout_minutes if timeout_minutes is None else timeout_minutes
    log = log or (lambda text: print(text, file=sys.stderr, flush=True))
    name = study_name(spec, objectives, sampler)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Workers of one study draw different points: each seeds its sampler with its host and pid too.
    s, pruner = make_sampler(objectives, sampler, spec, worker_seed(seed) if join else seed, trials,
                             distributed=join)
    directions: list[StudyDirectionName] = ["maximize"] if objectives == "accuracy" else list(MULTI_DIRECTIONS)
    with trial_lock(where) as lock:
        lock.acquire()  # workers that start together create the tables, the study and trial 0 once
        try:
            study = _open_study(name, where, policy, sampler=s, pruner=pruner, directions=directions,
                                resume=resume, join=join, log=log)
            study.set_user_attr("spec", spec.source)
            study.set_user_attr("spec_hash", spec.spec_hash)
            if resume and (stopped := fail_interrupted(study)):
                log(f"tune: {stopped} trial(s) were left running when the study stopped; they run again")
            if not study.trials and sampler != "grid" and trials > 1:
                # The spec's defaults are the user's known-good point: trial 0 measures them (their trained
                # model is the study's "default" artifact, reused rather than retrained), the sampler starts
                # from there.
                study.enqueue_trial({d.name: d.default for d in tunable(spec)})
            before = ledger(study.get_trials(deepcopy=False))
        finally:
            lock.release()
        if join:
            log(f"tune: joined study {name} on {where.shown}: {before.counted} of {trials} trial(s) done, "
                f"{before.running} running on other workers")
        elif before.counted:
            log(f"tune: study {name} already holds {before.counted} finished trial(s); running "
                f"{max(0, trials - before.counted)} more")
        if dataset is None:
            dataset = load_dataset(spec.dataset, data_dir, where=f"{spec.source}: dataset")
        objective = _objective(spec, store=store, workspace=workspace, dataset=dataset, objectives=objectives,
                               target=target, runs=runs, log=log)
        deadline = time.monotonic() + timeout_minutes * 60 if timeout_minutes else None
        ran = work_on_study(study, objective, budget=trials, lock=lock, poll_s=policy.heartbeat_s,
                            deadline=deadline, log=log)
    return summarize(study, storage=where.shown, objectives=objectives, sampler=sampler, top_k=top_k, ran_now=ran)


def worker_seed(seed: int) -> int:
    """The spec's seed mixed with this worker's host and pid."""
    identity = worker_identity()
    return zlib.crc32(f"{seed}:{identity['host']}:{identity['pid']}".encode())


def _open_study(name: str, where: TuningStorage, policy: HeartbeatPolicy, *, sampler: Any, pruner: Any,
                directions: list[StudyDirectionName], resume: bool, join: bool, log: Callable[[str], None]) -> Any:
    """Create or load the study `name`; without resume or join, replace an existing one in a SQLite
    file, and refuse one in a server database."""
    import optuna

    storage = open_storage(where, policy)
    if not (resume or join):
        existing = {s.study_name: s for s in optuna.study.get_all_study_summaries(storage, include_best_trial=False)}
        if name in existing and where.shared:
            raise UsageError(f"study {name} already exists in {where.shown} ({existing[name].n_trials} trial(s)), "
                             "where other workers may be using it, so it is not replaced. Pass --join to work on it "
                             "beside them, --resume to continue it alone, or delete it first: optuna delete-study "
                             f"--study-name {name} --storage URL")
        if name in existing:
            optuna.delete_study(study_name=name, storage=storage)
            log(f"tune: replaced the earlier study {name} (pass resume to continue one instead)")
    return optuna.create_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner,
                               directions=directions, load_if_exists=resume or join)


def _objective(spec: StudySpec, *, store: ArtifactStore, workspace: Any, dataset: Dataset, objectives: str,
               target: str, runs: int | None, log: Callable[[str], None]) -> Callable[[Any], Any]:
    import optuna

    from edgebench.lineage import record_in_workspace
    from edgebench.train.trainer import train_model

    def objective(trial: Any) -> Any:
        params = suggest_all(trial, spec)

        def report(epoch: int, logs: Mapping[str, float]) -> None:
            metric = logs.get("val_accuracy", logs.get("accuracy"))
            if metric is None or objectives != "accuracy":  # Optuna prunes single-objective studies only
                return
            trial.report(metric, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned after epoch {epoch + 1} at val accuracy {metric:.4f}")

        try:
            trained = train_model(spec, params, store=store, dataset=dataset, on_epoch_end=report)
            trial.set_user_attr("trained_id", trained.artifact_id)
            record_in_workspace(workspace, store, [trained], note=f"trial {trial.number} of study {trial.study.study_name}")
            trial.set_user_attr("test_accuracy", trained.test_accuracy)
            if trained.val_accuracy is None:
                raise UsageError(f"{spec.source}: the dataset has no validation split, so trials cannot be scored; "
                                 f"set dataset.validation_fraction > 0")
            trial.set_user_attr("val_accuracy", trained.val_accuracy)
            if objectives == "accuracy":
                log(f"tune: trial {trial.number}: val accuracy {trained.val_accuracy:.4f} {params}")
                return trained.val_accuracy
            size, latency = measure_fp32(trained, trial, store=store, workspace=workspace, dataset=dataset,
                                         target=target, runs=runs)
            log(f"tune: trial {trial.number}: val accuracy {trained.val_accuracy:.4f}, {size} B, "
                f"{latency:.1f} µs {params}")
            return trained.val_accuracy, float(size), latency
        except optuna.TrialPruned:
            raise
        except Exception as exc:  # a failing trial is recorded and the study goes on
            reason = f"{type(exc).__name__}: {exc}"
            trial.set_user_attr("failure", reason)
            trial.set_user_attr("traceback", traceback.format_exc()[-4000:])
            log(f"tune: trial {trial.number} failed: {reason}")
            raise

    return objective


def measure_fp32(trained: Any, trial: Any, *, store: ArtifactStore, workspace: Any, dataset: Dataset, target: str,
                 runs: int | None) -> tuple[int, float]:
    """Convert to fp32 .tflite and time it on `target` (smoke protocol): (size bytes, latency median µs)."""
    import statistics

    from edgebench.api import push_and_run
    from edgebench.lab.remote import lab_conditions, measure_on_lab
    from edgebench.lineage import record_in_workspace
    from edgebench.optimize import build_variant

    converted = build_variant(trained, "fp32", store=store, dataset=dataset)
    record_in_workspace(workspace, store, [converted])
    trial.set_user_attr("tflite_sha256", converted.artifact_id)
    trial.set_user_attr("size_bytes", converted.size_bytes)
    conditions = lab_conditions(target)
    if conditions is not None:  # the phones of a lab: a job per matching device, through the lab's queue
        _session, records = measure_on_lab([converted.path], conditions, protocol="smoke", runs=runs,
                                           command=f"edgebench tune: latency of trial {trial.number}")
    else:
        records = list(push_and_run([converted.path], target=target, protocol="smoke", runs=runs,
                                    workspace=workspace).records)
    ok = [r.latency.median_us for r in records if r.status == "ok" and r.latency and r.latency.median_us]
    trial.set_user_attr("run_ids", [r.run_id for r in records])
    if not ok:
        why = "; ".join(filter(None, (r.error for r in records))) or "no run succeeded"
        raise RuntimeError(f"no latency measured on {target}: {why}")
    latency = float(statistics.median(ok))
    trial.set_user_attr("latency_median_us", latency)
    return converted.size_bytes, latency


def pareto_set(complete: list[Any]) -> list[Any]:
    """The finished multi-objective trials no other trial beats on accuracy, size and latency together
    (analyze's non-dominated sorting, the one `study run` and `edgebench pareto` use)."""
    import numpy as np

    from edgebench.analyze.fronts import on_frontier
    from edgebench.analyze.objectives import Objective

    if not complete:
        return []
    objectives = [Objective(name, direction == "maximize")
                  for name, direction in zip(("accuracy", "size_bytes", "latency_median_us"), MULTI_DIRECTIONS)]
    flags = on_frontier(np.array([t.values for t in complete], dtype=float), objectives)
    return [t for t, f in zip(complete, flags) if f]


def summarize(study: Any, *, storage: str, objectives: str, sampler: str, top_k: int, ran_now: int) -> TuningResult:
    from optuna.trial import TrialState

    retried_as = {t.system_attrs["retry_history"][-1]: t.number for t in study.trials if t.system_attrs.get("retry_history")}

    def one(t: Any) -> TrialSummary:
        failure = t.user_attrs.get("failure")
        if failure is None and t.number in retried_as:  # failed by a live worker: its own had died
            failure = (f"interrupted: its worker stopped mid-trial (killed, or cut off from the storage); "
                       f"retried as trial {retried_as[t.number]}")
        elif failure is None and t.state == TrialState.FAIL:
            failure = "stopped without a recorded reason (interrupted, or its worker stopped and the retries ran out)"
        return TrialSummary(number=t.number, state=t.state.name, params=dict(t.params),
                            values=tuple(t.values) if t.values is not None else None,
                            trained_id=t.user_attrs.get("trained_id"), failure=failure, attrs=dict(t.user_attrs))

    trials = tuple(one(t) for t in study.trials)
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    if objectives == "accuracy":
        best = sorted(complete, key=lambda t: -t.values[0])[:top_k]
    else:
        best = sorted(pareto_set(complete), key=lambda t: -t.values[0])[:top_k]
    return TuningResult(study_name=study.study_name, storage=storage, objectives=objectives, sampler=sampler,
                        trials=trials, best=tuple(one(t) for t in best), ran_now=ran_now)
