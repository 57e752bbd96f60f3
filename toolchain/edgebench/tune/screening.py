"""Latency and energy of a tuning trial: measured on the target, or predicted by a saved performance model
and measured only when the prediction places the trial near the measured front.

"Near the front": the trial's optimistic point — each predicted figure improved by the model's
cross-validated MAPE (a latency predicted at 100 µs by a model with 12 % CV MAPE counts as 88 µs), the
exact figures (accuracy, size) as they are — is not dominated by any trial measured so far. Such a trial
might improve the measured front, so it is measured; any other trial keeps its predicted figures (for the
sampler) and is marked `predicted`. A trial the model's feature space does not cover is always measured.

    FigureModel.load(source, figure, target) -> FigureModel       (perfmodel.saved.load_model)
    FigureModel.predict_file(tflite) -> (value in tune's unit, reasons outside the feature space)
    near_front(candidate, measured, directions, margins) -> (near?, the measured row that dominates it)
    score_device_figures(trial, trained, ctx) -> the trial's values, user attrs set
"""
from __future__ import annotations

import os
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from edgebench.errors import UsageError
from edgebench.tune.objectives import FigureSource, Objectives, StudyDirectionName, format_values

# The units a saved model's measure may carry (by its name's suffix), as factors to tune's units.
LATENCY_UNITS = {"_us": 1.0, "_ms": 1e3, "_s": 1e6}  # -> µs
ENERGY_UNITS = {"_uj": 1e-3, "_mj": 1.0, "_j": 1e3}  # -> mJ
RUN_THREADS, RUN_ACCELERATOR = 1, "cpu"  # how tune times a trial (push-and-run's defaults, no CPU mask)


@dataclass(frozen=True, eq=False)
class FigureModel:
    """A saved performance model predicting one figure (latency or energy) of a trial's fp32 .tflite on
    the tuning target, in tune's unit (µs, mJ)."""

    figure: str
    model: Any  # perfmodel.saved.SavedPerfModel
    scale: float  # measure unit -> tune's unit
    margin: float  # the model's cross-validated MAPE as a share: the relative error a prediction may have
    device_defaults: tuple[tuple[str, float], ...]  # device features the model was fitted at (one device)
    cpu_count: int | None

    @staticmethod
    def load(source: FigureSource, figure: str, target: str) -> FigureModel:
        from edgebench.perfmodel.saved import load_model

        assert source.model_path is not None
        model = load_model(source.model_path)
        units = LATENCY_UNITS if figure == "latency" else ENERGY_UNITS
        expected = "latency_median" if figure == "latency" else "energy"
        suffix = next((s for s in sorted(units, key=len, reverse=True) if model.measure.lower().endswith(s)), None)
        if suffix is None or not model.measure.lower().startswith(expected):
            raise UsageError(f"--{figure}-from model:{source.model_path}: the model predicts {model.measure!r}; "
                             f"expected a {expected} measure with its unit in the name "
                             f"({', '.join(expected + s for s in units)}), e.g. a model fitted with --measure "
                             f"{'latency_median_ms' if figure == 'latency' else 'energy_mj'}")
        # Device identity features: a model of one device has them constant; tune uses them as fitted
        # (the user chose the model for --target). A model of several devices cannot say which is the target.
        device = [f for f in model.feature_space.features if f.name.startswith("device.")]
        varying = [f.name for f in device if f.min_value != f.max_value]
        if varying:
            raise UsageError(f"--{figure}-from model:{source.model_path}: fitted on {len(model.device_ids)} devices "
                             f"({', '.join(varying)} vary), so tune cannot tell which of them --target {target} is; "
                             "fit a model on one device's rows (selector device=D)")
        return FigureModel(figure=figure, model=model, scale=units[suffix], margin=model.cv_mape_pct / 100.0,
                           device_defaults=tuple((f.name, f.min_value) for f in device),
                           cpu_count=os.cpu_count() if target == "local" else None)

    def describe(self) -> str:
        return (f"{self.model.path} ({self.model.learner} on {self.model.rows} rows, {self.model.measure}, "
                f"CV MAPE {self.model.cv_mape_pct:.1f} %)")

    def predict_file(self, tflite: str | Path) -> tuple[float, tuple[str, ...]]:
        """The predicted figure of `tflite` timed as tune times it, and why it lies outside the model's
        feature space (() inside): a feature out of range, or one that cannot be known for this trial."""
        import pandas as pd

        from edgebench.perfmodel.features import absent_value, model_features, run_features
        from edgebench.perfmodel.prediction import predict

        features = {**model_features(tflite), **dict(self.device_defaults),
                    **run_features(threads=RUN_THREADS, accelerator=RUN_ACCELERATOR, cpu_mask=None,
                                   cpu_count=self.cpu_count)}
        row: dict[str, float] = {}
        unknown: list[str] = []
        for name in self.model.options:
            value = features.get(name, absent_value(name, features))
            if value is None:
                unknown.append(f"{name} is unknown for this trial")
                value = self.model.feature_space.features[self.model.options.index(name)].min_value
            row[name] = value
        (prediction,) = predict(self.model, pd.DataFrame([row]), source=f"trial .tflite {Path(tflite).name}")
        return prediction.predicted_value * self.scale, tuple(unknown) + prediction.outside_space


def near_front(candidate: Sequence[float], measured: Sequence[Sequence[float]],
               directions: Sequence[StudyDirectionName], margins: Sequence[float]) -> tuple[bool, int | None]:
    """Whether the candidate's optimistic point (each value improved by its relative margin) is not
    dominated by any measured point; else the index of a measured point that dominates it."""
    import numpy as np

    from edgebench.analyze.fronts import on_frontier
    from edgebench.analyze.objectives import Objective

    optimistic = [v * (1 + m) if d == "maximize" else v * (1 - m) for v, d, m in zip(candidate, directions, margins)]
    if not measured:
        return True, None
    axes = [Objective(f"objective{i}", d == "maximize") for i, d in enumerate(directions)]
    points = np.array([*measured, optimistic], dtype=float)
    if bool(on_frontier(points, axes)[-1]):
        return True, None
    sign = np.array([-1.0 if d == "maximize" else 1.0 for d in directions])  # all minimized
    cand = sign * np.array(optimistic)
    for i, point in enumerate(measured):
        p = sign * np.array(point, dtype=float)
        if bool(np.all(p <= cand) and np.any(p < cand)):
            return False, i
    return False, None  # unreachable: on_frontier found a dominating row


@dataclass(frozen=True, eq=False)
class TrialContext:
    """What scoring a multi-objective trial needs besides the trial and its trained model."""

    objectives: Objectives
    models: dict[str, FigureModel]  # figure -> its model (predicted figures); others are measured
    store: Any
    workspace: Any
    dataset: Any
    target: str
    runs: int | None
    log: Callable[[str], None]


def score_device_figures(trial: Any, trained: Any, ctx: TrialContext) -> tuple[float, ...]:
    """Convert the trial's model to fp32, predict its modelled figures, measure latency on the target
    unless a model predicts it and the trial is not near the measured front; set the trial's user
    attrs (`latency_source`, `energy_source`, predicted values, `screening`) and return its values."""
    names = ctx.objectives.names
    converted = convert_fp32(trained, trial, ctx)
    exact = {"accuracy": float(trained.val_accuracy), "size": float(converted.size_bytes)}
    values: dict[str, float] = dict(exact)
    sources = {"accuracy": "measured", "size": "measured"}
    outside: dict[str, tuple[str, ...]] = {}
    for figure, model in ctx.models.items():
        if figure not in names:
            continue
        value, reasons = model.predict_file(converted.path)
        trial.set_user_attr(f"{figure}_predicted_{'us' if figure == 'latency' else 'mj'}", value)
        values[figure], sources[figure] = value, "predicted"
        if reasons:
            outside[figure] = reasons
    if "energy" in outside:  # no device measures energy in tuning (objectives.check_energy_source)
        raise UsageError(f"energy of trial {trial.number} lies outside the energy model's feature space ("
                         + "; ".join(outside["energy"]) + ") and no device measures energy here, so it has no "
                         "honest energy figure; fit the model on rows that cover such models")
    measure = "latency" in names
    why = "latency measured on the device (--latency-from device)" if measure else "no latency objective"
    if measure and "latency" in ctx.models:
        if "latency" in outside:
            why = "outside the latency model's feature space (" + "; ".join(outside["latency"]) + "): measured instead"
        else:
            measure, by = _near_measured_front(trial, values, sources, ctx)
            why = ("near the measured front (not dominated even with the model's error margin): measured" if measure
                   else f"predicted only: measured trial #{by} dominates it even with the model's error margin")
    if measure:
        values["latency"], sources["latency"] = time_on_target(converted, trial, ctx), "measured"
    for figure in ("latency", "energy"):
        if figure in names:
            trial.set_user_attr(f"{figure}_source", sources[figure])
    trial.set_user_attr("screening", why)
    ordered = tuple(values[n] for n in names)
    ctx.log(f"tune: trial {trial.number}: {format_values(ordered, names, [sources[n] for n in names])} "
            f"[{why}] {dict(trial.params)}")
    return ordered


def _near_measured_front(trial: Any, values: dict[str, float], sources: dict[str, str],
                         ctx: TrialContext) -> tuple[bool, int | None]:
    """near_front against the finished trials of the study whose latency was measured."""
    from optuna.trial import TrialState

    names = ctx.objectives.names
    done = [t for t in trial.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.values is not None and t.user_attrs.get("latency_source", "measured") == "measured"]
    margins = [ctx.models[n].margin if sources[n] == "predicted" and n in ctx.models else 0.0 for n in names]
    near, index = near_front([values[n] for n in names], [t.values for t in done], ctx.objectives.directions, margins)
    return near, done[index].number if index is not None else None


def convert_fp32(trained: Any, trial: Any, ctx: TrialContext) -> Any:
    """The trial's model as fp32 .tflite (content-addressed in the store, so a repeated point converts once)."""
    from edgebench.lineage import record_in_workspace
    from edgebench.optimize import build_variant

    converted = build_variant(trained, "fp32", store=ctx.store, dataset=ctx.dataset)
    record_in_workspace(ctx.workspace, ctx.store, [converted])
    trial.set_user_attr("tflite_sha256", converted.artifact_id)
    trial.set_user_attr("size_bytes", converted.size_bytes)
    return converted


def time_on_target(converted: Any, trial: Any, ctx: TrialContext) -> float:
    """Latency median µs of the .tflite on the target (smoke protocol); raises when no run succeeded."""
    from edgebench.api import push_and_run
    from edgebench.lab.remote import lab_conditions, measure_on_lab

    conditions = lab_conditions(ctx.target)
    if conditions is not None:  # the phones of a lab: a job per matching device, through the lab's queue
        _session, records = measure_on_lab([converted.path], conditions, protocol="smoke", runs=ctx.runs,
                                           command=f"edgebench tune: latency of trial {trial.number}")
    else:
        records = list(push_and_run([converted.path], target=ctx.target, protocol="smoke", runs=ctx.runs,
                                    workspace=ctx.workspace).records)
    ok = [r.latency.median_us for r in records if r.status == "ok" and r.latency and r.latency.median_us]
    trial.set_user_attr("run_ids", [r.run_id for r in records])
    if not ok:
        why = "; ".join(filter(None, (r.error for r in records))) or "no run succeeded"
        raise RuntimeError(f"no latency measured on {ctx.target}: {why}")
    latency = float(statistics.median(ok))
    trial.set_user_attr("latency_median_us", latency)
    return latency
