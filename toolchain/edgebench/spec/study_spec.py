"""Study specs (models/*.toml): load, merge a budget, validate; errors name file, field and allowed values.

A spec declares one zoo model's search space and defaults, its dataset, the optimizations to try
and the measurement plan. `[budget.smoke]` and `[budget.full]` (both required) override parts of
it: tables merge key by key, lists replace, and `[budget.X.dataset]` replaces the whole dataset
table (another dataset has other options). Every budget is validated whichever one is loaded,
so a broken smoke budget cannot hide behind a working full one. No TensorFlow is imported.
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from edgebench.datasets.base import DatasetSpec
from edgebench.errors import UsageError
from edgebench.spec.selective_backprop import BETA_DEF, BETA_DIMENSION, SelectiveBackpropSpec
from edgebench.zoo.hyperparameters import HyperparameterDef
from edgebench.zoo.registry import ARCHITECTURES, Architecture

SCHEMA_VERSION = 1
REQUIRED_BUDGETS = ("smoke", "full")
TOP_KEYS = ("schema_version", "name", "architecture", "description", "seed", "model", "dataset", "search_space",
            "tuning", "optimize", "measure", "train", "budget")
BUDGET_KEYS = ("description", "seed", "model", "dataset", "search_space", "tuning", "optimize", "measure", "train")
DATASET_KEYS = ("loader", "path", "validation_fraction", "test_fraction", "train_samples", "test_samples", "seed")
DIMENSION_KEYS = ("choices", "low", "high", "log", "step", "default")
SAMPLERS = ("tpe", "random")
ACCELERATORS = ("cpu", "gpu", "npu")
LSTM_LOWERINGS = ("unrolled", "fused")


class SpecError(UsageError):
    """A spec that cannot be used as written. `source` is the file, `field` the dotted TOML path."""

    def __init__(self, source: str, field_path: str, problem: str, allowed: str | None = None, *,
                 budget: str | None = None) -> None:
        where = f"{field_path} (budget {budget})" if budget else field_path
        text = f"{source}: {where}: {problem}"
        if allowed and "allowed:" not in problem:
            text += f"; allowed: {allowed}"
        super().__init__(text)
        self.source = source
        self.field = field_path


@dataclass(frozen=True)
class SearchDimension:
    """One tuned hyperparameter: categorical `choices`, or an int/float range (inclusive)."""

    name: str
    kind: str  # categorical | int | float
    default: Any
    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None

    @property
    def fixed(self) -> bool:
        return self.choices is not None and len(self.choices) == 1

    def contains(self, value: Any) -> bool:
        if self.choices is not None:
            return value in self.choices
        return bool(self.low <= value <= self.high)

    def describe(self) -> str:
        if self.choices is not None:
            return ", ".join(repr(c) for c in self.choices)
        return f"{self.kind} in [{self.low:g}, {self.high:g}]" + (" (log)" if self.log else "")

    def to_json(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class TuningSpec:
    trials: int
    top_k: int  # how many of the best trials go on to optimization and measurement
    sampler: str
    timeout_minutes: float | None = None


@dataclass(frozen=True)
class OptimizeSpec:
    variants: tuple[str, ...]  # canonical recipe names (edgebench.optimize.recipes)
    finetune_epochs: int = 2
    finetune_learning_rate_scale: float = 0.1  # fine-tuning lr = trained lr x this
    calibration_samples: int = 200  # representative examples for int8 calibration
    validation_samples: int | None = None  # test examples run through LiteRT on the host (None: all)
    lstm_lowering: str = "unrolled"


@dataclass(frozen=True)
class MeasureSpec:
    protocol: str
    threads: tuple[int, ...] = (1,)
    accelerators: tuple[str, ...] = ("cpu",)
    energy: bool = False
    # `[measure] input_shapes`: a table NAME = [D0, D1, ...] (shapes for dynamic inputs), or "default"
    # to accept the file's placeholder shapes (push-and-run's --input-shape).
    input_shapes: tuple[tuple[str, tuple[int, ...]], ...] = ()
    input_shapes_default: bool = False

    def push_and_run_shapes(self) -> list[str] | None:
        """As push_and_run(input_shapes=...) takes them; None when the spec sets none."""
        values = [f"{name}={','.join(map(str, dims))}" for name, dims in self.input_shapes]
        values += ["default"] if self.input_shapes_default else []
        return values or None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = _jsonable(dict(self.__dict__))
        # Left out when unset, so the hash of a spec that sets no shapes is what it was.
        if not self.input_shapes:
            out.pop("input_shapes")
        if not self.input_shapes_default:
            out.pop("input_shapes_default")
        return out


@dataclass(frozen=True)
class StudySpec:
    source: str
    budget: str
    budgets: tuple[str, ...]
    name: str
    description: str
    architecture: str
    seed: int
    model_options: dict[str, Any]
    dataset: DatasetSpec
    search_space: tuple[SearchDimension, ...]
    tuning: TuningSpec
    optimize: OptimizeSpec
    measure: MeasureSpec
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)
    # [train.selective_backprop]; None: standard training. Its beta is a placeholder when the search
    # space tunes beta (`selective_backprop.beta`): `selective_backprop_for` gives the one used.
    selective_backprop: SelectiveBackpropSpec | None = None

    @property
    def arch(self) -> Architecture:
        return ARCHITECTURES[self.architecture]

    def dimension(self, name: str) -> SearchDimension:
        for d in self.search_space:
            if d.name == name:
                return d
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        return {d.name: d.default for d in self.search_space}

    def hyperparameter_def(self, name: str) -> HyperparameterDef:
        """The domain of a search-space name: the architecture's, or Selective-Backprop's beta.
        KeyError for names neither knows."""
        return BETA_DEF if name == BETA_DIMENSION else self.arch.hyperparameter(name)

    def selective_backprop_for(self, hyperparameters: Mapping[str, Any]) -> SelectiveBackpropSpec | None:
        """The Selective-Backprop settings one training with these hyperparameters uses (None: off)."""
        sb = self.selective_backprop
        if sb is None or BETA_DIMENSION not in hyperparameters:
            return sb
        return sb.with_beta(float(hyperparameters[BETA_DIMENSION]))

    def resolve_hyperparameters(self, values: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The defaults with `values` applied; each value must lie in this spec's search space."""
        values = dict(values or {})
        names = [d.name for d in self.search_space]
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise SpecError(self.source, "search_space", f"unknown hyperparameter(s) {', '.join(unknown)}",
                            ", ".join(names))
        out = self.defaults()
        for name, value in values.items():
            dim, hdef = self.dimension(name), self.hyperparameter_def(name)
            try:
                v = hdef.coerce(value)
            except ValueError as exc:
                raise SpecError(self.source, f"search_space.{name}", str(exc)) from None
            if not dim.contains(v):
                raise SpecError(self.source, f"search_space.{name}", f"{v!r} is outside the search space",
                                dim.describe(), budget=self.budget)
            out[name] = v
        return out

    def to_json(self) -> dict[str, Any]:
        out = {"source": self.source, "budget": self.budget, "name": self.name, "architecture": self.architecture,
               "seed": self.seed, "model_options": _jsonable(self.model_options), "dataset": self.dataset.to_json(),
               "search_space": [d.to_json() for d in self.search_space], "tuning": dict(self.tuning.__dict__),
               "optimize": _jsonable(self.optimize.__dict__), "measure": self.measure.to_json()}
        # Left out when off, so the hash (and tuning study name) of a spec without it is what it was.
        if self.selective_backprop is not None:
            out["train"] = {"selective_backprop": self.selective_backprop.to_json()}
        return out

    @property
    def spec_hash(self) -> str:
        body = {k: v for k, v in self.to_json().items() if k != "source"}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def load_spec(path: str | Path, budget: str = "full") -> StudySpec:
    """Read a TOML spec and return it with `budget` applied (every budget is validated)."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef,import-not-found,unused-ignore]
    source = str(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise UsageError(f"{source}: no such spec file; the seed study's specs are models/*.toml") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(source, "(file)", f"not valid TOML: {exc}") from None
    return parse_spec(data, source=source, budget=budget)


def parse_spec(data: Mapping[str, Any], *, source: str, budget: str) -> StudySpec:
    from edgebench.spec._parse import validate  # keeps this module's import light and short

    _check_keys(data, TOP_KEYS, source, "(top level)")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise SpecError(source, "schema_version", f"expected {SCHEMA_VERSION}, got {data.get('schema_version')!r}")
    budgets = data.get("budget")
    if not isinstance(budgets, dict):
        raise SpecError(source, "budget", "missing [budget.smoke] and [budget.full] tables",
                        "a table per budget name")
    for name in REQUIRED_BUDGETS:
        if not isinstance(budgets.get(name), dict):
            raise SpecError(source, f"budget.{name}", "missing table: every spec needs a smoke budget (minutes "
                            "on 2 CPU cores) and a full budget (the study's scale)")
    if budget not in budgets:
        raise SpecError(source, "budget", f"no budget {budget!r}", ", ".join(budgets))
    base = {k: v for k, v in data.items() if k != "budget"}
    chosen = None
    for name, override in budgets.items():
        if not isinstance(override, dict):
            raise SpecError(source, f"budget.{name}", f"expected a table, got {type(override).__name__}")
        _check_keys(override, BUDGET_KEYS, source, f"budget.{name}")
        spec = validate(merge(base, override), source=source, budget=name, override=override,
                        budgets=tuple(budgets))
        if name == budget:
            chosen = spec
    assert chosen is not None
    return chosen


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` over `base`: tables merge key by key, other values (lists too) replace; a budget's
    `dataset` table replaces the base one whole."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if key == "dataset" or not (isinstance(value, dict) and isinstance(out.get(key), dict)):
            out[key] = copy.deepcopy(value)
        else:
            out[key] = merge(out[key], value)
    return out


def _check_keys(table: Mapping[str, Any], allowed: tuple[str, ...], source: str, where: str) -> None:
    unknown = [k for k in table if k not in allowed]
    if unknown:
        raise SpecError(source, f"{where}.{unknown[0]}" if not where.startswith("(") else unknown[0],
                        "unknown field", ", ".join(allowed))


def finite(x: float) -> bool:
    return not (math.isnan(x) or math.isinf(x))
