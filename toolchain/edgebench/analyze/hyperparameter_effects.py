"""Hyperparameter effects on model properties (the research's seed 1), one device and run config at a time.

    effects(table, properties=None, top_k=10, confidence=0.95, seed=0) -> Effects

`tests`: per variant, hyperparameter, level and property, the level's rows against the rest's: Mann-Whitney U
(two-sided), Holm-corrected over the levels of that hyperparameter for that property, Cliff's delta and its
magnitude label. `correlations`: Spearman rho of each numeric hyperparameter with each property, exact
permutation p for small n and a Fisher-z (Bonett-Wright) CI from 10 rows. `spread` (top-k "LARD") and `rank_changes` (Kendall tau fp32 vs each variant) come
from `optimization_effects`. Exact definitions: README, "edgebench effects".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from edgebench.analyze.effect_size import (GROUP_COLUMNS, RECIPE, analysis_groups, check_resampling,
                                           choose_properties, cliffs_delta_from_u, exact_permutation_p,
                                           fisher_z_interval, holm, hyperparameter_columns, json_records, levels,
                                           magnitude, not_checked, too_few_for_interval, usable_values,
                                           with_recipes)
from edgebench.analyze.optimization_effects import rank_changes, top_k_spread
from edgebench.analyze.rank_statistics import spearman_rows
from edgebench.errors import UsageError

MIN_ROWS_PER_SIDE = 3     # a level (and the rest) needs this many rows for a rank test worth reading
MIN_CORRELATION_ROWS = 5
# Fisher-z (Bonett-Wright) interval of Spearman's rho: coverage by simulation (tests/analyze/test_interval_coverage.py)
# holds 91-96 % for a 95 % interval from 10 rows for |rho| up to 0.95, and falls to 53-86 % below 8.
MIN_SPEARMAN_INTERVAL_ROWS = 10
MIN_CORRELATION_VALUES = 3  # distinct hyperparameter values for a correlation
DEFAULT_DRAWS = 1000


@dataclass(frozen=True)
class Effects:
    """Tables of `effects`; every row names its device_id, config and variant, and has `status`
    ("checked" or "not_checked") and `reason` (why not, else "")."""
    tests: pd.DataFrame
    correlations: pd.DataFrame
    spread: pd.DataFrame
    rank_changes: pd.DataFrame
    rank_moves: pd.DataFrame  # every configuration's rank under fp32 and under each variant
    properties: tuple[str, ...]
    top_k: int
    confidence: float
    draws: int
    seed: int

    def to_json(self) -> dict[str, Any]:
        return {"properties": list(self.properties), "top_k": self.top_k, "confidence": self.confidence,
                "draws": self.draws, "seed": self.seed, "tests": json_records(self.tests),
                "correlations": json_records(self.correlations), "spread": json_records(self.spread),
                "rank_changes": json_records(self.rank_changes), "rank_moves": json_records(self.rank_moves)}


def effects(table: pd.DataFrame, properties: Sequence[str] | str | None = None, top_k: int = 10,
            confidence: float = 0.95, seed: int = 0, *, draws: int = DEFAULT_DRAWS) -> Effects:
    """Effects of the `hp.*` columns of a variant table on `properties` (default: those of
    accuracy, latency_ms, size_bytes, energy_mj, training_s that are columns)."""
    check_resampling(confidence, seed, draws)
    if top_k < 2:
        raise UsageError(f"top-k: expected at least 2 models (a spread needs two), got {top_k}")
    props = choose_properties(table, properties)
    if not props:
        raise UsageError("the variant table has none of the default properties (accuracy, latency_ms, size_bytes,"
                         " energy_mj, training_s): name some with --properties")
    hps = hyperparameter_columns(table)
    if not hps:
        raise UsageError("the variant table has no hyperparameter columns (hp.<name>): effects need the"
                         " hyperparameters of each trained model")
    table = with_recipes(table)
    tests: list[dict[str, object]] = []
    correlations: list[dict[str, object]] = []
    for key, group in analysis_groups(table):
        for variant, part in group.groupby(RECIPE, sort=True):
            where = {**key, "variant": str(variant)}
            for hp in hps:
                for prop in props:
                    tests += [{**where, **row} for row in level_tests(part, hp, prop, 1.0 - confidence)]
                    if levels(part[hp]).numeric:  # a category has no order to correlate with
                        correlations.append({**where, **correlation(part, hp, prop, confidence=confidence,
                                                                    draws=draws, seed=seed)})
    spread, changes, moves = top_k_spread(table, props, top_k), *rank_changes(
        table, props, confidence=confidence, draws=draws, seed=seed)
    return Effects(_frame(tests, TEST_COLUMNS), _frame(correlations, CORRELATION_COLUMNS), spread, changes, moves,
                   tuple(props), top_k, confidence, draws, seed)


TEST_COLUMNS = (*GROUP_COLUMNS, "variant", "hyperparameter", "level", "property", "n_level", "n_rest",
                "median_level", "median_rest", "u_statistic", "p_value", "p_holm", "cliffs_delta", "magnitude",
                "significant", "status", "reason")
CORRELATION_COLUMNS = (*GROUP_COLUMNS, "variant", "hyperparameter", "property", "n", "spearman_rho", "p_value",
                       "ci_low", "ci_high", "status", "reason")


def _frame(rows: list[dict[str, object]], columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns))


def level_tests(part: pd.DataFrame, hp: str, prop: str, alpha: float) -> list[dict[str, object]]:
    """Each level of `hp` against the other levels' rows, for `prop`; Holm over this hyperparameter's levels."""
    name = hp.removeprefix("hp.")
    values = usable_values(part, prop)
    lv = levels(part[hp])
    usable = values.notna() & lv.labels.notna()
    present = [level for level in lv.order if (usable & (lv.labels == level)).any()]
    base = {"hyperparameter": name, "property": prop}
    if len(present) < 2:
        why = (f"no row has both {name} and {prop}" if not present
               else f"{name} takes one level ({present[0]}) among the rows with {prop}: nothing to compare")
        return [{**base, "level": "", **not_checked(why)}]
    rows: list[dict[str, object]] = []
    for level in present:
        x = values[usable & (lv.labels == level)].to_numpy()
        y = values[usable & (lv.labels != level)].to_numpy()
        row: dict[str, object] = {**base, "level": level, "n_level": len(x), "n_rest": len(y),
                                  "median_level": float(np.median(x)), "median_rest": float(np.median(y))}
        if len(x) < MIN_ROWS_PER_SIDE or len(y) < MIN_ROWS_PER_SIDE:
            row.update(not_checked(f"{len(x)} rows at this level, {len(y)} in the rest: the test needs"
                                   f" at least {MIN_ROWS_PER_SIDE} on each side"))
        elif np.ptp(np.concatenate([x, y])) == 0.0:
            row.update(not_checked(f"{prop} is the same in every row: nothing to rank"))
        else:
            result = stats.mannwhitneyu(x, y, alternative="two-sided")
            delta = cliffs_delta_from_u(float(result.statistic), len(x), len(y))
            row.update({"u_statistic": float(result.statistic), "p_value": float(result.pvalue),
                        "cliffs_delta": delta, "magnitude": magnitude(delta), "status": "checked", "reason": ""})
        rows.append(row)
    adjusted = holm([float(r.get("p_value", np.nan)) for r in rows])  # type: ignore[arg-type]
    for row, p in zip(rows, adjusted):
        if row["status"] == "checked":
            row["p_holm"] = float(p)
            row["significant"] = bool(p < alpha)
    return rows


def correlation(part: pd.DataFrame, hp: str, prop: str, *, confidence: float, draws: int,
                seed: int) -> dict[str, object]:
    """Spearman rho of a numeric hyperparameter (its raw values, not bins) with the property; p exact by
    permutation for small n; CI on Fisher's z with the Bonett-Wright SE, shown from MIN_SPEARMAN_INTERVAL_ROWS
    rows (`draws` and `seed` are unused here: kept for the callers' signature)."""
    name = hp.removeprefix("hp.")
    row: dict[str, object] = {"hyperparameter": name, "property": prop}
    x = pd.to_numeric(part[hp], errors="coerce").astype(float)
    y = usable_values(part, prop)
    both = x.notna() & y.notna()
    xs, ys = x[both].to_numpy(), y[both].to_numpy()
    row["n"] = len(xs)
    if len(xs) < MIN_CORRELATION_ROWS or np.unique(xs).size < MIN_CORRELATION_VALUES:
        return {**row, **not_checked(f"{len(xs)} rows with {np.unique(xs).size} distinct {name} values: a"
                                     f" correlation needs {MIN_CORRELATION_ROWS} rows and {MIN_CORRELATION_VALUES}"
                                     " values")}
    if np.ptp(ys) == 0.0:
        return {**row, **not_checked(f"{prop} is the same in every row: no correlation to measure")}
    rho = float(stats.spearmanr(xs, ys).statistic)
    row.update({"spearman_rho": rho, "p_value": spearman_p(xs, ys)})
    too_few = too_few_for_interval(len(xs), MIN_SPEARMAN_INTERVAL_ROWS, confidence, "rows")
    if too_few:
        return {**row, **not_checked(too_few)}
    interval = spearman_interval(rho, len(xs), confidence)
    if interval is None:
        return {**row, **not_checked(f"rho = {rho:.0f}: the rows are perfectly monotone, and no resampling or"
                                     " normal approximation bounds a correlation at its limit")}
    return {**row, "ci_low": interval[0], "ci_high": interval[1], "status": "checked", "reason": ""}


def spearman_interval(rho: float, n: int, confidence: float) -> tuple[float, float] | None:
    """Fisher-z interval with the Bonett-Wright SE; None for |rho| = 1 (to rounding), where it would collapse."""
    if abs(rho) >= 1.0 - 1e-12:
        return None
    return fisher_z_interval(rho, spearman_standard_error(rho, n), confidence)


def spearman_standard_error(rho: float, n: int) -> float:
    """Bonett & Wright (2000): the SE of atanh(rho) for Spearman's rho, sqrt((1 + rho^2 / 2) / (n - 3))."""
    return float(np.sqrt((1.0 + rho * rho / 2.0) / (n - 3)))


def spearman_p(x: np.ndarray, y: np.ndarray) -> float:
    """Two-sided p: exact over all pairings for small n (scipy's t approximation claims e.g. 1e-24 for a
    perfect rank order of 5 rows, whose exact p is 2/120), else scipy.stats.spearmanr's."""
    exact = exact_permutation_p(x, y, spearman_rows)
    return exact if exact is not None else float(stats.spearmanr(x, y).pvalue)
