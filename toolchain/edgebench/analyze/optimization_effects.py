"""What optimization does to the tuned models (seed 1's RQ2), per device and run config:

- `top_k_spread`: among the k configurations best by accuracy, (max - min) / min of each property per
  variant (the seed's "LARD") and the accuracy band those k span;
- `rank_changes`: Kendall tau between the ranking of configurations (trained models) by a property under
  fp32 and under each other variant (exact permutation p for small n), with a bootstrap CI over
  configurations from 10 of them, and who moves most.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from edgebench.analyze.effect_size import (GROUP_COLUMNS, MAXIMIZED_PROPERTIES, RECIPE, analysis_groups,
                                           bootstrap_over_rows, exact_permutation_p, not_checked,
                                           too_few_for_interval, usable_values)
from edgebench.analyze.rank_statistics import kendall_tau_rows

BASE_VARIANT = "fp32"
MIN_RANKED_CONFIGURATIONS = 3
# The percentile bootstrap CI of tau holds 94-99 % coverage for a 95 % interval from 10 configurations and
# falls to 63-86 % below 8 (tests/analyze/test_interval_coverage.py); fewer get tau and an exact p only.
MIN_TAU_INTERVAL_CONFIGURATIONS = 10
TOP_MOVERS = 3

SPREAD_COLUMNS = (*GROUP_COLUMNS, "variant", "property", "k", "ranked_by", "accuracy_min", "accuracy_max",
                  "n", "min", "max", "spread", "max_over_min", "status", "reason")
CHANGE_COLUMNS = (*GROUP_COLUMNS, "variant", "property", "n", "kendall_tau", "p_value", "ci_low", "ci_high",
                  "top_movers", "status", "reason")
MOVE_COLUMNS = (*GROUP_COLUMNS, "variant", "property", "configuration", "trained_id", "value_fp32", "value_variant",
                "rank_fp32", "rank_variant", "rank_move")


def configuration_labels(configs: pd.DataFrame) -> dict[str, str]:
    """trained_id -> its study source ("trial 3") where known, else the trained_id itself."""
    sources = configs["source"] if "source" in configs.columns else pd.Series(None, index=configs.index)
    return {str(t): (s if isinstance(s, str) and s else str(t)) for t, s in zip(configs["trained_id"], sources)}


def _one_per_configuration(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per trained model (two study sources can train the same content-addressed model)."""
    if "trained_id" not in rows.columns:
        return pd.DataFrame(columns=[*rows.columns, "trained_id"])
    known = rows[rows["trained_id"].notna()]
    return known.drop_duplicates(subset="trained_id", keep="first").set_index("trained_id", drop=False)


def _variants(group: pd.DataFrame) -> list[str]:
    return sorted(group[RECIPE].astype(str).unique())


def _of_variant(group: pd.DataFrame, variant: str) -> pd.DataFrame:
    return group[group[RECIPE] == variant]


def top_k_spread(table: pd.DataFrame, properties: Sequence[str], top_k: int) -> pd.DataFrame:
    """Per device/config, variant and property: the spread among the top_k configurations by accuracy.

    The k are chosen by the fp32 accuracy of the same trained models when the variant's models have fp32
    rows (as the seed optimizes the best tuned models), else by the variant's own accuracy; ties by id."""
    rows: list[dict[str, object]] = []
    for key, group in analysis_groups(table):
        base_accuracy = (_one_per_configuration(_of_variant(group, BASE_VARIANT))["accuracy"]
                         if "accuracy" in group.columns else pd.Series(dtype=float))
        for variant in _variants(group):
            part = _of_variant(group, variant)
            where = {**key, "variant": variant}
            configs = _one_per_configuration(part)
            by_base = pd.to_numeric(configs["trained_id"].map(base_accuracy), errors="coerce")
            own = usable_values(part, "accuracy") if "accuracy" in part.columns else pd.Series(np.nan, part.index)
            if len(configs) and by_base.notna().all():
                chosen, ranked_by = configs.assign(_rank=by_base.to_numpy()), "fp32 accuracy"
            elif own.notna().any():
                chosen, ranked_by = part.assign(_rank=own), f"{variant} accuracy"
            else:
                rows += [{**where, "property": p, **not_checked("no accuracy to choose the top k by")}
                         for p in properties]
                continue
            chosen = chosen[chosen["_rank"].notna()]
            order = chosen.sort_values(["_rank", *(["id"] if "id" in chosen.columns else [])],
                                       ascending=[False, *([True] if "id" in chosen.columns else [])], kind="stable")
            best = order.head(top_k)
            own_accuracy = usable_values(best, "accuracy") if "accuracy" in best.columns else pd.Series(np.nan)
            band = {"k": len(best), "ranked_by": ranked_by, "accuracy_min": own_accuracy.min(),
                    "accuracy_max": own_accuracy.max()}
            for prop in properties:
                rows.append({**where, "property": prop, **band, **_spread(usable_values(best, prop).dropna(),
                                                                          len(best), top_k)})
    return pd.DataFrame(rows, columns=list(SPREAD_COLUMNS))


def _spread(values: pd.Series, k: int, top_k: int) -> dict[str, object]:
    out: dict[str, object] = {"n": len(values)}
    note = f"only {k} configurations, fewer than top-k {top_k}" if k < top_k else ""
    if len(values) < 2:
        return {**out, **not_checked(f"{len(values)} of the top {k} have this property: a spread needs 2")}
    low, high = float(values.min()), float(values.max())
    out.update({"min": low, "max": high})
    if low <= 0.0:
        return {**out, **not_checked(f"smallest value is {low:g}: a relative spread needs a positive minimum")}
    return {**out, "spread": (high - low) / low, "max_over_min": high / low, "status": "checked", "reason": note}


def _ranks(values: np.ndarray, prop: str) -> np.ndarray:
    """1 = best (largest for accuracy, smallest otherwise); ties share the best rank of their block."""
    return stats.rankdata(-values if prop in MAXIMIZED_PROPERTIES else values, method="min").astype(int)


def rank_changes(table: pd.DataFrame, properties: Sequence[str], *, confidence: float, draws: int,
                 seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    changes: list[dict[str, object]] = []
    moves: list[pd.DataFrame] = []
    for key, group in analysis_groups(table):
        base = _one_per_configuration(_of_variant(group, BASE_VARIANT))
        for variant in [v for v in _variants(group) if v != BASE_VARIANT]:
            other = _one_per_configuration(_of_variant(group, variant))
            for prop in properties:
                where = {**key, "variant": variant, "property": prop}
                if base.empty:
                    changes.append({**where, **not_checked(f"no {BASE_VARIANT} rows with a trained_id to rank against")})
                    continue
                a, b = usable_values(base, prop), usable_values(other, prop)
                common = [t for t in a.index if t in b.index and pd.notna(a[t]) and pd.notna(b[t])]
                change, moved = _rank_change(base, a, b, common, prop, confidence, draws, seed)
                changes.append({**where, **change})
                if moved is not None:
                    moves.append(moved.assign(**where))
    move_frame = (pd.concat(moves, ignore_index=True)[list(MOVE_COLUMNS)] if moves
                  else pd.DataFrame(columns=list(MOVE_COLUMNS)))
    return pd.DataFrame(changes, columns=list(CHANGE_COLUMNS)), move_frame


def _rank_change(base: pd.DataFrame, a: pd.Series, b: pd.Series, common: list[str], prop: str,
                 confidence: float, draws: int, seed: int) -> tuple[dict[str, object], pd.DataFrame | None]:
    n = len(common)
    if n < MIN_RANKED_CONFIGURATIONS:
        return {"n": n, **not_checked(f"{n} configurations measured under both: a rank agreement needs"
                                      f" {MIN_RANKED_CONFIGURATIONS}")}, None
    x, y = a[common].to_numpy(dtype=float), b[common].to_numpy(dtype=float)
    if np.ptp(x) == 0.0 or np.ptp(y) == 0.0:
        return {"n": n, **not_checked(f"{prop} is the same for every configuration under one of the two:"
                                      " no ranking to compare")}, None
    result = stats.kendalltau(x, y)  # tau-b (ties in either ranking are allowed)
    exact = exact_permutation_p(x, y, kendall_tau_rows)  # small n: all n! pairings, ties or not
    p_value = exact if exact is not None else float(result.pvalue)
    shown = tau_interval(x, y, confidence, draws, seed)
    rank_a, rank_b = _ranks(x, prop), _ranks(y, prop)
    labels = configuration_labels(base)
    moved = pd.DataFrame({"configuration": [labels[t] for t in common],
                          "trained_id": common, "value_fp32": x, "value_variant": y,
                          "rank_fp32": rank_a, "rank_variant": rank_b, "rank_move": rank_b - rank_a})
    order = moved.reindex(moved["rank_move"].abs().sort_values(ascending=False, kind="stable").index)
    top = [f"{r.configuration} ({r.rank_fp32}->{r.rank_variant})" for r in order.head(TOP_MOVERS).itertuples()
           if r.rank_move != 0]
    return {"n": n, "kendall_tau": float(result.statistic), "p_value": p_value, "top_movers": "; ".join(top),
            **shown}, moved


def tau_interval(x: np.ndarray, y: np.ndarray, confidence: float, draws: int, seed: int) -> dict[str, object]:
    """Percentile bootstrap CI of tau-b over configurations, from MIN_TAU_INTERVAL_CONFIGURATIONS; never one
    where every resample gives the same tau (a perfectly concordant sample stays so when resampled)."""
    n = len(x)
    too_few = too_few_for_interval(n, MIN_TAU_INTERVAL_CONFIGURATIONS, confidence)
    if too_few:
        return not_checked(too_few)
    interval = bootstrap_over_rows(n, lambda idx, axis=-1: kendall_tau_rows(x[idx], y[idx])[None, :], draws=draws,
                                   confidence=confidence, seed=seed, vectorized=True, elements_per_draw=n * n)
    if interval.constant[0]:
        return not_checked(f"every resample gives tau = {interval.low[0]:g}: the bootstrap cannot bound it")
    reason = (f"{interval.degenerate_draws} of {draws} resamples had a constant side and were left out of the CI"
              if interval.degenerate_draws else "")
    return {"ci_low": float(interval.low[0]), "ci_high": float(interval.high[0]), "status": "checked",
            "reason": reason}
