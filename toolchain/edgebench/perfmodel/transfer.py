"""Transfer a performance model from a source environment to a target one (another device, input size,
thread count or runtime) with a small target budget, each method beside training from scratch (seed 5).

    transfer(source, target, budgets, methods, repeats, seed, learner) -> list[TransferRecord]

Methods, each given the source table, the target table, a budget of B target rows and a seed:
- scratch: the learner fitted on a random sample of B target rows;
- dm: the learner fitted on all source rows predicts the target directly;
- lms: a linear regression target_y ~ source_model(x) fitted on the sampled rows; prediction
  LMS(source_model(x));
- ratio: target_y = k · source_model(x), log k the mean of log(target_y / source_model(x)) over the sampled
  rows (a device k times slower is one coefficient, stable from one row; a linear shift on two raw
  points extrapolates wildly across orders of magnitude);
- nlms: the same with a 16-tree random forest on [source_model(x), options];
- gs: stepwise regression on the source picks the influential terms, the B rows are those that vary them
  (guided_sampling.py), and the learner is fitted on them.
Each is scored on the target rows it did not train on (dm on those scratch, lms and nlms did not use).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

from edgebench.errors import UsageError
from edgebench.perfmodel.budget import Budget
from edgebench.perfmodel.guided_sampling import guided_rows
from edgebench.perfmodel.learners import DEFAULT_LEARNER, make_learner, mape_pct, nmse, within_share
from edgebench.perfmodel.stepwise import StepwiseModel, stepwise_aic
from edgebench.perfmodel.table import PerfTable, require_rows

if TYPE_CHECKING:
    import numpy as np

METHODS = ("scratch", "dm", "lms", "ratio", "nlms", "gs")
NLMS_TREES = 16  # seed 5's shift forest
DEFAULT_REPEATS = 5


@dataclass(frozen=True)
class TransferRecord:
    """One method at one budget, over `repeats` repeats: MAPE (%) mean and sample sd (None for one
    repeat), NMSE mean and the mean share of predictions within ±10 %, scored on `scored_rows` target
    rows per repeat (those the method did not train on). `selected_terms` are GS's; `notes` say what was
    topped up or sampled."""
    method: str
    budget: int
    budget_share: float
    budget_asked: str
    mape_pct_mean: float
    mape_pct_sd: float | None
    nmse_mean: float
    within_10pct_share: float
    repeats: int
    scored_rows: int
    selected_terms: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def parse_methods(text: str) -> tuple[str, ...]:
    methods = tuple(dict.fromkeys(m.strip().lower() for m in re.split(r"[,\s]+", text) if m.strip()))
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise UsageError(f"--methods {text!r}: expected a comma-separated subset of {','.join(METHODS)}")
    return methods


def check_same_options(source: PerfTable, other: PerfTable, role: str = "target") -> None:
    """The same option columns in the source and `other` (order may differ), else those that differ."""
    only_source = [o for o in source.options if o not in other.options]
    only_other = [o for o in other.options if o not in source.options]
    if only_source or only_other:
        said = []
        if only_source:
            said.append(f"only the source ({source.source}) has {', '.join(only_source)}")
        if only_other:
            said.append(f"only the {role} ({other.source}) has {', '.join(only_other)}")
        raise UsageError(f"source and {role} must have the same option columns: " + "; ".join(said)
                         + ". Name the options both share with --options")


def check_compatible(source: PerfTable, target: PerfTable) -> None:
    """The same option columns in both, and a measure in both."""
    check_same_options(source, target)
    for role, table in (("source", source), ("target", target)):
        if table.measure is None:
            raise UsageError(f"{role} {table.source}: no measure column; transfer needs the measure in both")


def select_terms(source: PerfTable) -> StepwiseModel:
    """GS's influential terms: AIC stepwise regression on the source's options and their pairs."""
    require_rows(source, 3, "stepwise regression (guided sampling)")
    return stepwise_aic(source.x(), source.y(), source.options)


def transfer(source: PerfTable, target: PerfTable, budgets: Sequence[Budget], methods: Sequence[str] = METHODS,
             repeats: int = DEFAULT_REPEATS, seed: int = 0, learner: str = DEFAULT_LEARNER, *,
             progress: Callable[[int, int, str], None] | None = None) -> list[TransferRecord]:
    """Every method at every budget, over `repeats` repeats. Repeat r draws its own random target sample
    per budget; every method in repeat r uses the learner seed `seed + r`. `progress(done, total, text)`
    is called before each fit."""
    import numpy as np

    check_compatible(source, target)
    methods = parse_methods(",".join(methods))
    if repeats < 1:
        raise UsageError(f"--repeats {repeats}: expected at least 1")
    if seed < 0:
        raise UsageError(f"--seed {seed}: expected a seed of 0 or more")
    require_rows(target, 3, "transfer (2 rows to train on and 1 to score)")
    if not budgets:
        raise UsageError("give at least one --budget N or P%")
    # Budgets that come to the same number of rows of this target (2.5 % and 5 % of 24 rows) are one budget:
    # run once, shown once, and said so, rather than the same repeats counted twice.
    same: dict[int, list[str]] = {}
    for b in budgets:
        same.setdefault(b.rows_of(target.rows, target.source), []).append(b.text)
    budgets = [next(b for b in budgets if b.text == texts[0]) for texts in same.values()]
    sizes = list(same)
    x_target = target.frame[list(source.options)].to_numpy(dtype=float)
    y_target = target.y()
    terms = select_terms(source) if "gs" in methods else None
    scores: dict[tuple[str, int], list[tuple[float, float, float]]] = {}
    scored: dict[tuple[str, int], int] = {}
    notes: dict[tuple[str, int], list[str]] = {}
    needs_source = bool({"dm", "lms", "ratio", "nlms"} & set(methods))
    total = repeats * (len(sizes) * len(methods) + needs_source)
    done = 0

    def say(text: str) -> None:
        nonlocal done
        if progress is not None:
            progress(done, total, text)
        done += 1

    for repeat in range(repeats):
        learner_seed = seed + repeat
        source_prediction = None
        if needs_source:
            say(f"repeat {repeat + 1}/{repeats}: source model ({learner}, {source.rows} rows)")
            source_model = make_learner(learner, learner_seed).fit(source.x(), source.y())
            source_prediction = source_model.predict(x_target)
        for budget, size in zip(budgets, sizes):
            rng = np.random.default_rng([seed, repeat, size])
            sample = np.sort(rng.choice(target.rows, size=size, replace=False))
            rest = np.setdiff1d(np.arange(target.rows), sample)
            for method in methods:
                say(f"repeat {repeat + 1}/{repeats}, budget {budget.text} ({size} rows): {method}")
                train, test = sample, rest
                if method == "gs":
                    assert terms is not None
                    choice = guided_rows(target, terms.terms, size, np.random.default_rng([seed, repeat, size, 1]))
                    train = np.array(choice.rows, dtype=int)
                    test = np.setdiff1d(np.arange(target.rows), train)
                    for note in choice.notes:
                        if note not in notes.setdefault((method, size), []):
                            notes[(method, size)].append(note)
                predicted = _predict(method, x_target, y_target, train, test, source_prediction, learner,
                                     learner_seed)
                y_test = y_target[test]
                scores.setdefault((method, size), []).append(
                    (mape_pct(y_test, predicted), nmse(y_test, predicted), within_share(y_test, predicted)))
                scored[(method, size)] = len(test)
    for size, texts in same.items():
        if len(texts) > 1:
            for method in methods:
                notes.setdefault((method, size), []).append(
                    f"budgets {', '.join(texts)} are all {size} rows of this target: run once")
    records = []
    for method in methods:
        for budget, size in zip(budgets, sizes):
            values = np.array(scores[(method, size)])
            records.append(TransferRecord(
                method=method, budget=size, budget_share=size / target.rows, budget_asked=budget.text,
                mape_pct_mean=float(values[:, 0].mean()),
                mape_pct_sd=float(values[:, 0].std(ddof=1)) if repeats > 1 else None,
                nmse_mean=float(values[:, 1].mean()), within_10pct_share=float(values[:, 2].mean()),
                repeats=repeats, scored_rows=scored[(method, size)],
                selected_terms=terms.term_names if method == "gs" and terms is not None else (),
                notes=tuple(notes.get((method, size), ()))))
    return records


def _predict(method: str, x: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray,
             source_prediction: np.ndarray | None, learner: str, seed: int) -> np.ndarray:
    import numpy as np
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.linear_model import LinearRegression

    if method in ("scratch", "gs"):
        model = make_learner(learner, seed).fit(x[train], y[train])
        return np.asarray(model.predict(x[test]), dtype=float)
    assert source_prediction is not None
    if method == "dm":
        return np.asarray(source_prediction[test], dtype=float)
    if method == "lms":
        shift = LinearRegression().fit(source_prediction[train].reshape(-1, 1), y[train])
        return np.asarray(shift.predict(source_prediction[test].reshape(-1, 1)), dtype=float)
    if method == "ratio":  # the learners predict exp(...) > 0, so the logarithm is defined
        log_k = float(np.mean(np.log(y[train]) - np.log(source_prediction[train])))
        return np.asarray(np.exp(log_k) * source_prediction[test], dtype=float)
    features = np.column_stack([source_prediction, x])
    forest = RandomForestRegressor(n_estimators=NLMS_TREES, random_state=seed, n_jobs=1)
    return np.asarray(forest.fit(features[train], y[train]).predict(features[test]), dtype=float)
