"""Replay a trace under a policy and under two baselines (always the most accurate; always the fastest, which
is `decide.fastest`, the fallback's definition: the lowest p90 at each span's thermal status).

Each trace point holds its state until the next point; over that span `rate_hz` × seconds inferences run on
the chosen variant. Energy = Σ inferences × the variant's energy per inference (its median): a prediction
from per-inference figures, never a measurement of the trace, and marked so with the figures' own source
(measured on a phone's battery, or simulated on a virtual device). A variant without an energy figure makes
the total unknown (None), never zero. Latency: `latency_p90_ms` is the 90th percentile, over inferences, of
the p90 of the variant running at the state's thermal status (90 % of the inferences ran on a variant
whose p90 was at or below it); accuracy: the inference-weighted mean of the variants' test accuracy.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from edgebench.errors import UsageError
from edgebench.policy.decide import State, choose, fastest, latency_at
from edgebench.policy.trace import Trace


@dataclass(frozen=True)
class Span:
    start_s: float
    end_s: float
    state: State
    variant: str  # name
    inferences: float
    latency_p90_ms: float
    energy_mj: float | None  # of this span; None when the variant has no energy figure
    cumulative_energy_mj: float | None


@dataclass(frozen=True)
class StrategyResult:
    strategy: str  # policy | most_accurate | fastest
    label: str
    energy_mj: float | None
    energy_basis: str
    inferences: float
    latency_p90_ms: float
    worst_latency_p90_ms: float
    mean_accuracy: float
    switches: int
    time_by_variant_s: dict[str, float]
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class Simulation:
    rate_hz: float
    duration_s: float
    trace_source: str
    trace_notes: tuple[str, ...]
    results: tuple[StrategyResult, ...]

    def result(self, strategy: str) -> StrategyResult:
        return next(r for r in self.results if r.strategy == strategy)


def weighted_percentile(values: Sequence[float], weights: Sequence[float], q: float) -> float:
    """The smallest value whose cumulative weight reaches q of the total (the inverse weighted CDF)."""
    pairs = sorted((v, w) for v, w in zip(values, weights) if w > 0)
    if not pairs:
        return float("nan")
    total, running = sum(w for _, w in pairs), 0.0
    for value, weight in pairs:
        running += weight
        if running >= q * total - 1e-12:
            return value
    return pairs[-1][0]


def _energy_basis(variants: Sequence[Mapping[str, Any]]) -> str:
    missing = sorted({str(v["name"]) for v in variants if not v.get("energy_mj")})
    if missing:
        return (f"not known: no energy per inference for {', '.join(missing[:3])}"
                f"{f' and {len(missing) - 3} more' if len(missing) > 3 else ''} (measure it with profile-battery)")
    sources = sorted({str(v["energy_mj"]["source"]) for v in variants})
    return ("predicted: energy per inference (" + ", ".join(sources) + ") × inferences at the"
            " trace's rate; not a measurement of this trace")


def _pick(policy: Mapping[str, Any], strategy: str, state: State) -> str:
    if strategy == "policy":
        return choose(policy, state).name
    if strategy == "fastest":
        return str(fastest(policy["variants"], state.thermal_status)["name"])
    return str(max(policy["variants"], key=lambda v: (float(v["accuracy"]), str(v["name"])))["name"])


def _replay(policy: Mapping[str, Any], trace: Trace, rate_hz: float, strategy: str) -> StrategyResult:
    variants = {str(v["name"]): v for v in policy["variants"]}
    spans: list[Span] = []
    cumulative: float | None = 0.0
    for point, following in zip(trace.points, trace.points[1:]):
        state = State(point.battery_pct, point.charging, point.thermal_status)
        name = _pick(policy, strategy, state)
        variant = variants[name]
        inferences = rate_hz * (following.time_s - point.time_s)
        energy_per = variant["energy_mj"]["median"] if variant.get("energy_mj") else None
        energy = None if energy_per is None else float(energy_per) * inferences
        cumulative = None if cumulative is None or energy is None else cumulative + energy
        spans.append(Span(point.time_s, following.time_s, state, name, inferences,
                          latency_at(variant, state.thermal_status)[1], energy, cumulative))
    weights = [s.inferences for s in spans]
    total = sum(weights)
    used = [variants[s.variant] for s in spans]
    time_by_variant: dict[str, float] = {}
    for span in spans:
        time_by_variant[span.variant] = time_by_variant.get(span.variant, 0.0) + span.end_s - span.start_s
    return StrategyResult(
        strategy=strategy, label=_label(strategy, list(time_by_variant)), energy_mj=cumulative, energy_basis=_energy_basis(used), inferences=total,
        latency_p90_ms=weighted_percentile([s.latency_p90_ms for s in spans], weights, 0.9),
        worst_latency_p90_ms=max((s.latency_p90_ms for s in spans if s.inferences > 0), default=float("nan")),
        mean_accuracy=sum(float(variants[s.variant]["accuracy"]) * s.inferences for s in spans) / total if total else float("nan"),
        switches=sum(1 for a, b in zip(spans, spans[1:]) if a.variant != b.variant),
        time_by_variant_s=time_by_variant, spans=tuple(spans))


def _label(strategy: str, used: list[str]) -> str:
    if strategy == "policy":
        return "policy"
    if strategy == "most_accurate":
        return f"always most accurate ({', '.join(used)})"
    if len(used) == 1:
        return f"always fastest ({used[0]})"
    return f"always fastest (lowest p90 at each thermal status: {', '.join(used)})"


def simulate(policy: Mapping[str, Any], trace: Trace, rate_hz: float) -> Simulation:
    if not rate_hz > 0:
        raise UsageError(f"--rate must be > 0 inferences per second, received {rate_hz}")
    if len(trace.points) < 2:
        raise UsageError(f"{trace.source}: a trace needs at least two points (a start and an end)")
    results = tuple(_replay(policy, trace, rate_hz, strategy) for strategy in ("policy", "most_accurate", "fastest"))
    return Simulation(rate_hz, trace.points[-1].time_s - trace.points[0].time_s, trace.source, trace.notes, results)


def simulation_json(sim: Simulation) -> dict[str, Any]:
    def strategy(r: StrategyResult) -> dict[str, Any]:
        return {"strategy": r.strategy, "label": r.label, "energy_mj": r.energy_mj, "energy_basis": r.energy_basis,
                "inferences": r.inferences, "latency_p90_ms": r.latency_p90_ms,
                "worst_latency_p90_ms": r.worst_latency_p90_ms, "mean_accuracy": r.mean_accuracy,
                "switches": r.switches, "time_by_variant_s": r.time_by_variant_s,
                "timeline": [{"start_s": s.start_s, "end_s": s.end_s, "battery_pct": s.state.battery_pct,
                              "charging": s.state.charging, "thermal_status": s.state.thermal_status,
                              "variant": s.variant, "energy_mj": s.energy_mj,
                              "cumulative_energy_mj": s.cumulative_energy_mj} for s in r.spans]}
    return {"rate_hz": sim.rate_hz, "duration_s": sim.duration_s, "trace": sim.trace_source,
            "trace_notes": list(sim.trace_notes), "energy_is": "predicted", "results": [strategy(r) for r in sim.results]}
