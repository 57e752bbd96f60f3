"""The policy's rule: which variant runs in a device state. Pure and stdlib-only (no pandas, numpy or
sklearn), so a virtual device, a harness tool or an app's test can import it.

    choose(policy, State(battery_pct=42, charging=False, thermal_status=2)) -> Choice

`policy` is the JSON document `edgebench policy export` writes (schema below, README "edgebench policy").
The rule, per state: among the variants that meet every constraint — p90 latency at the state's thermal
status within the latency budget, accuracy at or above the floor, energy per inference within the energy
budget — the most accurate (ties: the lower p90, then the name). When none meets them, the fallback: the
fastest variant (lowest p90 at that thermal status), with the reason each constraint failed.

Latency at a thermal status the variant was never measured at: the figure of the nearest status below
(throttling does not make a model faster, so it is a lower bound: if it misses the budget the variant
misses it), else of the nearest status above (an upper bound); the choice's `latency_basis` says which.
Energy budget: a fixed mJ per inference, or a battery life — keep `hours` of inference at `rate_hz` from
the state's battery band: share × capacity × band minimum % / (hours × 3600 × rate). While charging the
energy budget does not apply. The decision table in the JSON is this function evaluated at every band ×
charging × thermal status, so an app that looks a row up and `choose` always agree.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

SCHEMA_VERSION = 1
THERMAL_STATUSES = tuple(range(7))  # android.os.PowerManager THERMAL_STATUS_NONE (0) .. SHUTDOWN (6)
TOP_BAND_MAX_PCT = 101  # battery bands are [min, max); the top one ends above 100 so level 100 falls in it


@dataclass(frozen=True)
class State:
    """What the device reports now (battery level 0..100 %, charging, Android thermal status 0..6)."""
    battery_pct: float
    charging: bool
    thermal_status: int


@dataclass(frozen=True)
class Constraints:
    """The app's constraints; None = not constrained."""
    latency_budget_p90_ms: float | None = None
    accuracy_floor: float | None = None
    energy_budget_mj: float | None = None  # already resolved for the state (see energy_budget_mj)


@dataclass(frozen=True)
class Choice:
    sha256: str
    name: str
    met: bool  # False: no variant met the constraints; this is the fallback
    reason: str
    latency_p90_ms: float
    latency_basis: str  # "measured at thermal status 2", or how it was carried over from another status
    energy_mj: float | None
    accuracy: float
    energy_budget_mj: float | None


def battery_band(bands_pct: Sequence[float], battery_pct: float) -> tuple[float, float]:
    """The band [min, max) holding `battery_pct`, from the band edges (e.g. [15, 30, 50])."""
    if not 0 <= battery_pct <= 100 or math.isnan(battery_pct):
        raise ValueError(f"battery level must be 0..100 %, received {battery_pct}")
    edges = [0.0, *sorted(float(b) for b in bands_pct), float(TOP_BAND_MAX_PCT)]
    for low, high in zip(edges, edges[1:]):
        if low <= battery_pct < high:
            return low, high
    raise AssertionError("unreachable: the edges cover 0..100")


def energy_budget_mj(thresholds: Mapping[str, Any], state: State) -> float | None:
    """The state's energy budget per inference (mJ), or None when there is none (or the device charges)."""
    budget = thresholds.get("energy_budget")
    if not budget or (state.charging and thresholds.get("charging_lifts_energy_budget", True)):
        return None
    if budget["kind"] == "mj_per_inference":
        return float(budget["mj"])
    if budget["kind"] == "battery_life":
        low, _ = battery_band(thresholds.get("battery_bands_pct", []), state.battery_pct)
        available_mj = float(budget["battery_capacity_mj"]) * float(budget["inference_share"]) * low / 100.0
        return available_mj / (float(budget["hours"]) * 3600.0 * float(budget["rate_hz"]))
    raise ValueError(f"unknown energy budget kind {budget['kind']!r}: expected mj_per_inference or battery_life")


def latency_at(variant: Mapping[str, Any], thermal_status: int) -> tuple[float, float, str]:
    """(p50 ms, p90 ms, basis) of a variant at a thermal status, carried over when not measured there."""
    by_status = {int(k): v for k, v in variant["latency_by_thermal_status"].items()}
    if not by_status:
        raise ValueError(f"variant {variant['name']!r} has no latency figures")
    if thermal_status in by_status:
        figures, basis = by_status[thermal_status], f"measured at thermal status {thermal_status}"
    elif any(s < thermal_status for s in by_status):
        source = max(s for s in by_status if s < thermal_status)
        figures = by_status[source]
        basis = f"not measured at {thermal_status}: status {source}'s figure, a lower bound"
    else:
        source = min(by_status)
        figures = by_status[source]
        basis = f"not measured at {thermal_status}: status {source}'s figure, an upper bound"
    if not figures.get("thermal_status_recorded", True):
        basis += " (thermal status not recorded in the runs; taken as 0)"
    return float(figures["p50_ms"]), float(figures["p90_ms"]), basis


def _energy(variant: Mapping[str, Any]) -> float | None:
    energy = variant.get("energy_mj")
    return float(energy["median"]) if energy else None


def _misses(variant: Mapping[str, Any], p90_ms: float, limits: Constraints) -> list[str]:
    misses = []
    if limits.latency_budget_p90_ms is not None and p90_ms > limits.latency_budget_p90_ms:
        misses.append(f"p90 {p90_ms:.3g} ms > budget {limits.latency_budget_p90_ms:g} ms")
    if limits.accuracy_floor is not None and float(variant["accuracy"]) < limits.accuracy_floor:
        misses.append(f"accuracy {float(variant['accuracy']):.4g} < floor {limits.accuracy_floor:g}")
    if limits.energy_budget_mj is not None:
        energy = _energy(variant)
        if energy is None:
            misses.append("energy per inference not measured")
        elif energy > limits.energy_budget_mj:
            misses.append(f"energy {energy:.3g} mJ > budget {limits.energy_budget_mj:.3g} mJ")
    return misses


def decide(variants: Sequence[Mapping[str, Any]], thermal_status: int, limits: Constraints) -> Choice:
    """The rule (module docstring) over the policy's variants at one thermal status and set of limits."""
    if not variants:
        raise ValueError("the policy names no variants")
    if thermal_status not in THERMAL_STATUSES:
        raise ValueError(f"thermal status must be 0..6 (Android THERMAL_STATUS_*), received {thermal_status}")
    figures = {str(v["sha256"]): latency_at(v, thermal_status) for v in variants}
    misses = {str(v["sha256"]): _misses(v, figures[str(v["sha256"])][1], limits) for v in variants}
    meeting = [v for v in variants if not misses[str(v["sha256"])]]
    if meeting:
        pick = max(meeting, key=lambda v: (float(v["accuracy"]), -figures[str(v["sha256"])][1], str(v["name"])))
        met, reason = True, f"most accurate of {len(meeting)} variant(s) meeting the constraints"
    else:
        pick = min(variants, key=lambda v: (figures[str(v["sha256"])][1], str(v["name"])))
        detail = "; ".join(f"{v['name']}: {', '.join(misses[str(v['sha256'])])}" for v in variants)
        met, reason = False, f"fallback (fastest): no variant meets the constraints ({detail})"
    sha = str(pick["sha256"])
    return Choice(sha256=sha, name=str(pick["name"]), met=met, reason=reason, latency_p90_ms=figures[sha][1],
                  latency_basis=figures[sha][2], energy_mj=_energy(pick), accuracy=float(pick["accuracy"]),
                  energy_budget_mj=limits.energy_budget_mj)


def constraints_for(policy: Mapping[str, Any], state: State) -> Constraints:
    thresholds = policy["thresholds"]
    return Constraints(latency_budget_p90_ms=thresholds.get("latency_budget_p90_ms"),
                       accuracy_floor=thresholds.get("accuracy_floor"),
                       energy_budget_mj=energy_budget_mj(thresholds, state))


def choose(policy: Mapping[str, Any], state: State) -> Choice:
    """The variant the policy runs in `state` (the same answer as its decision table's row)."""
    if policy.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"policy schema version {policy.get('schema_version')!r} is not {SCHEMA_VERSION}:"
                         " export it again with this edgebench")
    return decide(policy["variants"], state.thermal_status, constraints_for(policy, state))


def table_row(policy: Mapping[str, Any], state: State) -> Mapping[str, Any]:
    """The decision-table row an app would look up for `state` (what the README's Kotlin does)."""
    level = state.battery_pct
    for row in policy["decision_table"]:
        if (row["charging"] == state.charging and row["thermal_status"] == state.thermal_status
                and row["battery_min_pct"] <= level < row["battery_max_pct"]):
            found: Mapping[str, Any] = row
            return found
    raise ValueError(f"the policy's decision table has no row for {state}")
