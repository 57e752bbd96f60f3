"""The table printed after profile-battery: one row per model."""
from __future__ import annotations

from typing import Sequence

from rich.table import Table


def battery_table(results: Sequence, *, title: str) -> Table:  # type: ignore[type-arg]
    table = Table(title=title, title_justify="left")
    for name in ("model", "target", "energy / inference", "95% CI", "idle", "active", "inferences", "valid",
                 "source", "failed checks"):
        table.add_column(name, overflow="fold")
    for r in results:
        value = f"{r.energy_per_inference_mj:.4g} mJ" if r.energy_per_inference_mj is not None else "—"
        ci = (f"{r.ci_low_mj:.4g} – {r.ci_high_mj:.4g} mJ" if r.ci_low_mj is not None and r.ci_high_mj is not None
              else "— (fewer than 2 valid runs)")
        failed = "; ".join(f"{k}: {r.check_reasons.get(k, '')}" for k, v in r.checks.items() if v == "fail")
        table.add_row(r.model, r.target, value, ci,
                      f"{r.idle_power_mw:.4g} mW" if r.idle_power_mw is not None else "—",
                      f"{r.active_power_mw:.4g} mW" if r.active_power_mw is not None else "—",
                      str(r.inferences), "yes" if r.valid else "no",
                      r.energy_source + (" (simulated)" if r.simulated and r.energy_source == "measured" else ""),
                      failed, style=None if r.valid else "yellow")
    return table
