"""Statistics shared by `effects` and `sensitivity`: Holm's step-down correction, Cliff's delta and its
magnitude label, hyperparameter levels (continuous values binned), analysis groups (one per device and
run config) and a percentile bootstrap over configurations (scipy.stats.bootstrap on row indices).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from edgebench.errors import UsageError

HP_PREFIX = "hp."
# Properties to analyse when none are named (the list), and those where larger is better.
DEFAULT_PROPERTIES = ("accuracy", "latency_ms", "size_bytes", "energy_mj", "training_s")
MAXIMIZED_PROPERTIES = frozenset({"accuracy", "val_accuracy"})
# Properties measured on the device: taken from rows whose runs were all valid only.
DEVICE_PROPERTIES = frozenset({"latency_ms", "latency_p90_ms", "energy_mj", "peak_memory_kb"})
# Cliff's |delta| thresholds (Romano et al. 2006): negligible < 0.147 <= small < 0.33 <= medium < 0.474 <= large
MAGNITUDE_THRESHOLDS = ((0.474, "large"), (0.33, "medium"), (0.147, "small"))
MAX_DISCRETE_LEVELS = 6  # a numeric hyperparameter with more distinct values is binned
QUANTILE_BINS = 3        # ... into tertiles of its values
GROUP_COLUMNS = ("device_id", "config")
RECIPE = "_recipe"  # working column: each row's optimization recipe (see with_recipes)


def check_resampling(confidence: float, seed: int, draws: int) -> None:
    """The options every bootstrapped analysis takes, checked once with the same words."""
    if not 0.0 < confidence < 1.0:
        raise UsageError(f"confidence: expected a number between 0 and 1 (e.g. 0.95), got {confidence}")
    if seed < 0:
        raise UsageError(f"seed: expected a non-negative integer, got {seed}")
    if draws < 1:
        raise UsageError(f"draws: expected a positive number of bootstrap resamples (e.g. 1000), got {draws}")


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error), NaN entries left out of the family and kept NaN.

    With the m finite p sorted ascending p(1) <= ... <= p(m): adj(i) = max over j <= i of min(1, (m-j+1) p(j)).
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = finite.size
    if m == 0:
        return out
    order = finite[np.argsort(p[finite], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out


def cliffs_delta_from_u(u_statistic: float, n_x: int, n_y: int) -> float:
    """Cliff's delta P(X > Y) - P(X < Y) from Mann-Whitney's U of x (which counts ties as 1/2)."""
    return 2.0 * u_statistic / (n_x * n_y) - 1.0


def magnitude(delta: float) -> str:
    size = abs(delta)
    for threshold, label in MAGNITUDE_THRESHOLDS:
        if size >= threshold:
            return label
    return "negligible"


def hyperparameter_columns(table: pd.DataFrame) -> list[str]:
    return [str(c) for c in table.columns if str(c).startswith(HP_PREFIX)]


def _numeric(values: pd.Series) -> pd.Series | None:
    """The values as floats when every non-missing one is a number (bools are categories), else None."""
    present = values.dropna()
    if present.empty or any(isinstance(v, (bool, np.bool_)) for v in present):
        return None
    try:
        converted = pd.to_numeric(present, errors="coerce")
    except (TypeError, ValueError):  # lists or mappings (a hyperparameter holding a layer list)
        return None
    if converted.isna().any():
        return None
    return pd.to_numeric(values, errors="coerce").astype(float)


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _label(value: object) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):g}"
    return str(value)


@dataclass(frozen=True)
class Levels:
    """Each row's level label (None where the hyperparameter is missing), the labels in order, and
    the level's position 0..L-1 (ordered by value for numbers, by first appearance otherwise)."""
    labels: pd.Series
    order: tuple[str, ...]
    numeric: bool
    binned: bool


def levels(values: pd.Series) -> Levels:
    """Levels of one hyperparameter: each distinct value, or for a numeric one with more than
    MAX_DISCRETE_LEVELS distinct values, QUANTILE_BINS quantile bins labelled "[min, max]" of their members."""
    numbers = _numeric(values)
    if numbers is None:
        labels = pd.Series([None if _missing(v) else _label(v) for v in values], index=values.index, dtype=object)
        order = tuple(dict.fromkeys(label for label in labels if label is not None))
        return Levels(labels, order, False, False)
    distinct = np.unique(numbers.dropna().to_numpy())
    if distinct.size <= MAX_DISCRETE_LEVELS:
        labels = numbers.map(lambda v: None if math.isnan(v) else _label(v))
        return Levels(labels, tuple(_label(v) for v in distinct), True, False)
    bins = pd.qcut(numbers, QUANTILE_BINS, labels=False, duplicates="drop")
    names: dict[int, str] = {}
    for code in sorted(int(c) for c in bins.dropna().unique()):
        members = numbers[bins == code]
        names[code] = f"[{members.min():g}, {members.max():g}]"
    labels = bins.map(lambda c: None if pd.isna(c) else names[int(c)])
    return Levels(labels, tuple(names[c] for c in sorted(names)), True, True)


def usable_values(table: pd.DataFrame, prop: str) -> pd.Series:
    """The property as floats; NaN where unknown, and for device-measured properties where the row's
    runs were not all valid (a figure from an invalid run is not evidence)."""
    values = pd.to_numeric(table[prop], errors="coerce").astype(float)
    if prop in DEVICE_PROPERTIES and "valid" in table.columns:
        values = values.where(table["valid"].fillna(False).astype(bool))
    return values.where(np.isfinite(values))


def choose_properties(table: pd.DataFrame, properties: Sequence[str] | str | None) -> list[str]:
    """Named properties (each must be a column), or the defaults that are columns with a known value."""
    if properties is None:
        return [p for p in DEFAULT_PROPERTIES if p in table.columns and usable_values(table, p).notna().any()]
    names = [p.strip() for p in (properties.split(",") if isinstance(properties, str) else properties) if p.strip()]
    missing = [p for p in names if p not in table.columns]
    if missing or not names:
        raise UsageError(f"property {', '.join(map(repr, missing)) or '(none)'} is not a column of the variant"
                         f" table; expected some of: {', '.join(c for c in table.columns if not str(c).startswith(HP_PREFIX))}")
    return names


def recipe_name(variant: object, transform: object, quantization: object) -> str | None:
    """The recipe in optimize's grammar from a row's transform and quantization ("prune:0.5" + "int8" ->
    "prune:0.5+int8", "" + "fp32" -> "fp32", "qat" + "int8" -> "qat"); the `variant` text when they are
    unknown; None for a row without a model (a failed trial)."""
    if isinstance(transform, str) and isinstance(quantization, str) and quantization:
        if not transform:
            return quantization
        if quantization == "fp32" or (transform == "qat" and quantization == "int8"):
            return transform
        return f"{transform}+{quantization}"
    return variant if isinstance(variant, str) and variant else None


def with_recipes(table: pd.DataFrame) -> pd.DataFrame:
    """The rows that hold a model, with their recipe in RECIPE: analyses group by recipe, not by the
    `variant` text, which in a session table is a file name (one per model)."""
    def column(name: str) -> pd.Series:
        return table[name] if name in table.columns else pd.Series(None, index=table.index, dtype=object)

    recipes = [recipe_name(v, t, q) for v, t, q in zip(column("variant"), column("transform"),
                                                        column("quantization"))]
    out = table.assign(**{RECIPE: pd.Series(recipes, index=table.index, dtype=object)})
    return out[out[RECIPE].notna()]


def analysis_groups(table: pd.DataFrame) -> Iterator[tuple[dict[str, str], pd.DataFrame]]:
    """One sub-table per (device_id, config): effects on one device never mix with another's."""
    keys = [c for c in GROUP_COLUMNS if c in table.columns]
    if not keys:
        yield {c: "" for c in GROUP_COLUMNS}, table
        return
    filled = table[keys].astype(object).where(table[keys].notna(), "")
    for values, part in table.groupby([filled[k] for k in keys], sort=True, dropna=False):
        key = dict(zip(keys, (str(v) for v in (values if isinstance(values, tuple) else (values,)))))
        yield {c: key.get(c, "") for c in GROUP_COLUMNS}, part


@dataclass(frozen=True)
class Interval:
    low: np.ndarray
    high: np.ndarray
    degenerate_draws: int  # resamples whose statistic was undefined (e.g. constant), left out of the quantiles
    constant: np.ndarray  # per statistic: every defined resample gave the same value (no interval to show)
    upper: np.ndarray  # per statistic: the one-sided upper bound, the `confidence` quantile of the resamples


def bootstrap_over_rows(n_rows: int, statistic: Callable[..., np.ndarray], *, draws: int, confidence: float,
                        seed: int, vectorized: bool = False, elements_per_draw: int | None = None) -> Interval:
    """Percentile bootstrap CI of `statistic(indices)` (a vector) resampling the n_rows rows with
    replacement (scipy.stats.bootstrap). Vectorized: `statistic(indices, axis=-1)` takes a (resamples x
    n_rows) index block and returns (statistics x resamples). Resamples where a statistic is NaN are
    dropped from its quantiles and counted. `elements_per_draw` (default n_rows) sizes the blocks."""
    if draws < 1:
        raise UsageError(f"bootstrap draws: expected a positive count, got {draws}")
    per_draw = max(elements_per_draw if elements_per_draw is not None else n_rows, 1)
    batch = max(1, min(draws, _MAX_BATCH_ELEMENTS // per_draw)) if vectorized else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant resamples (ConstantInputWarning) are counted below
        result = stats.bootstrap((np.arange(n_rows),), statistic, vectorized=vectorized, batch=batch,
                                 n_resamples=draws, method="percentile", confidence_level=confidence,
                                 rng=np.random.default_rng(seed))
    distribution = np.atleast_2d(np.asarray(result.bootstrap_distribution, dtype=float))
    low = np.atleast_1d(np.asarray(result.confidence_interval.low, dtype=float))
    high = np.atleast_1d(np.asarray(result.confidence_interval.high, dtype=float))
    bad = ~np.isfinite(distribution)
    if bad.any():
        alpha = (1.0 - confidence) / 2.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an all-NaN row gives NaN, reported as no interval
            low = np.nanquantile(distribution, alpha, axis=-1)
            high = np.nanquantile(distribution, 1.0 - alpha, axis=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an all-NaN row has no spread either
        constant = ~(np.nanmax(distribution, axis=-1) > np.nanmin(distribution, axis=-1))
        upper = np.nanquantile(distribution, confidence, axis=-1)
    return Interval(low, high, int(bad.any(axis=0).sum()), constant, upper)


def fisher_z_interval(estimate: float, standard_error: float, confidence: float) -> tuple[float, float]:
    """tanh(atanh(r) -/+ z * se): a correlation's two-sided interval on Fisher's z scale (inside -1..1)."""
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    centre = math.atanh(estimate)
    return math.tanh(centre - z * standard_error), math.tanh(centre + z * standard_error)


def too_few_for_interval(n: int, minimum: int, confidence: float, what: str = "configurations") -> str | None:
    """The reason no interval is shown below `minimum` (the n from which the tests' coverage simulation
    shows the interval holding its level), else None."""
    if n >= minimum:
        return None
    return (f"n = {n} {what}: a {confidence:.0%} interval needs at least {minimum} (below that its coverage"
            " falls short of the stated level in simulation)")


EXACT_PERMUTATION_MAX_N = 8  # 8! = 40,320 pairings: enumerated exactly; above, the library's own p-value


def exact_permutation_p(x: np.ndarray, y: np.ndarray, statistic_rows: Callable[[np.ndarray, np.ndarray],
                                                                                np.ndarray]) -> float | None:
    """Two-sided p of an association statistic over all n! pairings of x with y
    (scipy.stats.permutation_test, exact); None when n > EXACT_PERMUTATION_MAX_N."""
    if len(x) > EXACT_PERMUTATION_MAX_N:
        return None

    def statistic(shuffled: np.ndarray, axis: int = -1) -> np.ndarray:
        shuffled = np.atleast_2d(shuffled)
        return statistic_rows(shuffled, np.broadcast_to(y, shuffled.shape))

    # one sample: "pairings" then enumerates the n! orders of x against y (given both, it would take (n!)^2)
    result = stats.permutation_test((x,), statistic, permutation_type="pairings", vectorized=True,
                                    n_resamples=math.factorial(len(x)), alternative="two-sided",
                                    batch=10_000)  # n_resamples >= n! pairings: scipy enumerates them all
    return float(result.pvalue)


_MAX_BATCH_ELEMENTS = 2_000_000  # resamples x rows per vectorized block


def not_checked(reason: str) -> dict[str, object]:
    return {"status": "not_checked", "reason": reason}


def json_records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as JSON-ready dicts: NaN -> None, numpy scalars -> Python."""
    out: list[dict[str, object]] = []
    for record in frame.to_dict(orient="records"):
        out.append({str(k): _plain(v) for k, v in record.items()})
    return out


def _plain(value: object) -> object:
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
