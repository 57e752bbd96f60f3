"""How well each learner predicts a measure: repeated K-fold cross-validation (scikit-learn's
RepeatedKFold) over a `PerfTable`.

In each repeat every row is held out once and predicted by a model fitted on the other folds; MAPE
(100/N · Σ |y − ŷ| / y), NMSE and the share within ±10 % are computed over those N held-out predictions,
and the records give their mean and standard deviation over the repeats. Every learner is scored on the
same folds (same seed), so their figures compare pair-wise.
"""
from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

from edgebench.errors import UsageError
from edgebench.perfmodel.learners import FOREST_TREES, LEARNERS, make_learner, mape_pct, nmse, within_share
from edgebench.perfmodel.table import PerfTable, require_rows

if TYPE_CHECKING:
    import numpy as np

DEFAULT_FOLDS = 5
DEFAULT_REPEATS = 3
MIN_FOLDS = 2
MIN_HELD_OUT_ROWS = 3  # per fold: fewer makes a fold's errors mostly noise; folds are reduced to keep it

# learner, fits done, fits in all (over every learner)
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class LearnerScore:
    """One learner's cross-validated errors. `*_sd` are None with one repeat (no spread to report)."""
    learner: str
    measure: str
    rows: int
    folds: int  # folds used (may be fewer than asked: see notes)
    repeats: int
    seed: int
    mape_pct_mean: float
    mape_pct_sd: float | None
    nmse_mean: float
    nmse_sd: float | None
    within_10pct_share_mean: float
    within_10pct_share_sd: float | None
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["notes"] = list(self.notes)
        return data


def cv_folds(rows: int, folds: int) -> tuple[int, str | None]:
    """The folds a table of `rows` rows can take (each held-out fold ≥ MIN_HELD_OUT_ROWS rows), and a note
    when that is fewer than `folds`."""
    usable = min(folds, rows // MIN_HELD_OUT_ROWS)
    if usable >= folds:
        return folds, None
    return usable, (f"folds reduced from {folds} to {usable}: {rows} rows leave fewer than {MIN_HELD_OUT_ROWS} "
                    "held-out rows per fold otherwise")


def evaluate(table: PerfTable, learners: Sequence[str] = LEARNERS, *, folds: int = DEFAULT_FOLDS,
             repeats: int = DEFAULT_REPEATS, seed: int = 0, trees: int = FOREST_TREES,
             progress: Progress | None = None) -> tuple[LearnerScore, ...]:
    """Each learner's MAPE, NMSE and ±10 % share under `repeats` × `folds`-fold cross-validation."""
    import numpy as np
    from sklearn.model_selection import RepeatedKFold

    if table.measure is None:
        raise UsageError(f"{table.source}: name the measure to evaluate (--measure COL)")
    if folds < MIN_FOLDS:
        raise UsageError(f"--folds {folds}: cross-validation needs at least {MIN_FOLDS} folds")
    if repeats < 1:
        raise UsageError(f"--repeats {repeats}: expected at least 1")
    unknown = [name for name in learners if name not in LEARNERS]
    if unknown or not learners:
        raise UsageError(f"learners {', '.join(map(repr, unknown)) or '(none)'}: expected one or more of "
                         f"{', '.join(LEARNERS)}")
    require_rows(table, MIN_FOLDS * MIN_HELD_OUT_ROWS,
                 f"cross-validation ({MIN_FOLDS} folds of at least {MIN_HELD_OUT_ROWS} held-out rows)")
    used_folds, fold_note = cv_folds(table.rows, folds)
    x, y = table.x(), table.y()
    splits = list(RepeatedKFold(n_splits=used_folds, n_repeats=repeats, random_state=seed).split(x))
    total = len(splits) * len(learners)
    scores = []
    for index, learner in enumerate(learners):
        per_repeat: list[tuple[float, float, float]] = []
        unconverged = 0
        for repeat in range(repeats):
            held_out = np.empty_like(y)
            for fold, (train, test) in enumerate(splits[repeat * used_folds:(repeat + 1) * used_folds]):
                model = make_learner(learner, seed, trees=trees)
                unconverged += _fit(model, x[train], y[train])
                held_out[test] = model.predict(x[test])
                if progress is not None:
                    progress(learner, index * len(splits) + repeat * used_folds + fold + 1, total)
            per_repeat.append((mape_pct(y, held_out), nmse(y, held_out), within_share(y, held_out)))
        notes = tuple(n for n in (fold_note, _convergence_note(learner, unconverged, len(splits))) if n)
        scores.append(_score(learner, table, used_folds, repeats, seed, np.array(per_repeat), notes))
    return tuple(scores)


def best(scores: Sequence[LearnerScore]) -> LearnerScore:
    """The learner with the lowest mean MAPE."""
    return min(scores, key=lambda s: s.mape_pct_mean)


def _fit(model: Any, x: np.ndarray, y: np.ndarray) -> int:
    """Fit `model`; 1 when scikit-learn warned that it did not converge (the MLP), else 0."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(x, y)
    for w in caught:  # only convergence is counted; anything else is passed on as it came
        if not issubclass(w.category, ConvergenceWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return int(any(issubclass(w.category, ConvergenceWarning) for w in caught))


def _convergence_note(learner: str, unconverged: int, fits: int) -> str | None:
    if not unconverged:
        return None
    return f"{learner}: did not converge in {unconverged} of {fits} fits (scikit-learn's ConvergenceWarning)"


def _score(learner: str, table: PerfTable, folds: int, repeats: int, seed: int, per_repeat: np.ndarray,
           notes: tuple[str, ...]) -> LearnerScore:
    means = per_repeat.mean(axis=0)
    sds: list[float | None] = ([float(v) for v in per_repeat.std(axis=0, ddof=1)] if repeats > 1
                               else [None, None, None])
    assert table.measure is not None
    return LearnerScore(learner=learner, measure=table.measure, rows=table.rows, folds=folds, repeats=repeats,
                        seed=seed, mape_pct_mean=float(means[0]), mape_pct_sd=sds[0], nmse_mean=float(means[1]),
                        nmse_sd=sds[1], within_10pct_share_mean=float(means[2]), within_10pct_share_sd=sds[2],
                        notes=notes)
