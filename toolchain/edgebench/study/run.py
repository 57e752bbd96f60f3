"""`edgebench study run`: train -> tune -> optimize -> convert -> push-and-run -> HTML report.

    run_study(spec, workspace=..., target="local") -> StudyRun

`variants_for` picks the trained models that get every optimization variant of the spec plus the
post-training quantization baselines (study/candidates.py): "default" (the spec-default model),
"best" (it and the tuning's best trials: top_k by accuracy, or the non-dominated set of a
multi-objective study) or "all" (every finished trial's model). All .tflite files are measured in one
push-and-run session. A variant that cannot be built, or a trial that did not finish (under "all"), is
a row with its reason, not the end of the study.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from edgebench.spec import StudySpec
from edgebench.study.candidates import Candidate, UnfinishedTrial, check_variants_for, select_candidates, unfinished_trials

ENERGY_NOT_MEASURED = ("not measured by `study run` (it measures latency): profile the variants you need with"
                       " `edgebench profile-battery FILE... --target SERIAL` on a phone or virtual device; those"
                       " runs join the study's variant table and report")

# Cheap (conversion only) and what every comparison needs, so always built when applicable.
BASELINE_VARIANTS = ("fp32", "dynamic_range", "float16", "int8")


@dataclass(frozen=True)
class VariantRow:
    """One variant of one trained model, and what it measured; None = not measured / not built."""

    source: str  # "default" or "trial N"
    trained_id: str | None  # None only for a trial that did not finish without training a model
    hyperparameters: dict[str, Any]
    val_accuracy: float | None
    variant: str
    tflite_sha256: str | None
    tflite_path: str | None
    size_bytes: int | None
    gzip_size_bytes: int | None
    test_accuracy: float | None  # LiteRT on this host
    latency_median_us: float | None  # median over the repeats' medians
    energy_mj_per_inference: float | None
    simulated: bool | None
    run_ids: tuple[str, ...]
    status: str  # measured | run_failed | build_failed | trial_failed | trial_pruned
    problem: str | None
    non_dominated: bool = False
    trial: int | None = None  # the tuning trial that trained this model (the first, if several did)
    trial_state: str | None = None  # that trial's Optuna state: COMPLETE, or FAIL / PRUNED for an unfinished trial


@dataclass(frozen=True)
class StudyStep:
    """What the study is doing now, for progress displays: one stage of one variant on one device."""

    stage: str  # train | tune | build | measure
    model: str  # the spec's model name
    candidate: str  # "default", "trial N", or "" while tuning
    variant: str  # "int8", "prune:0.5+int8", ... or "" (training, tuning)
    device: str  # where the work runs: "this host" or the measuring target
    detail: str  # e.g. "optimize, convert, validate with LiteRT", "repeat 1: running"
    done: int  # units of this stage finished
    total: int | None  # units in this stage; None while unknown


@dataclass(frozen=True)
class StudyRun:
    spec_name: str
    budget: str
    target: str
    session: str | None
    study_name: str | None
    rows: tuple[VariantRow, ...]
    report_path: Path
    json_path: Path


def variant_names(spec: StudySpec, extra: tuple[str, ...] = BASELINE_VARIANTS) -> list[str]:
    """The spec's variants, then the baselines it lacks that its architecture can take (canonical names)."""
    from edgebench.optimize import NotApplicableError, Recipe, check_recipe

    out = [Recipe.parse(v).name for v in spec.optimize.variants]
    for name in extra:
        canonical = Recipe.parse(name).name
        if canonical in out:
            continue
        try:
            check_recipe(spec.architecture, Recipe.parse(name))
        except NotApplicableError:
            continue
        out.append(canonical)
    return list(dict.fromkeys(out))


def run_study(spec: StudySpec, *, workspace: str | os.PathLike[str] | None = None, target: str = "local",
              resume: bool = False, objectives: str = "accuracy", sampler: str | None = None,
              trials: int | None = None, storage: str | None = None, join: bool = False,
              heartbeat_s: int | None = None, grace_s: int | None = None, runs: int | None = None,
              protocol: str = "smoke", variants: list[str] | None = None, variants_for: str = "best",
              data_dir: str | os.PathLike[str] | None = None, latency_from: str | None = None,
              energy_from: str | None = None, log: Callable[[str], None] | None = None,
              on_step: Callable[[StudyStep], None] | None = None) -> StudyRun:
    from edgebench.api import push_and_run
    from edgebench.lab.remote import lab_conditions, measure_on_lab
    from edgebench.datasets.loaders import data_root, load_dataset
    from edgebench.lineage import record_in_workspace
    from edgebench.optimize import build_variant
    from edgebench.report.study_html import write_study_report
    from edgebench.train import ArtifactStore, train_model
    from edgebench.tune import run_tuning
    from edgebench.workspace import Workspace

    check_variants_for(variants_for)
    log = log or (lambda text: print(text, file=sys.stderr, flush=True))
    ws = Workspace.resolve(workspace)
    store = ArtifactStore.for_workspace(ws)
    dataset = load_dataset(spec.dataset, data_root(data_dir, ws.root), where=f"{spec.source}: dataset")

    step = on_step or (lambda _: None)
    host = "this host"
    log(f"study {spec.name} ({spec.budget}): training the default model")
    step(StudyStep("train", spec.name, "default", "", host, "fit the spec's defaults", 0, 1))
    default = train_model(spec, {}, store=store, dataset=dataset)
    step(StudyStep("train", spec.name, "default", "", host, "done", 1, 1))
    tuned: tuple[Any, ...] = ()  # every trial of the tuning (tune.TrialSummary)
    tune_figures: str | None = None  # how many tuning trials had predicted figures (report fact)
    best: tuple[Any, ...] = ()
    study_name = None
    n_trials = trials if trials is not None else spec.tuning.trials
    if n_trials > 0:
        log(f"study {spec.name}: tuning ({objectives})")
        # A multi-objective trial is also converted and timed on the target.
        tune_device = host if objectives == "accuracy" else f"{host} + {target}"
        step(StudyStep("tune", spec.name, "", "", tune_device, f"{n_trials} trial(s), {objectives}", 0, None))
        tuning = run_tuning(spec, store=store, workspace=ws.root, objectives=objectives, sampler=sampler,
                            trials=trials, storage=storage, resume=resume, join=join, heartbeat_s=heartbeat_s,
                            grace_s=grace_s, dataset=dataset, target=target, runs=runs,
                            latency_from=latency_from, energy_from=energy_from, log=log)
        study_name, tuned, best = tuning.study_name, tuning.trials, tuning.best
        tune_figures = tune_figures_fact(tuning)
        step(StudyStep("tune", spec.name, "", "", tune_device, "done", 1, 1))
    candidates = select_candidates(default, tuned, best, variants_for, lambda tid: store.load("trained", tid))
    unfinished = unfinished_trials(tuned, spec.resolve_hyperparameters) if variants_for == "all" else []

    names = variants or variant_names(spec)
    built: list[tuple[Candidate, str, Any, str | None]] = []  # (candidate, variant, converted, problem)
    n_builds = len(candidates) * len(names)
    for cand in candidates:
        for name in names:
            log(f"study {spec.name}: building {name} of {cand.source} ({cand.trained.artifact_id[:12]})")
            step(StudyStep("build", spec.name, cand.source, name, host, "optimize, convert, validate with LiteRT",
                           len(built), n_builds))
            try:
                built.append((cand, name, build_variant(cand.trained, name, store=store, dataset=dataset), None))
            except Exception as exc:  # one variant failing does not stop the others
                built.append((cand, name, None, f"{type(exc).__name__}: {exc}"))

    # Into the results store before measuring, so every run of these files traces back to its training.
    record_in_workspace(ws.root, store, [default], note=f"defaults of {spec.source} ({spec.budget})")
    record_in_workspace(ws.root, store, [c for *_, c, p in built if c is not None])
    paths = sorted({str(c.path) for *_, c, p in built if c is not None})
    session: str | None = None
    by_sha: dict[str, Any] = {}
    if n_builds:
        step(StudyStep("build", spec.name, "", "", host, "done", n_builds, n_builds))
    # A spec may ask for energy; study run measures latency only, and says so rather than leave it implied.
    energy = ENERGY_NOT_MEASURED if spec.measure.energy else "not requested by the spec"
    if spec.measure.energy:
        log(f"study {spec.name}: the spec asks for energy, which is {energy}")
    if paths:
        log(f"study {spec.name}: measuring {len(paths)} .tflite file(s) on {target} ({protocol})")
        measuring = _MeasureSteps(spec.name, {str(c.path): (k.source, v) for k, v, c, _ in built if c is not None},
                                  step)
        conditions = lab_conditions(target)
        if conditions is not None:  # the phones of a lab, through its queue (`edgebench lab`)
            session, records = measure_on_lab(paths, conditions, protocol=protocol, runs=runs,
                                              threads=spec.measure.threads[:1],
                                              input_shapes=spec.measure.push_and_run_shapes(),
                                              command=f"edgebench study run {spec.name}")
            for r in records:
                measuring.finished(r)
        else:
            result = push_and_run(paths, target=target, protocol=protocol, threads=spec.measure.threads[:1],
                                  runs=runs, workspace=ws.root, input_shapes=spec.measure.push_and_run_shapes(),
                                  on_plan=measuring.plan, on_stage=measuring.stage,
                                  on_record=measuring.finished)
            session, records = result.session, list(result.records)
        for r in records:
            by_sha.setdefault(r.model_sha256, []).append(r)

    rows = _mark_front([_row(cand, name, conv, problem, by_sha) for cand, name, conv, problem in built])
    rows += [_unfinished_row(t) for t in unfinished]
    out_dir = ws.root / "studies" / f"{spec.name}-{spec.budget}-{spec.spec_hash[:12]}"
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "study.json"
    meta = {"spec": spec.source, "spec_name": spec.name, "budget": spec.budget, "spec_hash": spec.spec_hash,
            "target": target, "protocol": protocol, "threads": spec.measure.threads[0], "session": session, "optuna_study": study_name,
            "objectives": objectives, "tune_figures": tune_figures, "variants_for": variants_for, "variants": names,
            "energy": energy,
            "trials": [_trial_summary(t) for t in tuned]}
    json_path.write_text(json.dumps({**meta, "rows": [asdict(r) for r in rows]}, indent=2, default=str))
    report = write_study_report(json_path, out_dir / "report.html", workspace=ws.root)
    return StudyRun(spec_name=spec.name, budget=spec.budget, target=target, session=session, study_name=study_name,
                    rows=tuple(rows), report_path=report, json_path=json_path)


class _MeasureSteps:
    """push-and-run's progress callbacks as StudySteps that name the variant behind each .tflite."""

    def __init__(self, model: str, variant_of: dict[str, tuple[str, str]], step: Callable[[StudyStep], None]) -> None:
        self.model, self.variant_of, self.step = model, variant_of, step
        self.done, self.total = 0, None  # type: int, int | None
        self._lock = threading.Lock()  # push-and-run reports from one worker thread per device

    def plan(self, runs_per_device: int) -> None:
        self.total = runs_per_device

    def stage(self, run: Any, target: str, stage: str) -> None:
        source, variant = self.variant_of.get(str(run.model.path), ("", run.model.name))
        with self._lock:
            self.done += stage == "already stored"
        self.step(StudyStep("measure", self.model, source, variant, target,
                            f"{run.config.label()}, repeat {run.repeat + 1}: {stage}", self.done, self.total))

    def finished(self, record: Any) -> None:
        with self._lock:
            self.done += 1
        source, variant = next((sv for path, sv in self.variant_of.items() if Path(path).name == record.model),
                               ("", record.model))
        self.step(StudyStep("measure", self.model, source, variant, record.target,
                            f"{record.config.label()}, repeat {record.repeat + 1}: {record.status}",
                            self.done, self.total))


def _row(cand: Candidate, name: str, conv: Any, problem: str | None, by_sha: dict[str, Any]) -> VariantRow:
    records = by_sha.get(conv.artifact_id, []) if conv is not None else []
    medians = [r.latency.median_us for r in records if r.status == "ok" and r.latency and r.latency.median_us]
    energy = [r.extra.get("energy_mj_per_inference") for r in records if r.extra.get("energy_mj_per_inference")]
    if conv is None:
        status = "build_failed"
    elif medians:
        status = "measured"
    else:
        status = "run_failed"
        problem = "; ".join(filter(None, (r.error for r in records))) or "no run record for this file"
    trained = cand.trained
    return VariantRow(
        source=cand.source, trained_id=trained.artifact_id, hyperparameters=dict(trained.hyperparameters),
        val_accuracy=trained.val_accuracy, variant=name,
        tflite_sha256=conv.artifact_id if conv else None, tflite_path=str(conv.path) if conv else None,
        size_bytes=conv.size_bytes if conv else None, gzip_size_bytes=conv.gzip_size_bytes if conv else None,
        test_accuracy=conv.test_accuracy if conv else None,
        latency_median_us=float(statistics.median(medians)) if medians else None,
        energy_mj_per_inference=float(statistics.median(energy)) if energy else None,
        simulated=any(r.provenance.simulated for r in records) if records else None,
        run_ids=tuple(r.run_id for r in records), status=status, problem=problem,
        trial=cand.trial, trial_state=cand.trial_state)


def _unfinished_row(t: UnfinishedTrial) -> VariantRow:
    """A trial that did not finish: no variant was built for it; its row says why."""
    return VariantRow(
        source=f"trial {t.number}", trained_id=t.trained_id, hyperparameters=t.hyperparameters, val_accuracy=None,
        variant="", tflite_sha256=None, tflite_path=None, size_bytes=None, gzip_size_bytes=None,
        test_accuracy=None, latency_median_us=None, energy_mj_per_inference=None, simulated=None, run_ids=(),
        status="trial_pruned" if t.state == "PRUNED" else "trial_failed", problem=t.reason,
        trial=t.number, trial_state=t.state)


def tune_figures_fact(tuning: Any) -> str | None:
    """The report's line on predicted tuning figures (tune.TuningResult), None when every figure was measured."""
    modelled = [f"{figure} from {origin}" for figure, origin in tuning.figure_sources if origin != "device"]
    if not modelled:
        return None
    complete = [t for t in tuning.trials if t.state == "COMPLETE"]
    predicted = sum(not t.measured for t in complete)
    return (f"{', '.join(modelled)}: {predicted} of {len(complete)} complete trial(s) have predicted figures "
            "(marked predicted in study.json; the tuning's front holds only trials whose latency was measured"
            + ("; its energy is predicted" if any(f == "energy" for f, _ in tuning.figure_sources) else "") + ")")


def _trial_summary(t: Any) -> dict[str, Any]:
    """One tuning trial in study.json: what it drew, what it scored (Optuna's values) and why it stopped."""
    return {"number": t.number, "state": t.state, "params": t.params,
            "values": list(t.values) if t.values is not None else None, "trained_id": t.trained_id,
            "failure": t.failure,
            # measured | predicted per value: a performance model's figures are never passed off as measured
            "value_sources": list(t.sources) if t.sources is not None else None}


def _mark_front(rows: list[VariantRow]) -> list[VariantRow]:
    """Mark the variants no other measured variant beats on both accuracy (max) and latency (min);
    the non-dominated sorting is analyze's, shared with tuning and `edgebench pareto`."""
    from dataclasses import replace

    import numpy as np

    from edgebench.analyze.fronts import on_frontier
    from edgebench.analyze.objectives import parse_objectives

    measured = [i for i, r in enumerate(rows) if r.test_accuracy is not None and r.latency_median_us is not None]
    if not measured:
        return rows
    points = np.array([(rows[i].test_accuracy, rows[i].latency_median_us) for i in measured], dtype=float)
    flags = on_frontier(points, parse_objectives("accuracy:max,latency:min"))
    front = {i for i, f in zip(measured, flags) if f}
    return [replace(r, non_dominated=i in front) for i, r in enumerate(rows)]
