"""The timeline of a simulation: the state (battery, charging, thermal status), the variant the policy
ran, and the cumulative predicted energy of the policy and the two baselines."""
from __future__ import annotations

import os
from typing import Any

from edgebench.policy.simulate import Simulation


def plot_timeline(sim: Simulation, path: str | os.PathLike[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on CI or over ssh
    import matplotlib.pyplot as plt

    policy = sim.result("policy")
    spans = policy.spans
    names = list(dict.fromkeys(s.variant for s in spans))
    figure, (state_ax, variant_ax, energy_ax) = plt.subplots(3, 1, figsize=(10, 7), sharex=True,
                                                            gridspec_kw={"height_ratios": [2, 1, 2]})
    minutes = [s.start_s / 60 for s in spans] + [spans[-1].end_s / 60]

    def steps(values: list[Any]) -> list[Any]:
        return values + values[-1:]

    state_ax.step(minutes, steps([s.state.battery_pct for s in spans]), where="post", label="battery %")
    state_ax.set_ylabel("battery %")
    state_ax.set_ylim(0, 100)
    for s in spans:
        if s.state.charging:
            state_ax.axvspan(s.start_s / 60, s.end_s / 60, color="tab:green", alpha=0.15, lw=0)
    thermal_ax = state_ax.twinx()
    thermal_ax.step(minutes, steps([s.state.thermal_status for s in spans]), where="post", color="tab:red",
                    label="thermal status")
    thermal_ax.set_ylim(-0.2, 6.2)
    thermal_ax.set_ylabel("thermal status (red)")
    state_ax.set_title("state (green: charging)")
    variant_ax.step(minutes, steps([names.index(s.variant) for s in spans]), where="post", color="tab:purple")
    variant_ax.set_yticks(range(len(names)), names)
    variant_ax.set_title("variant the policy runs")
    for result in sim.results:
        points = [0.0] + [s.cumulative_energy_mj for s in result.spans]
        if None in points:
            continue  # a variant without an energy figure: no line rather than a made-up one
        energy_ax.plot(minutes, [p / 1000.0 for p in points if p is not None], label=result.label)
    if not energy_ax.lines:
        energy_ax.text(0.5, 0.5, "energy not known: a variant run has no energy per inference (profile-battery)",
                       ha="center", va="center", transform=energy_ax.transAxes)
    else:
        energy_ax.legend(loc="upper left", fontsize="small")
    energy_ax.set_ylabel("energy (J, predicted)")
    energy_ax.set_xlabel("time (min)")
    energy_ax.set_title(f"cumulative energy at {sim.rate_hz:g} inferences/s — predicted from energy per inference")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
