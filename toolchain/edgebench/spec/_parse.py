"""Validation of one merged spec (base + one budget) into a StudySpec; see spec.py for the format."""
from __future__ import annotations

from typing import Any, Mapping

from edgebench.datasets.base import DatasetError, DatasetSpec
from edgebench.datasets.loaders import get_loader, known_loaders
from edgebench.errors import UsageError
from edgebench.optimize.applicability import NotApplicableError, check_recipe
from edgebench.optimize.recipes import Recipe, RecipeError
from edgebench.protocols import PRESETS
from edgebench.spec.selective_backprop import BETA_DEF, BETA_DIMENSION, SelectiveBackpropSpec, parse_table
from edgebench.spec.study_spec import (ACCELERATORS, DATASET_KEYS, DIMENSION_KEYS, LSTM_LOWERINGS, SAMPLERS,
                                  MeasureSpec, OptimizeSpec, SearchDimension, SpecError, StudySpec, TuningSpec,
                                  finite)
from edgebench.zoo.hyperparameters import HyperparameterDef
from edgebench.zoo.registry import ARCHITECTURES


class _Ctx:
    """Error helper: names the field as written (under [budget.X] when the budget set it)."""

    def __init__(self, source: str, budget: str, override: Mapping[str, Any]) -> None:
        self.source, self.budget, self.override = source, budget, override

    def path(self, dotted: str) -> str:
        node: Any = self.override
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return dotted
            node = node[part]
        return f"budget.{self.budget}.{dotted}"

    def error(self, dotted: str, problem: str, allowed: str | None = None) -> SpecError:
        return SpecError(self.source, self.path(dotted), problem, allowed, budget=self.budget)


def _int(ctx: _Ctx, value: Any, dotted: str, low: int = 0, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ctx.error(dotted, f"expected an integer, got {type(value).__name__} {value!r}")
    if value < low or (high is not None and value > high):
        raise ctx.error(dotted, f"{value} is out of range", f"integers in [{low}, {high if high is not None else '∞'}]")
    return value


def _number(ctx: _Ctx, value: Any, dotted: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not finite(float(value)):
        raise ctx.error(dotted, f"expected a number, got {type(value).__name__} {value!r}")
    return float(value)


def _table(ctx: _Ctx, data: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ctx.error(key, f"expected a table, got {type(value).__name__}")
    return value


def _keys(ctx: _Ctx, table: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for k in table:
        if k not in allowed:
            raise ctx.error(f"{where}.{k}", "unknown field", ", ".join(allowed))


def validate(data: dict[str, Any], *, source: str, budget: str, override: Mapping[str, Any],
             budgets: tuple[str, ...]) -> StudySpec:
    ctx = _Ctx(source, budget, override)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ctx.error("name", "missing or empty; give the spec a name")
    arch_name = data.get("architecture")
    if arch_name not in ARCHITECTURES:
        raise ctx.error("architecture", f"unknown architecture {arch_name!r}", ", ".join(ARCHITECTURES))
    arch = ARCHITECTURES[arch_name]
    seed = _int(ctx, data.get("seed", 0), "seed")
    try:
        options = arch.resolve_options(_table(ctx, data, "model"), where=f"{source}: model")
    except UsageError as exc:
        raise SpecError(source, ctx.path("model"), str(exc).split(": ", 2)[-1], budget=budget) from None
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ctx.error("description", "expected a string")
    dataset = _dataset(ctx, _table(ctx, data, "dataset"), arch.task, seed)
    space = _search_space(ctx, _table(ctx, data, "search_space"), arch.hyperparameters)
    tuning = _tuning(ctx, _table(ctx, data, "tuning"))
    optimize = _optimize(ctx, _table(ctx, data, "optimize"), arch_name)
    measure = _measure(ctx, _table(ctx, data, "measure"))
    selective_backprop = _train(ctx, _table(ctx, data, "train"), space)
    return StudySpec(source=source, budget=budget, budgets=budgets, name=name, description=description,
                     architecture=arch_name, seed=seed, model_options=options, dataset=dataset, search_space=space,
                     tuning=tuning, optimize=optimize, measure=measure, raw=data,
                     selective_backprop=selective_backprop)


def _train(ctx: _Ctx, table: dict[str, Any], space: tuple[SearchDimension, ...]) -> SelectiveBackpropSpec | None:
    """`[train]`: how the model is trained; today only `[train.selective_backprop]`."""
    _keys(ctx, table, ("selective_backprop",), "train")
    beta_searched = any(d.name == BETA_DIMENSION for d in space)
    if "selective_backprop" not in table:
        if beta_searched:
            raise ctx.error(f"search_space.{BETA_DIMENSION}", "tunes Selective-Backprop's beta, but the spec "
                            "trains without it", "add [train.selective_backprop] (history, staleness, lr_by; "
                            "beta comes from this dimension) or remove the dimension")
        return None
    sb = table["selective_backprop"]
    if not isinstance(sb, dict):
        raise ctx.error("train.selective_backprop", f"expected a table, got {type(sb).__name__} {sb!r}",
                        "[train.selective_backprop] with beta = 3 (history, staleness, lr_by optional)")

    def problem(key: str, what: str, allowed: str) -> SpecError:
        return ctx.error(f"train.selective_backprop.{key}", what, allowed)

    return parse_table(sb, problem, beta_searched=beta_searched)


def _dataset(ctx: _Ctx, table: dict[str, Any], task: str, seed: int) -> DatasetSpec:
    loader_name = table.get("loader")
    loaders = known_loaders()
    if loader_name not in loaders:
        raise ctx.error("dataset.loader", f"unknown or missing loader {loader_name!r}", ", ".join(sorted(loaders)))
    loader = get_loader(loader_name)
    if loader.task != task:
        fitting = ", ".join(n for n, d in sorted(loaders.items()) if d.task == task)
        raise ctx.error("dataset.loader", f"loader {loader_name!r} gives {loader.task} data but the architecture "
                        f"takes {task} data", fitting)
    general = {k: table[k] for k in DATASET_KEYS if k in table}
    options = {k: v for k, v in table.items() if k not in DATASET_KEYS}
    for k in options:
        if k not in {o.name for o in loader.options}:
            allowed = ", ".join(list(DATASET_KEYS) + [o.name for o in loader.options])
            raise ctx.error(f"dataset.{k}", f"unknown field for loader {loader_name!r}", allowed)
    try:
        loader.resolve_options(options, where=f"{ctx.source}: {ctx.path('dataset')}")
    except DatasetError as exc:
        allowed = ", ".join(list(DATASET_KEYS) + [o.name for o in loader.options])
        raise SpecError(ctx.source, ctx.path("dataset"), str(exc).split(": ", 2)[-1], allowed,
                        budget=ctx.budget) from None
    path = general.get("path")
    if path is not None and not isinstance(path, str):
        raise ctx.error("dataset.path", f"expected a string, got {type(path).__name__}")
    if loader.needs_path and not path:
        raise ctx.error("dataset.path", f"loader {loader_name!r} reads files: give their folder ({loader.description})")
    if not loader.needs_path and path:
        raise ctx.error("dataset.path", f"loader {loader_name!r} is built in and reads no files; remove path")
    fractions: dict[str, Any] = {}
    for key, default in (("validation_fraction", 0.1), ("test_fraction", 0.2)):
        v = _number(ctx, general.get(key, default), f"dataset.{key}")
        if not 0.0 <= v < 1.0:
            raise ctx.error(f"dataset.{key}", f"{v} is out of range", "numbers in [0, 1)")
        fractions[key] = v
    caps: dict[str, Any] = {k: None if general.get(k) is None else _int(ctx, general[k], f"dataset.{k}", 1)
            for k in ("train_samples", "test_samples")}
    return DatasetSpec(loader=loader_name, path=path, options=options, seed=_int(ctx, general.get("seed", seed),
                       "dataset.seed"), **fractions, **caps)


def _search_space(ctx: _Ctx, table: dict[str, Any], defs: tuple[HyperparameterDef, ...]) -> tuple[SearchDimension, ...]:
    by_name = {d.name: d for d in defs}
    for k in table:
        if k not in by_name and k != "selective_backprop":
            raise ctx.error(f"search_space.{k}", "unknown hyperparameter", ", ".join([*by_name, BETA_DIMENSION]))
    out = []
    for d in defs:  # architecture order; omitted hyperparameters are fixed at the study default
        entry = table.get(d.name)
        if entry is None:
            out.append(SearchDimension(d.name, "categorical", d.default, choices=(d.default,)))
            continue
        out.append(_dimension(ctx, d, entry))
    sb = table.get("selective_backprop")
    if sb is not None:  # `selective_backprop.beta = {...}`: TOML's dotted key makes it a nested table
        if not isinstance(sb, dict) or set(sb) != {"beta"}:
            raise ctx.error("search_space.selective_backprop", f"expected only a beta dimension, got {sb!r}",
                            f"{BETA_DIMENSION} = {{ choices = [1, 2, 3], default = 3 }}")
        out.append(_dimension(ctx, BETA_DEF, sb["beta"]))
    return tuple(out)


def _dimension(ctx: _Ctx, d: HyperparameterDef, entry: Any) -> SearchDimension:
    where = f"search_space.{d.name}"
    if not isinstance(entry, dict):
        raise ctx.error(where, f"expected a table like {{ choices = [...], default = ... }} or "
                        f"{{ low = ..., high = ..., default = ... }}, got {entry!r}")
    _keys(ctx, entry, DIMENSION_KEYS, where)

    def check(value: Any, key: str) -> Any:
        try:
            return d.check(value)
        except ValueError as exc:
            raise ctx.error(f"{where}.{key}", str(exc), d.describe_domain()) from None

    if "choices" in entry:
        if "low" in entry or "high" in entry:
            raise ctx.error(where, "give either choices or low/high, not both")
        choices = entry["choices"]
        if not isinstance(choices, list):
            raise ctx.error(f"{where}.choices", f"expected a list, got {type(choices).__name__}")
        if not choices:
            raise ctx.error(f"{where}.choices", "empty search space: list at least one value", d.describe_domain())
        values = tuple(check(c, "choices") for c in choices)
        if len(set(values)) != len(values):
            raise ctx.error(f"{where}.choices", f"duplicate values in {list(values)}")
        dim = dict(kind="categorical", choices=values)
    else:
        if d.value_type is str:
            raise ctx.error(where, f"{d.name} is categorical: give choices", d.describe_domain())
        if "low" not in entry or "high" not in entry:
            raise ctx.error(where, "a range needs both low and high (or give choices)")
        low, high = check(entry["low"], "low"), check(entry["high"], "high")
        if low > high:
            raise ctx.error(where, f"empty search space: low {low} > high {high}")
        log = entry.get("log", False)
        if not isinstance(log, bool):
            raise ctx.error(f"{where}.log", f"expected true or false, got {log!r}")
        if log and low <= 0:
            raise ctx.error(f"{where}.log", f"a log range needs low > 0, got {low}")
        step = entry.get("step")
        if step is not None:
            step = _number(ctx, step, f"{where}.step")
            if step <= 0 or (d.value_type is int and not float(step).is_integer()):
                raise ctx.error(f"{where}.step", f"expected a positive {d.value_type.__name__}, got {step}")
            if log:
                raise ctx.error(f"{where}.step", "step and log cannot be combined")
        dim = dict[str, Any](kind=d.value_type.__name__, low=low, high=high, log=log, step=step)
    default = check(entry["default"], "default") if "default" in entry else d.default
    probe = SearchDimension(d.name, default=default, **dim)  # type: ignore[arg-type]
    if not probe.contains(default):
        raise ctx.error(f"{where}.default", f"{default!r} is not in the search space", probe.describe())
    return probe


def _tuning(ctx: _Ctx, table: dict[str, Any]) -> TuningSpec:
    _keys(ctx, table, ("trials", "top_k", "sampler", "timeout_minutes"), "tuning")
    trials = _int(ctx, table.get("trials", 20), "tuning.trials", 1)
    top_k = _int(ctx, table.get("top_k", 1), "tuning.top_k", 1)
    if top_k > trials:
        raise ctx.error("tuning.top_k", f"top_k {top_k} exceeds trials {trials}")
    sampler = table.get("sampler", "tpe")
    if sampler not in SAMPLERS:
        raise ctx.error("tuning.sampler", f"unknown sampler {sampler!r}", ", ".join(SAMPLERS))
    timeout = table.get("timeout_minutes")
    if timeout is not None and _number(ctx, timeout, "tuning.timeout_minutes") <= 0:
        raise ctx.error("tuning.timeout_minutes", "must be positive")
    return TuningSpec(trials, top_k, sampler, None if timeout is None else float(timeout))


def _optimize(ctx: _Ctx, table: dict[str, Any], arch_name: str) -> OptimizeSpec:
    _keys(ctx, table, ("variants", "finetune_epochs", "finetune_learning_rate_scale", "calibration_samples",
                       "validation_samples", "lstm_lowering"), "optimize")
    variants = table.get("variants", ["fp32"])
    if not isinstance(variants, list) or not variants:
        raise ctx.error("optimize.variants", "list at least one optimization (e.g. \"fp32\")")
    names: list[str] = []
    for i, text in enumerate(variants):
        try:
            recipe = Recipe.parse(text)
            check_recipe(arch_name, recipe)
        except (RecipeError, NotApplicableError) as exc:
            raise ctx.error("optimize.variants", f"entry {i + 1} ({text!r}): {exc}") from None
        if recipe.name in names:
            raise ctx.error("optimize.variants", f"{text!r} repeats {recipe.name!r}")
        names.append(recipe.name)
    scale = _number(ctx, table.get("finetune_learning_rate_scale", 0.1), "optimize.finetune_learning_rate_scale")
    if not 0 < scale <= 10:
        raise ctx.error("optimize.finetune_learning_rate_scale", f"{scale} is out of range", "(0, 10]")
    lowering = table.get("lstm_lowering", "unrolled")
    if lowering not in LSTM_LOWERINGS:
        raise ctx.error("optimize.lstm_lowering", f"unknown lowering {lowering!r}", ", ".join(LSTM_LOWERINGS))
    validation = table.get("validation_samples")
    return OptimizeSpec(
        variants=tuple(names), finetune_epochs=_int(ctx, table.get("finetune_epochs", 2), "optimize.finetune_epochs", 1),
        finetune_learning_rate_scale=scale,
        calibration_samples=_int(ctx, table.get("calibration_samples", 200), "optimize.calibration_samples", 1),
        validation_samples=None if validation is None else _int(ctx, validation, "optimize.validation_samples", 1),
        lstm_lowering=lowering)


def _measure(ctx: _Ctx, table: dict[str, Any]) -> MeasureSpec:
    _keys(ctx, table, ("protocol", "threads", "accelerators", "energy", "input_shapes"), "measure")
    protocol = table.get("protocol", "standard")
    if protocol not in PRESETS:
        raise ctx.error("measure.protocol", f"unknown protocol {protocol!r}", ", ".join(PRESETS))
    threads = table.get("threads", [1])
    if not isinstance(threads, list) or not threads:
        raise ctx.error("measure.threads", "expected a non-empty list of thread counts, e.g. [1, 4]")
    threads = [_int(ctx, t, "measure.threads", 1, 64) for t in threads]
    accelerators = table.get("accelerators", ["cpu"])
    if not isinstance(accelerators, list) or not accelerators or any(a not in ACCELERATORS for a in accelerators):
        raise ctx.error("measure.accelerators", f"expected a non-empty list, got {accelerators!r}", ", ".join(ACCELERATORS))
    energy = table.get("energy", False)
    if not isinstance(energy, bool):
        raise ctx.error("measure.energy", f"expected true or false, got {energy!r}")
    shapes, accept_default = _input_shapes(ctx, table.get("input_shapes"))
    return MeasureSpec(protocol, tuple(threads), tuple(accelerators), energy, shapes, accept_default)


def _input_shapes(ctx: _Ctx, value: Any) -> tuple[tuple[tuple[str, tuple[int, ...]], ...], bool]:
    """`input_shapes = "default"` or a table NAME = [D0, D1, ...]; checked like --input-shape."""
    from edgebench.bench.input_shapes import parse_request

    where = "measure.input_shapes"
    if value is None:
        return (), False
    if value == "default":
        return (), True
    if not isinstance(value, dict) or not value:
        raise ctx.error(where, f"expected \"default\" or a table of input name = [D0, D1, ...], got {value!r}",
                        'input_shapes = "default", or [measure.input_shapes] image = [1, 224, 224, 3]')
    try:
        request = parse_request(value)
    except UsageError as exc:
        raise ctx.error(where, str(exc)) from None
    return request.shapes, False
