"""`[train.selective_backprop]` of a spec and `--selective-backprop beta=3,...` of `edgebench train`.

Selective-Backprop (Jiang et al. 2019, arXiv:1910.00762; the authors' code) backpropagates an
example with probability P = p^beta, p its loss's percentile among the last `history` losses.
This module only reads and checks the settings; the algorithm is `edgebench.train.selective_backprop`.

- beta: selectivity (> 0); the expected fraction backpropagated is 1/(beta+1).
- history: how many recent per-example losses the percentile is taken over (the authors' 1024).
- staleness: 0 = off; n >= 1 = Stale-SB: an example's selection forward pass is skipped (its cached
  loss reused) unless it has no cached loss or its cache is n or more epochs old (1 never skips).
- lr_by: what a learning-rate *schedule* counts as progress: examples backpropagated (the authors'
  default) or examples analyzed (their --forwardlr); step = counted examples / batch_size.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping

from edgebench.errors import UsageError
from edgebench.zoo.hyperparameters import HyperparameterDef

KEYS = ("beta", "history", "staleness", "lr_by")
LR_BY = ("backpropagated", "analyzed")
DEFAULT_HISTORY = 1024
BETA_LOW, BETA_HIGH = 0.01, 100.0
HISTORY_HIGH = 1_000_000
STALENESS_HIGH = 1000
# The search-space dimension that tunes beta: `[search_space] selective_backprop.beta = {...}`.
BETA_DIMENSION = "selective_backprop.beta"
BETA_DEF = HyperparameterDef(BETA_DIMENSION, float, 3.0, "Selective-Backprop selectivity beta (P = p^beta)",
                             low=BETA_LOW, high=BETA_HIGH, stage="fit")
CLI_EXAMPLE = "--selective-backprop beta=3,history=1024,staleness=2,lr_by=analyzed"


@dataclass(frozen=True)
class SelectiveBackpropSpec:
    beta: float
    history: int = DEFAULT_HISTORY
    staleness: int = 0  # 0: off (every example gets its selection forward pass)
    lr_by: str = "backpropagated"

    @property
    def stale(self) -> bool:
        return self.staleness > 0

    def to_json(self) -> dict[str, Any]:
        return {"beta": self.beta, "history": self.history, "staleness": self.staleness, "lr_by": self.lr_by}

    def with_beta(self, beta: float) -> SelectiveBackpropSpec:
        return replace(self, beta=float(beta))

    def describe(self) -> str:
        stale = f", Stale-SB staleness {self.staleness}" if self.stale else ""
        return f"beta {self.beta:g}, history {self.history}{stale}, lr by examples {self.lr_by}"


# problem(key, what is wrong, allowed values) -> the exception to raise, naming the key where it was written
Problem = Callable[[str, str, str], Exception]


def check_beta(value: Any, problem: Problem) -> float:
    allowed = f"a number in [{BETA_LOW:g}, {BETA_HIGH:g}] (1 -> 50% backpropagated, 2 -> 33%, 3 -> 25%)"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise problem("beta", f"expected a number, got {type(value).__name__} {value!r}", allowed)
    if not BETA_LOW <= float(value) <= BETA_HIGH:
        raise problem("beta", f"{value} is out of range", allowed)
    return float(value)


def _check_int(value: Any, key: str, low: int, high: int, problem: Problem, note: str) -> int:
    allowed = f"integers in [{low}, {high}]{note}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise problem(key, f"expected an integer, got {type(value).__name__} {value!r}", allowed)
    if not low <= value <= high:
        raise problem(key, f"{value} is out of range", allowed)
    return value


def parse_table(table: Mapping[str, Any], problem: Problem, *, beta_searched: bool) -> SelectiveBackpropSpec:
    """The settings of `[train.selective_backprop]` (already a mapping). When the search space tunes
    beta, the table must not set it (the dimension's default is the default); otherwise it must."""
    for k in table:
        if k not in KEYS:
            raise problem(k, "unknown field", ", ".join(KEYS))
    if beta_searched and "beta" in table:
        raise problem("beta", f"beta is also a search dimension ([search_space] {BETA_DIMENSION}); set it in "
                      "one place", f"remove beta here (the dimension's default is used) or remove {BETA_DIMENSION}")
    if not beta_searched and "beta" not in table:
        raise problem("beta", "missing: Selective-Backprop needs its selectivity",
                      f"a number in [{BETA_LOW:g}, {BETA_HIGH:g}], e.g. beta = 3, or a dimension "
                      f"[search_space] {BETA_DIMENSION} = {{ choices = [1, 2, 3], default = 3 }}")
    beta = BETA_DEF.default if beta_searched else check_beta(table["beta"], problem)
    history = _check_int(table.get("history", DEFAULT_HISTORY), "history", 1, HISTORY_HIGH, problem,
                         f" (default {DEFAULT_HISTORY})")
    staleness = _check_int(table.get("staleness", 0), "staleness", 0, STALENESS_HIGH, problem,
                           " (0 = off; n = Stale-SB: reuse a loss fewer than n epochs old)")
    lr_by = table.get("lr_by", "backpropagated")
    if lr_by not in LR_BY:
        raise problem("lr_by", f"unknown value {lr_by!r}", ", ".join(LR_BY))
    return SelectiveBackpropSpec(float(beta), history, staleness, lr_by)


def parse_cli(text: str, base: SelectiveBackpropSpec | None = None) -> tuple[SelectiveBackpropSpec, bool]:
    """`beta=3[,history=1024,staleness=2,lr_by=analyzed]` over `base` (the spec's settings, if any).
    Returns the settings and whether the text set beta."""
    def problem(key: str, what: str, allowed: str) -> UsageError:
        return UsageError(f"--selective-backprop {text!r}: {key}: {what}; allowed: {allowed}; e.g. {CLI_EXAMPLE}")

    values: dict[str, Any] = dict(base.to_json()) if base else {}
    given: set[str] = set()
    for item in (part.strip() for part in text.split(",")):
        name, sep, raw = item.partition("=")
        name, raw = name.strip(), raw.strip()
        if not sep or not name or not raw:
            raise UsageError(f"--selective-backprop {text!r}: expected KEY=VALUE pairs separated by commas, got "
                             f"{item!r}; keys: {', '.join(KEYS)}; e.g. {CLI_EXAMPLE}")
        if name not in KEYS:
            raise problem(name, "unknown key", ", ".join(KEYS))
        if name in given:
            raise problem(name, "given twice", "each key once")
        given.add(name)
        values[name] = raw if name == "lr_by" else _number(raw, name, problem)
    if "beta" not in values:
        raise problem("beta", "missing (the spec has no [train.selective_backprop] to take it from)",
                      f"a number in [{BETA_LOW:g}, {BETA_HIGH:g}]")
    return parse_table(values, problem, beta_searched=False), "beta" in given


def _number(raw: str, name: str, problem: Problem) -> int | float:
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        value = float(raw)
    except ValueError:
        raise problem(name, f"expected a number, got {raw!r}", "numbers") from None
    return int(value) if name != "beta" and value.is_integer() else value
