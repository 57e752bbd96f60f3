"""Stepwise linear regression by AIC, in both directions, over the options' main effects and their pairwise
interactions: which options and interactions influence a measure (seed 5's
`step(lm(Y ~ .), scope = . ~ .^2, direction = "both")`, limited to pairs).

    stepwise_aic(x, y, names) -> StepwiseModel   (its .terms: ("a",), ("b",), ("a", "b"), ...)

Written here over numpy least squares because no well-kept library installed with edgebench does it:
scikit-learn's SequentialFeatureSelector goes one way only and scores by cross-validation, not AIC, and
statsmodels (which has OLS and its AIC, but no stepwise either) is not a dependency.

It starts from the intercept alone (seed 5's R code starts from all main effects: see `stepwise_aic`),
and at each step makes the single addition or removal that lowers AIC = n·log(RSS/n) + 2·(coefficients)
the most, until none does. Marginality is kept as R
keeps it: an interaction a:b can enter only while a and b are in, and a main effect can leave only when no
interaction holding it is in.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from edgebench.errors import UsageError

if TYPE_CHECKING:
    import numpy as np

Term = tuple[str, ...]  # ("a",) a main effect, ("a", "b") the interaction a:b

MAX_STEPS = 500


@dataclass(frozen=True)
class StepwiseModel:
    """The terms stepwise regression kept (main effects first, in option order, then interactions), the
    model's AIC, the steps taken ("+ a:b", "- c") and the options left out as constant in the data."""
    terms: tuple[Term, ...]
    aic: float
    steps: tuple[str, ...]
    constant_options: tuple[str, ...]

    @property
    def term_names(self) -> tuple[str, ...]:
        return tuple(term_name(t) for t in self.terms)


def term_name(term: Term) -> str:
    return ":".join(term)


def stepwise_aic(x: np.ndarray, y: np.ndarray, names: Sequence[str], *, interactions: bool = True,
                 penalty: float = 2.0) -> StepwiseModel:
    """Bidirectional stepwise selection (AIC when `penalty` is 2, BIC when it is log n) of the terms of a
    linear model of `y` (the measure as given, as seed 5's lm does) on the columns of `x` (named by
    `names`) and, with `interactions`, their pairwise products. Options constant in `x` cannot influence
    anything here and are left out."""
    import numpy as np

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(y)
    if x.ndim != 2 or x.shape[0] != n or x.shape[1] != len(names):
        raise ValueError(f"x is {x.shape}, y has {n} values, names {len(names)}: expected x of (rows, names)")
    if n < 3:
        raise UsageError(f"stepwise regression needs at least 3 rows to compare models; got {n}")
    spread = x.std(axis=0)
    varying = [i for i in range(len(names)) if spread[i] > 0]
    constant = tuple(names[i] for i in range(len(names)) if spread[i] == 0)
    # Standardized columns: products of centred columns are far less collinear with their main effects,
    # and under marginality the model spanned is the same as with raw products.
    columns: dict[Term, np.ndarray] = {}
    for i in varying:
        columns[(names[i],)] = (x[:, i] - x[:, i].mean()) / spread[i]
    mains = [(names[i],) for i in varying]
    pairs = [(a[0], b[0]) for k, a in enumerate(mains) for b in mains[k + 1:]] if interactions else []
    for a, b in pairs:
        columns[(a, b)] = columns[(a,)] * columns[(b,)]
    total = float(np.sum((y - y.mean()) ** 2))
    # An exact fit would make log(RSS) -inf and every model tie. Relative to the total, so the terms chosen do
    # not depend on the measure's unit (seconds vs µs); the absolute guard only for a constant y.
    floor = total * 1e-12 if total > 0 else 1e-300

    def aic(terms: Sequence[Term]) -> float:
        design = np.column_stack([np.ones(n)] + [columns[t] for t in terms])
        coefficients, *_ = np.linalg.lstsq(design, y, rcond=None)
        rss = float(np.sum((y - design @ coefficients) ** 2))
        return float(n * np.log(max(rss, floor) / n) + penalty * design.shape[1])

    # Forward from the intercept, not from all main effects as seed 5's step(lm(Y ~ .)) does: started
    # full, a noise option stays whenever one of its interactions passes AIC by chance (about a third
    # of noise options on tests/perfmodel/test_stepwise.py's data, about 15 % from the intercept).
    current: list[Term] = []
    current_aic = aic(current)
    steps: list[str] = []
    for _ in range(MAX_STEPS):
        candidates: list[tuple[float, str, list[Term]]] = []
        for term in current:
            if len(term) == 1 and any(len(t) == 2 and term[0] in t for t in current):
                continue  # marginality: a main effect stays while an interaction holds it
            rest = [t for t in current if t != term]
            candidates.append((aic(rest), "- " + term_name(term), rest))
        if len(current) + 2 < n:  # keep a residual degree of freedom
            present = set(current)
            for term in mains + pairs:
                if term in present or (len(term) == 2 and not ((term[0],) in present and (term[1],) in present)):
                    continue
                grown = _ordered(current + [term], mains, pairs)
                candidates.append((aic(grown), "+ " + term_name(term), grown))
        if not candidates:
            break
        best_aic, step, best = min(candidates, key=lambda c: c[0])
        if best_aic >= current_aic - 1e-9:
            break
        current, current_aic = best, best_aic
        steps.append(step)
    return StepwiseModel(terms=tuple(_ordered(current, mains, pairs)), aic=current_aic, steps=tuple(steps),
                         constant_options=constant)


def _ordered(terms: Sequence[Term], mains: Sequence[Term], pairs: Sequence[Term]) -> list[Term]:
    chosen = set(terms)
    return [t for t in list(mains) + list(pairs) if t in chosen]
