"""A battery session's result per model: its runs' energy summarised over the repeats (with the CI and
whether it is resolved), the worst outcome of every check, and the ODPM power-rail figure."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from edgebench import battery as eb
from edgebench.battery.rails import summarize_rails
from edgebench.battery.summary import EnergySummary
from edgebench.bench.plan import ModelFile
from edgebench.profiling.battery_run import BatteryRunResult
from edgebench.profiling.power_rails import RailsInfo


@dataclass(frozen=True)
class BatteryModelResult:
    model: str
    target: str
    run_ids: tuple[str, ...]
    energy_per_inference_mj: float | None
    ci_low_mj: float | None
    ci_high_mj: float | None
    idle_power_mw: float | None
    active_power_mw: float | None
    inferences: int
    valid: bool
    checks: dict[str, str]
    check_reasons: dict[str, str]
    device_kind: str
    energy_source: str
    trace_plots: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    # ODPM power rails (None/empty when the device has none; rails_reason says why)
    rails_available: bool = False
    rails_reason: str | None = None
    rail_soc_energy_per_inference_mj: float | None = None
    rail_soc_ci_low_mj: float | None = None
    rail_soc_ci_high_mj: float | None = None
    rail_soc_names: tuple[str, ...] = ()
    rail_energy_per_inference_mj: dict[str, float] = field(default_factory=dict)
    energy_summary: EnergySummary | None = None  # the CI's level, and whether the figure is resolved

    @property
    def simulated(self) -> bool:
        return self.energy_source != "measured" or self.device_kind in ("virtual", "emulator")

    def power_rails_json(self) -> dict[str, Any]:
        soc = None
        if self.rail_soc_energy_per_inference_mj is not None:
            soc = {"value": self.rail_soc_energy_per_inference_mj, "ci_low": self.rail_soc_ci_low_mj,
                   "ci_high": self.rail_soc_ci_high_mj}
        return {"available": self.rails_available, "reason": self.rails_reason, "source": "odpm",
                "soc_energy_per_inference_mj": soc, "soc_rails": list(self.rail_soc_names),
                "per_rail_energy_per_inference_mj": dict(self.rail_energy_per_inference_mj),
                "simulated": self.device_kind in ("virtual", "emulator")}

    def to_json(self) -> dict[str, Any]:
        from edgebench.battery.summary import headline_json

        return {"model": self.model, "target": self.target, "run_ids": list(self.run_ids),
                "energy_per_inference_mj": headline_json(self.energy_summary),
                "idle_power_mw": self.idle_power_mw, "active_power_mw": self.active_power_mw,
                "inferences": self.inferences, "valid": self.valid, "checks": self.checks,
                "check_reasons": self.check_reasons, "device_kind": self.device_kind,
                "energy_source": self.energy_source, "simulated": self.simulated,
                "trace_plots": list(self.trace_plots), "notes": list(self.notes),
                "power_rails": self.power_rails_json()}


@dataclass(frozen=True)
class ModelRails:
    """A model's ODPM power-rail figures over its valid runs (mJ per inference), or why there are none."""

    available: bool
    reason: str | None
    soc_energy_per_inference_mj: float | None = None
    soc_ci_low_mj: float | None = None
    soc_ci_high_mj: float | None = None
    soc_names: tuple[str, ...] = ()
    per_rail_energy_per_inference_mj: dict[str, float] = field(default_factory=dict)
    note: str | None = None  # for the model's notes


def summarize_model(model: ModelFile, runs: Sequence[BatteryRunResult], *, target: str, device_kind: str,
                    rails_info: RailsInfo | None, state_notes: Sequence[str]) -> BatteryModelResult:
    energies = [r.energy for r in runs if r.energy is not None and r.record.status == "ok"]
    checks: dict[str, str] = {}
    reasons: dict[str, str] = {}
    rank = {"fail": 2, "not_checked": 1, "pass": 0}
    for r in runs:
        for c in r.record.checks:
            if c.name not in checks or rank[c.outcome] > rank[checks[c.name]]:
                checks[c.name] = c.outcome
                if c.reason:
                    reasons[c.name] = c.reason
        if r.record.status == "failed":
            checks["run"] = "fail"
            reasons["run"] = r.record.error or "failed"
    summary = eb.summarize_repeats(energies) if energies else None
    notes = []
    if summary is not None and summary.high_cv:
        notes.append("CV of energy per inference across repeats > 10%: more repeats advised")
    if summary is not None and summary.note:
        notes.append(summary.note)
    notes.extend(state_notes)
    rails = summarize_model_rails(runs, rails_info)
    if rails.note:
        notes.append(f"power rails: {rails.note}")

    def mean(xs: list[float]) -> float | None:
        return sum(xs) / len(xs) if xs else None

    return BatteryModelResult(
        model=model.name, target=target, run_ids=tuple(r.run_id for r in runs),
        energy_per_inference_mj=summary.headline_mj if summary else None, energy_summary=summary,
        ci_low_mj=summary.ci_low_mj if summary else None, ci_high_mj=summary.ci_high_mj if summary else None,
        idle_power_mw=mean([e.idle_power_mw for e in energies]),
        active_power_mw=mean([e.active_power_mw for e in energies]),
        inferences=sum(e.inferences for e in energies),
        valid=bool(energies) and all(r.record.status == "ok" for r in runs),
        checks=checks, check_reasons=reasons, device_kind=device_kind,
        energy_source="simulated" if device_kind in ("virtual", "emulator") else "measured",
        trace_plots=tuple(r.plot for r in runs if r.plot), notes=tuple(notes),
        rails_available=rails.available, rails_reason=rails.reason,
        rail_soc_energy_per_inference_mj=rails.soc_energy_per_inference_mj,
        rail_soc_ci_low_mj=rails.soc_ci_low_mj, rail_soc_ci_high_mj=rails.soc_ci_high_mj,
        rail_soc_names=rails.soc_names, rail_energy_per_inference_mj=rails.per_rail_energy_per_inference_mj)


def summarize_model_rails(runs: Sequence[BatteryRunResult], info: RailsInfo | None) -> ModelRails:
    """SoC rail energy per inference over the valid runs."""
    if info is None or not info.available:
        return ModelRails(False, info.reason if info else "rails were not checked (the session stopped early)")
    sampled = [r.rails for r in runs if r.rails is not None and r.rails.available]
    if not sampled:
        reasons = sorted({r.rails.reason for r in runs if r.rails is not None and r.rails.reason})
        return ModelRails(False, "; ".join(reasons) or "no run finished, so no rail figures were computed")
    valid = [r.rails for r in runs if r.rails is not None and r.rails.available and r.record.status == "ok"]
    if not valid:
        return ModelRails(True, "no valid run: rail figures are only summarised over runs that passed every check")
    summary = summarize_rails(valid)
    soc_names = sorted({rail.name for run in valid for rail in run.rails if rail.soc})
    return ModelRails(True, None if summary.value_mj is not None else summary.note,
                      soc_energy_per_inference_mj=summary.value_mj, soc_ci_low_mj=summary.ci_low_mj,
                      soc_ci_high_mj=summary.ci_high_mj, soc_names=tuple(soc_names),
                      per_rail_energy_per_inference_mj=summary.per_rail_energy_per_inference_mj,
                      note=summary.note)
