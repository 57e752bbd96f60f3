"""The policy's rule: which variant runs in a device state. Pure and stdlib-only (no pandas, numpy or
sklearn), so a virtual device, a harness tool or an app's test can import it.

    choose(policy, State(battery_pct=42, charging=False, thermal_status=2)) -> Choice

`policy` is the JSON document `edgebench policy export` writes (schema below, README "edgebench policy").
The rule, per state: among the variants known to meet every constraint — p90 latency at the state's
thermal status within the latency budget, accuracy at or above the floor, energy per inference within the
energy budget — the most accurate (ties: the lower p90, then the name); `outcome` "met". Otherwise, in order:
1. "not_checked": some variants miss no constraint but their latency at this status is not known (below):
   the fastest of them (lowest p90 figure), `met` false, the reason says what is not known;
2. "fallback", `met` false, the reason lists what each variant missed: when an energy budget is among the
   constraints missed, the lowest-energy variant (the budget guards the battery life the app asked for;
   variants without an energy figure rank last); else the fastest (lowest p90 at that status).

Latency at a thermal status the variant was never measured at is only bounded: throttling does not make a
model faster, so a lower status's p90 is a lower bound (above the budget: a miss; within it: not known) and a
higher status's p90 an upper bound (within the budget: met; above it: not known). A check that could not be
evaluated never passes. `latency_at` gives the figure shown (the nearest lower status's, else the nearest
higher one's) and its `latency_basis`.
Energy budget: a fixed mJ per inference, or a battery life — keep `hours` of inference at `rate_hz` from the
state's battery band: share × capacity × band level % / (hours × 3600 × rate), the band level being its middle
((min + max) / 2, max capped at 100; schema 1 documents used the band's minimum, 0 % in the lowest band, a
budget nothing meets). While charging the energy budget does not apply. The decision table in the JSON is
this function evaluated at every band × charging × thermal status, so an app that looks a row up and `choose`
always agree.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

SCHEMA_VERSION = 2  # 2: battery-life budgets from the band's middle ("band_level"), rows carry "outcome"
READABLE_SCHEMA_VERSIONS = (1, 2)
THERMAL_STATUSES = tuple(range(7))  # android.os.PowerManager THERMAL_STATUS_NONE (0) .. SHUTDOWN (6)
TOP_BAND_MAX_PCT = 101  # battery bands are [min, max); the top one ends above 100 so level 100 falls in it
ENERGY_NOT_MEASURED = "energy per inference not measured"


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
    met: bool  # True only when the variant is known to meet every constraint (outcome "met")
    reason: str
    latency_p90_ms: float
    latency_basis: str  # "measured at thermal status 2", or how it was carried over from another status
    energy_mj: float | None
    accuracy: float
    energy_budget_mj: float | None
    outcome: str  # met | not_checked (latency there not known) | fallback (see the module docstring)


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
        low, high = battery_band(thresholds.get("battery_bands_pct", []), state.battery_pct)
        level = budget_level_pct(budget, low, high)
        available_mj = float(budget["battery_capacity_mj"]) * float(budget["inference_share"]) * level / 100.0
        return available_mj / (float(budget["hours"]) * 3600.0 * float(budget["rate_hz"]))
    raise ValueError(f"unknown energy budget kind {budget['kind']!r}: expected mj_per_inference or battery_life")


def budget_level_pct(budget: Mapping[str, Any], low: float, high: float) -> float:
    """The battery level a band's battery-life budget is computed from: its middle (schema 2), or its minimum
    for a document without "band_level" (schema 1)."""
    level = budget.get("band_level", "min")
    if level == "middle":
        return (low + min(high, 100.0)) / 2.0
    if level == "min":
        return low
    raise ValueError(f"unknown battery band level {level!r}: expected middle or min")


def latency_at(variant: Mapping[str, Any], thermal_status: int) -> tuple[float, float, str]:
    """(p50 ms, p90 ms, basis) of a variant at a thermal status, carried over when not measured there: the
    nearest lower status's figure (a lower bound), else the nearest higher one's (an upper bound)."""
    by_status = _by_status(variant)
    lower, upper = _nearest(by_status, thermal_status)
    if thermal_status in by_status:
        source, basis = thermal_status, f"measured at thermal status {thermal_status}"
    elif lower is not None:
        source, basis = lower, f"not measured at {thermal_status}: status {lower}'s figure, a lower bound"
        if upper is not None:
            basis += f" (status {upper}'s {float(by_status[upper]['p90_ms']):.3g} ms is an upper bound)"
    else:
        assert upper is not None  # by_status is not empty
        source, basis = upper, f"not measured at {thermal_status}: status {upper}'s figure, an upper bound"
    figures = by_status[source]
    if not figures.get("thermal_status_recorded", True):
        basis += " (thermal status not recorded in the runs; taken as 0)"
    return float(figures["p50_ms"]), float(figures["p90_ms"]), basis


def _by_status(variant: Mapping[str, Any]) -> dict[int, Mapping[str, Any]]:
    by_status = {int(k): v for k, v in variant["latency_by_thermal_status"].items()}
    if not by_status:
        raise ValueError(f"variant {variant['name']!r} has no latency figures")
    return by_status


def _nearest(by_status: Mapping[int, Any], thermal_status: int) -> tuple[int | None, int | None]:
    """The nearest measured status below `thermal_status` and the nearest above it (None: there is none)."""
    return (max((s for s in by_status if s < thermal_status), default=None),
            min((s for s in by_status if s > thermal_status), default=None))


def _latency_check(variant: Mapping[str, Any], thermal_status: int, budget_ms: float) -> tuple[str, str]:
    """("met" | "missed" | "not_known", why) for the p90 budget at a status. Throttling does not make a model
    faster, so a cooler status's p90 is a lower bound (it can show a miss, never a meet) and a hotter
    status's an upper bound (it can show a meet, never a miss); a bound on the wrong side is not known."""
    by_status = _by_status(variant)
    if thermal_status in by_status:
        p90 = float(by_status[thermal_status]["p90_ms"])
        return ("missed", f"p90 {p90:.3g} ms > budget {budget_ms:g} ms") if p90 > budget_ms else ("met", "")
    lower, upper = _nearest(by_status, thermal_status)
    if lower is not None and float(by_status[lower]["p90_ms"]) > budget_ms:
        return "missed", (f"p90 at least {float(by_status[lower]['p90_ms']):.3g} ms (status {lower}'s figure)"
                          f" > budget {budget_ms:g} ms")
    if upper is not None and float(by_status[upper]["p90_ms"]) <= budget_ms:
        return "met", ""
    bounds = [f"at least {float(by_status[lower]['p90_ms']):.3g} ms (status {lower})" if lower is not None else "",
              f"at most {float(by_status[upper]['p90_ms']):.3g} ms (status {upper})" if upper is not None else ""]
    return "not_known", (f"p90 at thermal status {thermal_status} not known (never measured there; "
                         f"{', '.join(b for b in bounds if b)}) against budget {budget_ms:g} ms")


def _energy(variant: Mapping[str, Any]) -> float | None:
    energy = variant.get("energy_mj")
    return float(energy["median"]) if energy else None


def _assess(variant: Mapping[str, Any], thermal_status: int, limits: Constraints) -> tuple[list[str], list[str]]:
    """(constraints the variant is known to miss, constraints that could not be evaluated), each with its why."""
    misses: list[str] = []
    unknown: list[str] = []
    if limits.latency_budget_p90_ms is not None:
        outcome, why = _latency_check(variant, thermal_status, limits.latency_budget_p90_ms)
        (misses if outcome == "missed" else unknown if outcome == "not_known" else []).append(why)
    if limits.accuracy_floor is not None and float(variant["accuracy"]) < limits.accuracy_floor:
        misses.append(f"accuracy {float(variant['accuracy']):.4g} < floor {limits.accuracy_floor:g}")
    if limits.energy_budget_mj is not None:
        energy = _energy(variant)
        if energy is None:
            misses.append(ENERGY_NOT_MEASURED)
        elif energy > limits.energy_budget_mj:
            misses.append(f"energy {energy:.3g} mJ > budget {limits.energy_budget_mj:.3g} mJ")
    return misses, unknown


def fastest(variants: Sequence[Mapping[str, Any]], thermal_status: int) -> Mapping[str, Any]:
    """The variant with the lowest p90 at `thermal_status` (latency_at's figure; ties: the name): the fallback's
    and `policy simulate`'s "always fastest" one definition."""
    return min(variants, key=lambda v: (latency_at(v, thermal_status)[1], str(v["name"])))


def _lowest_energy(variants: Sequence[Mapping[str, Any]], thermal_status: int) -> Mapping[str, Any] | None:
    """The variant with the lowest energy per inference (ties: the lower p90, the name); None if none has one."""
    known = [v for v in variants if _energy(v) is not None]
    return min(known, key=lambda v: (_energy(v), latency_at(v, thermal_status)[1], str(v["name"]))) if known else None


def decide(variants: Sequence[Mapping[str, Any]], thermal_status: int, limits: Constraints) -> Choice:
    """The rule (module docstring) over the policy's variants at one thermal status and set of limits."""
    if not variants:
        raise ValueError("the policy names no variants")
    if thermal_status not in THERMAL_STATUSES:
        raise ValueError(f"thermal status must be 0..6 (Android THERMAL_STATUS_*), received {thermal_status}")
    assessed = {str(v["sha256"]): _assess(v, thermal_status, limits) for v in variants}
    meeting = [v for v in variants if assessed[str(v["sha256"])] == ([], [])]
    open_ = [v for v in variants if not assessed[str(v["sha256"])][0] and assessed[str(v["sha256"])][1]]
    detail = "; ".join(f"{v['name']}: {', '.join(sum(assessed[str(v['sha256'])], []))}"
                       for v in variants if v not in meeting)
    if meeting:
        pick = max(meeting, key=lambda v: (float(v["accuracy"]), -latency_at(v, thermal_status)[1], str(v["name"])))
        outcome, reason = "met", f"most accurate of {len(meeting)} variant(s) meeting the constraints"
    elif open_:
        pick = fastest(open_, thermal_status)
        outcome, reason = "not_checked", ("not_checked (fastest of those not known to miss): no variant is known to"
                                          f" meet the constraints ({detail})")
    else:
        energy_missed = any(m.startswith("energy ") for misses, _ in assessed.values() for m in misses)
        lowest = _lowest_energy(variants, thermal_status) if energy_missed else None
        pick, how = (lowest, "lowest energy") if lowest is not None else (fastest(variants, thermal_status), "fastest")
        outcome, reason = "fallback", f"fallback ({how}): no variant meets the constraints ({detail})"
    sha = str(pick["sha256"])
    _, p90_ms, basis = latency_at(pick, thermal_status)
    return Choice(sha256=sha, name=str(pick["name"]), met=outcome == "met", reason=reason, latency_p90_ms=p90_ms,
                  latency_basis=basis, energy_mj=_energy(pick), accuracy=float(pick["accuracy"]),
                  energy_budget_mj=limits.energy_budget_mj, outcome=outcome)


def constraints_for(policy: Mapping[str, Any], state: State) -> Constraints:
    thresholds = policy["thresholds"]
    return Constraints(latency_budget_p90_ms=thresholds.get("latency_budget_p90_ms"),
                       accuracy_floor=thresholds.get("accuracy_floor"),
                       energy_budget_mj=energy_budget_mj(thresholds, state))


def choose(policy: Mapping[str, Any], state: State) -> Choice:
    """The variant the policy runs in `state` (the same answer as its decision table's row)."""
    if policy.get("schema_version") not in READABLE_SCHEMA_VERSIONS:
        raise ValueError(f"policy schema version {policy.get('schema_version')!r} is not one of"
                         f" {', '.join(map(str, READABLE_SCHEMA_VERSIONS))}: export it again with this edgebench")
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
