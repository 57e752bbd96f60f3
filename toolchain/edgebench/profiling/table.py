"""The table printed after profile-battery: one row per model.

The SoC rail column (ODPM: CPU, GPU, TPU/NPU rails, absolute) shows only when some device had
rails; the fuel-gauge column stays the whole-device, relative, same-device figure.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from rich.table import Table

if TYPE_CHECKING:
    from edgebench.profiling.results import BatteryModelResult


def _rails_cell(r: BatteryModelResult) -> str:
    if r.rail_soc_energy_per_inference_mj is None:
        return "—" if r.rails_available else "n/a"
    text = f"{r.rail_soc_energy_per_inference_mj:.4g} mJ"
    if r.rail_soc_ci_low_mj is not None and r.rail_soc_ci_high_mj is not None:
        text += f" ({r.rail_soc_ci_low_mj:.4g} – {r.rail_soc_ci_high_mj:.4g})"
    return text


def _energy_cells(r: BatteryModelResult) -> tuple[str, str]:
    """(energy / inference, CI (level)): 'unresolved' with what would resolve it when the CI reaches zero."""
    s = getattr(r, "energy_summary", None)
    resolution = s.resolution if s is not None else None
    if resolution is not None and not resolution.resolved:
        needs = [f"≥ {resolution.repeats_needed} repeats" if resolution.repeats_needed else "",
                 f"≥ {resolution.seconds_needed:.0f} s windows" if resolution.seconds_needed else ""]
        needs = [n for n in needs if n]
        value = "unresolved (CI includes 0)" + (f": {' or '.join(needs)}" if needs else ": not above idle")
    elif r.energy_per_inference_mj is not None:
        value = f"{r.energy_per_inference_mj:.4g} mJ"
    else:
        value = "—"
    if r.ci_low_mj is None or r.ci_high_mj is None:
        return value, "— (fewer than 2 valid runs, or no spread)"
    level = f" ({s.ci_level:.0%})" if s is not None and s.ci_level is not None else ""
    return value, f"{r.ci_low_mj:.4g} – {r.ci_high_mj:.4g} mJ{level}"


def battery_table(results: Sequence, *, title: str) -> Table:  # type: ignore[type-arg]
    table = Table(title=title, title_justify="left")
    rails = any(getattr(r, "rails_available", False) for r in results)
    columns = ["model", "target", "energy / inference", "CI across runs (level)"]
    if rails:
        columns.append("SoC rails / inference (95% CI)")
    columns += ["idle", "active", "inferences", "valid", "source", "failed checks"]
    for name in columns:
        table.add_column(name, overflow="fold")
    for r in results:
        value, ci = _energy_cells(r)
        failed = "; ".join(f"{k}: {r.check_reasons.get(k, '')}" for k, v in r.checks.items() if v == "fail")
        cells = [r.model, r.target, value, ci] + ([_rails_cell(r)] if rails else [])
        table.add_row(*cells,
                      f"{r.idle_power_mw:.4g} mW" if r.idle_power_mw is not None else "—",
                      f"{r.active_power_mw:.4g} mW" if r.active_power_mw is not None else "—",
                      str(r.inferences), "yes" if r.valid else "no",
                      r.energy_source + (" (simulated)" if r.simulated and r.energy_source == "measured" else ""),
                      failed, style=None if r.valid else "yellow")
    return table
