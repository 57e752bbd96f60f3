"""Tune a study spec with Optuna: validation accuracy alone, or with latency, energy and size
(tune/objectives.py); latency and energy measured on the target or predicted by a performance model
(tune/screening.py: only trials near the measured front are measured).

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
from typing import Any, Callable, Mapping

from edgebench.datasets.base import Dataset
from edgebench.errors import UsageError
from edgebench.spec import StudySpec
from edgebench.store.artifacts import ArtifactStore
from edgebench.tune.objectives import (DEVICE_FIGURES, Objectives, check_energy_source, check_figure_sources,
                                       pareto_set, parse_figure_source, parse_objectives)
from edgebench.tune.screening import FigureModel, TrialContext, score_device_figures
from edgebench.tune.space import grid, grid_size, suggest_all, tunable
from edgebench.tune.storage import (HeartbeatPolicy, TuningStorage, heartbeat_policy, open_storage, parse_storage_url,
                                    trial_lock)
from edgebench.tune.worker import fail_interrupted, ledger, work_on_study, worker_identity

SINGLE_SAMPLERS = ("tpe", "random", "grid", "bohb")
MULTI_SAMPLERS = ("nsga2", "tpe", "random")
DEFAULT_MULTI_SAMPLER = "tpe"  # MOTPE: steadier than NSGA-II at budgets of tens of trials (benchmarks/tuning_efficiency.py)
OBJECTIVES = ("accuracy", "multi", "a comma list of accuracy, latency, energy, size")


@dataclass(frozen=True)
class TrialSummary:
    number: int
    state: str  # COMPLETE | PRUNED | FAIL | RUNNING
    params: dict[str, Any]
    values: tuple[float, ...] | None  # in the order of TuningResult.objective_names (objectives.UNITS)
    trained_id: str | None
    failure: str | None
    attrs: dict[str, Any]
    sources: tuple[str, ...] | None = None  # per value: measured | predicted (latency, energy by a model)

    @property
    def measured(self) -> bool:
        """Every value of the trial measured (none predicted)."""
        return self.sources is None or all(s == "measured" for s in self.sources)


@dataclass(frozen=True)
class TuningResult:
    study_name: str
    storage: str  # its URL, password hidden
    objectives: str
    sampler: str
    trials: tuple[TrialSummary, ...]
    best: tuple[TrialSummary, ...]  # top_k by accuracy, or the non-dominated set of the latency-measured trials
    ran_now: int  # trials run to their end by this call (earlier calls and other workers ran the rest)
    objective_names: tuple[str, ...] = ("accuracy",)  # the order of every trial's values
    figure_sources: tuple[tuple[str, str], ...] = ()  # (latency|energy, device | model:PATH) as run


def study_name(spec: StudySpec, objectives: str, sampler: str) -> str:
    return f"{spec.name}-{spec.budget}-{spec.spec_hash[:12]}-{objectives}-{sampler}"


def make_sampler(objectives: Objectives, sampler: str, spec: StudySpec, seed: int, trials: int | None = None,
                 distributed: bool = False) -> tuple[Any, Any]:
    """(sampler, pruner) for the objectives and a budget of `trials` (default: the spec's);
    a UsageError listing the allowed names otherwise. `distributed`: other workers run trials of the
    study at the same time (TPE then counts their running trials as bad ones, its "constant liar",
    rather than drawing the same point again)."""
    import optuna

    allowed = MULTI_SAMPLERS if objectives.multi else SINGLE_SAMPLERS
    if sampler not in allowed:
        raise UsageError(f"sampler {sampler!r} does not fit {objectives.key!r} tuning; allowed: {', '.join(allowed)}")
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
               latency_from: str | None = None, energy_from: str | None = None,
               log: Callable[[str], None] | None = None) -> TuningResult:
    """Run the study until it holds `trials` finished trials (default: the spec's budget), counting those
    of every worker that joined it. Without `resume` or `join` an existing study of the same name is
    replaced in a SQLite file and refused in a server database (others may be working on it); `resume`
    continues it alone (trials left running are retried); `join` works on it, created if missing,
    beside other workers. `latency_from` / `energy_from`: `device` (default) or `model:PATH`, a saved
    performance model that predicts the figure (tune/screening.py decides which trials are measured)."""
    import optuna

    from edgebench.datasets.loaders import load_dataset

    chosen = parse_objectives(objectives)
    sources = {"latency": parse_figure_source(latency_from, "--latency-from"),
               "energy": parse_figure_source(energy_from, "--energy-from")}
    check_figure_sources(chosen, sources)
    check_energy_source(chosen, sources["energy"], target)
    if resume and join:
        raise UsageError("--resume and --join exclude each other: --resume continues a study no one else works on "
                         "(its running trials are retried at once), --join works on it beside other workers")
    policy = heartbeat_policy(heartbeat_s, grace_s)
    where = parse_storage_url(storage, workspace)
    sampler = sampler or (DEFAULT_MULTI_SAMPLER if chosen.multi else spec.tuning.sampler)
    trials = spec.tuning.trials if trials is None else trials
    if sampler == "grid":
        trials = min(trials, grid_size(spec))  # the grid sampler draws every point once, then stops
    top_k = spec.tuning.top_k if top_k is None else top_k
    seed = spec.seed if seed is None else seed
    timeout_minutes = spec.tuning.timeout_minutes if timeout_minutes is None else timeout_minutes
    log = log or (lambda text: print(text, file=sys.stderr, flush=True))
    name = study_name(spec, chosen.key, sampler)
    models = {figure: FigureModel.load(source, figure, target) for figure, source in sources.items()
              if figure in chosen.names and source.origin == "model"}
    for figure, model in models.items():
        log(f"tune: {figure} predicted by {model.describe()}; a trial is measured on {target} only when the "
            "prediction places it near the measured front")

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Workers of one study draw different points: each seeds its sampler with its host and pid too.
    s, pruner = make_sampler(chosen, sampler, spec, worker_seed(seed) if join else seed, trials,
                             distributed=join)
    with trial_lock(where) as lock:
        lock.acquire()  # workers that start together create the tables, the study and trial 0 once
        try:
            study = _open_study(name, where, policy, sampler=s, pruner=pruner, directions=chosen.directions,
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
        context = TrialContext(objectives=chosen, models=models, store=store, workspace=workspace, dataset=dataset,
                               target=target, runs=runs, log=log)
        objective = _objective(spec, context)
        deadline = time.monotonic() + timeout_minutes * 60 if timeout_minutes else None
        ran = work_on_study(study, objective, budget=trials, lock=lock, poll_s=policy.heartbeat_s,
                            deadline=deadline, log=log)
    used = tuple((f, sources[f].describe()) for f in DEVICE_FIGURES if f in chosen.names)
    return summarize(study, storage=where.shown, objectives=chosen, sampler=sampler, top_k=top_k, ran_now=ran,
                     figure_sources=used)


def worker_seed(seed: int) -> int:
    """The spec's seed mixed with this worker's host and pid."""
    identity = worker_identity()
    return zlib.crc32(f"{seed}:{identity['host']}:{identity['pid']}".encode())


def _open_study(name: str, where: TuningStorage, policy: HeartbeatPolicy, *, sampler: Any, pruner: Any,
                directions: list[Any], resume: bool, join: bool, log: Callable[[str], None]) -> Any:
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


def _objective(spec: StudySpec, ctx: TrialContext) -> Callable[[Any], Any]:
    import optuna

    from edgebench.lineage import record_in_workspace
    from edgebench.train.trainer import train_model

    def objective(trial: Any) -> Any:
        params = suggest_all(trial, spec)

        def report(epoch: int, logs: Mapping[str, float]) -> None:
            metric = logs.get("val_accuracy", logs.get("accuracy"))
            if metric is None or ctx.objectives.multi:  # Optuna prunes single-objective studies only
                return
            trial.report(metric, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned after epoch {epoch + 1} at val accuracy {metric:.4f}")

        try:
            trained = train_model(spec, params, store=ctx.store, dataset=ctx.dataset, on_epoch_end=report)
            trial.set_user_attr("trained_id", trained.artifact_id)
            record_in_workspace(ctx.workspace, ctx.store, [trained], note=f"trial {trial.number} of study {trial.study.study_name}")
            trial.set_user_attr("test_accuracy", trained.test_accuracy)
            if trained.val_accuracy is None:
                raise UsageError(f"{spec.source}: the dataset has no validation split, so trials cannot be scored; "
                                 f"set dataset.validation_fraction > 0")
            trial.set_user_attr("val_accuracy", trained.val_accuracy)
            if not ctx.objectives.multi:
                ctx.log(f"tune: trial {trial.number}: val accuracy {trained.val_accuracy:.4f} {params}")
                return trained.val_accuracy
            return score_device_figures(trial, trained, ctx)
        except optuna.TrialPruned:
            raise
        except Exception as exc:  # a failing trial is recorded and the study goes on
            reason = f"{type(exc).__name__}: {exc}"
            trial.set_user_attr("failure", reason)
            trial.set_user_attr("traceback", traceback.format_exc()[-4000:])
            ctx.log(f"tune: trial {trial.number} failed: {reason}")
            raise

    return objective


def summarize(study: Any, *, storage: str, objectives: Objectives, sampler: str, top_k: int, ran_now: int,
              figure_sources: tuple[tuple[str, str], ...] = ()) -> TuningResult:
    """The study's trials, and its best: top_k by accuracy, or the non-dominated set among the trials
    whose latency was measured (a predicted latency never enters the reported front)."""
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
                            trained_id=t.user_attrs.get("trained_id"), failure=failure, attrs=dict(t.user_attrs),
                            sources=value_sources(t, objectives) if t.values is not None else None)

    trials = tuple(one(t) for t in study.trials)
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    if not objectives.multi:
        best = sorted(complete, key=lambda t: -t.values[0])[:top_k]
    else:
        measured = [t for t in complete if t.user_attrs.get("latency_source", "measured") == "measured"]
        best = sorted(pareto_set(measured, objectives), key=lambda t: -t.values[0])[:top_k]
    return TuningResult(study_name=study.study_name, storage=storage, objectives=objectives.key, sampler=sampler,
                        trials=trials, best=tuple(one(t) for t in best), ran_now=ran_now,
                        objective_names=objectives.names, figure_sources=figure_sources)


def value_sources(trial: Any, objectives: Objectives) -> tuple[str, ...]:
    """measured | predicted for each value (trials of studies before sources were recorded: measured)."""
    return tuple(str(trial.user_attrs.get(f"{n}_source", "measured")) for n in objectives.names)
