"""Hyperparameter sensitivity under pruning (the research's seed 2), one device and run config at a time.

    sensitivity(table, properties=None, seed=0) -> Sensitivity

Each pruned variant (transform `prune:*` / `prune_2_4`, any quantization) is paired with the unpruned
variant of the same quantization (`prune:0.5+int8` with `int8`, `prune:0.5` with `fp32`), over the trained
models measured under both, so the comparison isolates pruning. For each hyperparameter h and property,
the **profile** of a variant is the median of the property at each level of h (levels as in `effects`),
normalised to sum to 1 (its shape, free of the overall scale pruning changes). Distances between the base
and pruned profiles: Wasserstein-1 over the level positions 0..1 (numeric h only: a category has no order)
and Jensen-Shannon (base 2, 0..1) over the shared levels. **Influence** of h: Kruskal-Wallis epsilon squared
of the property over h's levels (H / (n - 1), rank-based, 0..1). CIs (from MIN_INTERVAL_CONFIGURATIONS models):
percentile bootstrap over configurations, base and pruned model of a configuration drawn together; for the
distances a one-sided upper bound [0, upper]. Exact definitions: README, "edgebench sensitivity".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon

from edgebench.analyze.effect_size import (GROUP_COLUMNS, RECIPE, analysis_groups, check_resampling, with_recipes,
                                           bootstrap_over_rows,
                                           choose_properties, hyperparameter_columns, json_records, levels,
                                           not_checked, too_few_for_interval, usable_values)
from edgebench.analyze.rank_statistics import (kruskal_h_rows, level_medians, pearson_rows, ranks,
                                               wasserstein_rows)
from edgebench.errors import UsageError

DEFAULT_DRAWS = 1000
MIN_CONFIGURATIONS = 4
# Intervals (change, trends, distance bounds) from this many trained models: below it the coverage of the
# bootstrap falls short in simulation (tests/analyze/test_interval_coverage.py; README has the figures).
MIN_INTERVAL_CONFIGURATIONS = 20
PAIR_COLUMNS = (*GROUP_COLUMNS, "variant", "base_variant", "pruning", "sparsity", "hyperparameter", "property")
DISTANCE_COLUMNS = (*PAIR_COLUMNS, "n_configurations", "n_levels", "wasserstein", "wasserstein_ci_low",
                    "wasserstein_ci_high", "jensen_shannon", "jensen_shannon_ci_low", "jensen_shannon_ci_high",
                    "status", "reason")
INFLUENCE_COLUMNS = (*PAIR_COLUMNS, "n_configurations", "influence_base", "influence_pruned", "change",
                     "change_ci_low", "change_ci_high", "rank_base", "rank_pruned", "trend_base", "trend_base_ci_low",
                     "trend_base_ci_high", "trend_pruned", "trend_pruned_ci_low", "trend_pruned_ci_high", "verdict", "status", "reason")
# statistic vector of one bootstrap draw
_W, _JS, _INF_BASE, _INF_PRUNED, _CHANGE, _TREND_BASE, _TREND_PRUNED = range(7)


@dataclass(frozen=True)
class Sensitivity:
    distances: pd.DataFrame
    influence_changes: pd.DataFrame
    properties: tuple[str, ...]
    confidence: float
    draws: int
    seed: int

    def to_json(self) -> dict[str, Any]:
        return {"properties": list(self.properties), "confidence": self.confidence, "draws": self.draws,
                "seed": self.seed, "distances": json_records(self.distances),
                "influence_changes": json_records(self.influence_changes)}


def is_pruned(transform: object) -> bool:
    return isinstance(transform, str) and transform.startswith("prune")


def sensitivity(table: pd.DataFrame, properties: Sequence[str] | str | None = None, seed: int = 0, *,
                confidence: float = 0.95, draws: int = DEFAULT_DRAWS) -> Sensitivity:
    missing = [c for c in ("transform", "quantization", "trained_id") if c not in table.columns]
    if missing:
        raise UsageError(f"the variant table lacks {', '.join(missing)}: sensitivity pairs pruned and unpruned"
                         " variants of the same trained model by these columns")
    check_resampling(confidence, seed, draws)
    if not table["transform"].map(is_pruned).any():
        raise UsageError("the variant table has no pruned variant (transform prune:S or prune_2_4): ask the study"
                         " for some, e.g. variants prune:0.5, prune:0.8, prune_2_4")
    props = choose_properties(table, properties)
    hps = hyperparameter_columns(table)
    if not props or not hps:
        raise UsageError("sensitivity needs hyperparameter columns (hp.<name>) and at least one property column"
                         f" with values; found hyperparameters {hps or 'none'}, properties {props or 'none'}")
    rows: list[dict[str, object]] = []
    for key, group in analysis_groups(with_recipes(table)):
        transform = group["transform"].fillna("").astype(str)
        for variant in sorted(group.loc[transform.map(is_pruned), RECIPE].unique()):
            pruned = group[group[RECIPE] == variant]
            quantization = str(pruned["quantization"].iloc[0])
            base = group[(transform == "") & (group["quantization"] == quantization)]
            pair = {**key, "variant": variant, "pruning": str(pruned["transform"].iloc[0]),
                    "sparsity": pruned["sparsity"].iloc[0] if "sparsity" in pruned.columns else np.nan,
                    "base_variant": quantization}
            for hp in hps:
                for prop in props:
                    where = {**pair, "hyperparameter": hp.removeprefix("hp."), "property": prop}
                    if base.empty:
                        rows.append({**where, **not_checked(f"no unpruned {quantization} variant to compare with")})
                    else:
                        rows.append({**where, **compare_profiles(base, pruned, hp, prop, confidence=confidence,
                                                                 draws=draws, seed=seed)})
    frame = pd.DataFrame(rows, columns=sorted(set(DISTANCE_COLUMNS) | set(INFLUENCE_COLUMNS)))
    frame = _influence_ranks(frame)
    return Sensitivity(frame[list(DISTANCE_COLUMNS)].reset_index(drop=True),
                       frame[list(INFLUENCE_COLUMNS)].reset_index(drop=True), tuple(props), confidence, draws, seed)


def _paired(base: pd.DataFrame, pruned: pd.DataFrame, prop: str) -> pd.DataFrame:
    """One row per trained model measured under both (first row of a repeated trained_id)."""
    def values(rows: pd.DataFrame) -> pd.Series:
        rows = rows[rows["trained_id"].notna()].drop_duplicates(subset="trained_id")
        return pd.Series(usable_values(rows, prop).to_numpy(), index=rows["trained_id"].to_numpy())
    both = pd.DataFrame({"base": values(base), "pruned": values(pruned)}).dropna()
    return both


def compare_profiles(base: pd.DataFrame, pruned: pd.DataFrame, hp: str, prop: str, *, confidence: float,
                     draws: int, seed: int) -> dict[str, object]:
    both = _paired(base, pruned, prop)
    hp_values = base[base["trained_id"].notna()].drop_duplicates(subset="trained_id").set_index("trained_id")[hp]
    lv = levels(hp_values)  # levels (and bins) over the trained models, shared by base and pruned
    codes_all = lv.labels.reindex(both.index)
    both = both[codes_all.notna()]
    n = len(both)
    out: dict[str, object] = {"n_configurations": n}
    if n < MIN_CONFIGURATIONS:
        return {**out, **not_checked(f"{n} trained models measured both unpruned and pruned: needs"
                                     f" {MIN_CONFIGURATIONS}")}
    position = {label: i for i, label in enumerate(lv.order)}
    codes = np.array([position[str(c)] for c in codes_all[both.index]])
    present = np.unique(codes)
    out["n_levels"] = int(present.size)
    if present.size < 2:
        return {**out, **not_checked(f"{hp.removeprefix('hp.')} takes one level among these models")}
    x, y = both["base"].to_numpy(), both["pruned"].to_numpy()
    constant = [name for name, v in (("unpruned", x), ("pruned", y)) if np.ptp(v) == 0.0]
    if constant:
        return {**out, **not_checked(f"{prop} is the same for every {' and '.join(constant)} model: no profile"
                                     " to compare")}
    if min(x.min(), y.min()) <= 0.0:
        return {**out, **not_checked(f"{prop} has a value <= 0: a profile needs positive values")}
    positions = np.arange(len(lv.order)) / max(len(lv.order) - 1, 1)  # levels spread over 0..1
    hp_numbers = pd.to_numeric(hp_values.reindex(both.index), errors="coerce").to_numpy(dtype=float)

    def statistic(idx: np.ndarray, axis: int = -1) -> np.ndarray:
        idx = np.atleast_2d(idx)
        return profile_statistics(codes[idx], x[idx], y[idx], hp_numbers[idx] if lv.numeric else None, positions)

    point = statistic(np.arange(n))[:, 0]
    out.update({"wasserstein": point[_W], "jensen_shannon": point[_JS], "influence_base": point[_INF_BASE],
                "influence_pruned": point[_INF_PRUNED], "change": point[_CHANGE], "trend_base": point[_TREND_BASE],
                "trend_pruned": point[_TREND_PRUNED]})
    notes = [] if lv.numeric else [f"{hp.removeprefix('hp.')} is categorical: no Wasserstein (levels have no order)"]
    too_few = too_few_for_interval(n, MIN_INTERVAL_CONFIGURATIONS, confidence, "trained models")
    if too_few:
        return {**out, "verdict": "not_checked", **not_checked("; ".join([*notes, too_few]))}
    interval = bootstrap_over_rows(n, statistic, draws=draws, confidence=confidence, seed=seed, vectorized=True)
    for name, index in (("change", _CHANGE), ("trend_base", _TREND_BASE), ("trend_pruned", _TREND_PRUNED),
                        ("wasserstein", _W), ("jensen_shannon", _JS)):
        if np.isfinite(point[index]) and interval.constant[index]:  # a constant resample is no interval
            notes.append(f"every resample gives {name} = {interval.low[index]:.3g}: no interval")
    for name, index in (("change", _CHANGE), ("trend_base", _TREND_BASE), ("trend_pruned", _TREND_PRUNED)):
        if np.isfinite(point[index]) and not interval.constant[index]:
            out.update({f"{name}_ci_low": interval.low[index], f"{name}_ci_high": interval.high[index]})
    for name, index in (("wasserstein", _W), ("jensen_shannon", _JS)):
        if np.isfinite(point[index]) and not interval.constant[index]:
            # one-sided: a distance is >= 0 and its estimate is biased upward, so a two-sided percentile
            # interval misses a true value near 0; [0, upper] reads "at most upper" at the stated level
            out.update({f"{name}_ci_low": 0.0, f"{name}_ci_high": interval.upper[index]})
    if interval.degenerate_draws:
        notes.append(f"{interval.degenerate_draws} of {draws} resamples had fewer than 2 levels or a constant"
                     " side and were left out of the CIs")
    out.update({"status": "checked", "reason": "; ".join(notes), "verdict": _verdict(out)})
    return out


def profile_statistics(codes: np.ndarray, base: np.ndarray, pruned: np.ndarray, hp_numbers: np.ndarray | None,
                       positions: np.ndarray) -> np.ndarray:
    """The 7 statistics (rows _W .. _TREND_PRUNED) of each resample (columns); inputs are (resamples x
    configurations). A resample with fewer than 2 levels present gets NaN throughout."""
    n_levels = len(positions)
    base_medians = level_medians(codes, base, n_levels)
    pruned_medians = level_medians(codes, pruned, n_levels)
    # profile: each level's median over the sum of the present levels' medians (absent levels weigh 0 in both)
    base_profile = np.nan_to_num(base_medians)
    pruned_profile = np.nan_to_num(pruned_medians)
    base_profile /= base_profile.sum(axis=-1, keepdims=True)
    pruned_profile /= pruned_profile.sum(axis=-1, keepdims=True)
    n = codes.shape[-1]
    out = np.full((7, codes.shape[0]), np.nan)
    base_ranks, pruned_ranks = ranks(base), ranks(pruned)
    if hp_numbers is not None:
        out[_W] = wasserstein_rows(positions, base_profile, pruned_profile)
        hp_ranks = ranks(hp_numbers)  # trend: Spearman rho = Pearson r of the ranks
        out[_TREND_BASE], out[_TREND_PRUNED] = pearson_rows(hp_ranks, base_ranks), pearson_rows(hp_ranks, pruned_ranks)
    out[_JS] = jensenshannon(base_profile, pruned_profile, base=2, axis=-1)
    # influence: Kruskal-Wallis epsilon squared H / (n - 1), the share of rank variance the levels explain
    out[_INF_BASE] = kruskal_h_rows(codes, base, n_levels, base_ranks) / (n - 1)
    out[_INF_PRUNED] = kruskal_h_rows(codes, pruned, n_levels, pruned_ranks) / (n - 1)
    out[_CHANGE] = out[_INF_PRUNED] - out[_INF_BASE]
    out[:, (~np.isnan(base_medians)).sum(axis=-1) < 2] = np.nan
    return out


def _verdict(row: dict[str, object]) -> str:
    """"reversed" when the trend's CI excludes 0 on opposite sides under base and pruned; else by the
    CI of the influence change."""
    def bounds(name: str) -> tuple[float, float]:
        return float(row.get(f"{name}_ci_low", np.nan)), float(row.get(f"{name}_ci_high", np.nan))  # type: ignore[arg-type]

    (base_low, base_high), (pruned_low, pruned_high) = bounds("trend_base"), bounds("trend_pruned")
    if (base_low > 0 and pruned_high < 0) or (base_high < 0 and pruned_low > 0):
        return "reversed"
    low, high = bounds("change")
    if not (np.isfinite(low) and np.isfinite(high)):
        return "not_checked"
    if low > 0:
        return "more influential"
    if high < 0:
        return "less influential"
    return "no detectable change"


def _influence_ranks(frame: pd.DataFrame) -> pd.DataFrame:
    """Rank of each hyperparameter's influence among the hyperparameters (1 = most influential),
    under base and under pruned, per device/config, pruned variant and property."""
    frame = frame.copy()
    keys = [*GROUP_COLUMNS, "variant", "property"]
    for column, rank in (("influence_base", "rank_base"), ("influence_pruned", "rank_pruned")):
        values = pd.to_numeric(frame[column], errors="coerce")
        ranks = values.groupby([frame[k] for k in keys], dropna=False).rank(ascending=False, method="min")
        frame[rank] = ranks.astype("Int64")
    return frame
