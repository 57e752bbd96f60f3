"""One efficiency ranking over several devices (`edgebench pareto --across-devices`).

Each device has its own analysis (its own frontier, its own draws). A variant's per-device frontier
probability is taken from there (without samples: 1 when on that device's frontier, else 0), and its
**combined frontier probability is the mean over the devices** of those probabilities: the expected share
of the devices on which the variant is efficient. Chosen over the joint probability of being
non-dominated on every device at once because the joint needs a model of how measurement noise couples
across devices (it does not: devices are measured separately) and collapses towards 0 for every variant as
devices are added, so it stops ranking; the mean keeps its per-device parts visible and adds up from them.
A variant not analysed on every device (not measured there, or left out for a missing objective) gets no
combined value; `missing_on` names the devices. Rank: combined probability (highest first), ties by the
mean expected front (lowest first), as for one device.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from edgebench.analyze.frontier_probability import efficiency_ranks

if TYPE_CHECKING:
    from edgebench.analyze.variant_records import DeviceAnalysis

DEFINITION = ("combined_frontier_probability = mean over the devices of the per-device frontier probability"
              " (the expected share of devices on which the variant is non-dominated); only for variants"
              " analysed on every device")


def variant_label(row_id: str, device: str) -> str:
    """The id a variant has on every device: its row id without " on <device>"."""
    return row_id.replace(f" on {device}", "", 1)


def combine(analyses: Sequence[DeviceAnalysis]) -> pd.DataFrame:
    """Columns: variant, `frontier_probability[<device>]` per device, devices_analyzed, missing_on,
    combined_frontier_probability, mean_expected_front, efficiency_rank (NaN / None without every device)."""
    done = [a for a in analyses if a.analysis is not None and a.device is not None]
    probability: dict[str, dict[str, float]] = {}
    front: dict[str, dict[str, float]] = {}
    for a in done:
        assert a.analysis is not None and a.device is not None
        rows = a.analysis.rows
        p = (rows["frontier_probability"] if "frontier_probability" in rows else rows["on_frontier"].astype(float))
        f = rows["expected_front"] if "expected_front" in rows else rows["front"].astype(float)
        for row_id, p_value, f_value in zip(rows["id"], p, f):
            label = variant_label(str(row_id), a.device)
            probability.setdefault(label, {})[a.device] = float(p_value)
            front.setdefault(label, {})[a.device] = float(f_value)
    devices = [str(a.device) for a in done]
    labels = list(probability)
    out = pd.DataFrame({"variant": labels})
    for device in devices:
        out[f"frontier_probability[{device}]"] = [probability[v].get(device, np.nan) for v in labels]
    out["devices_analyzed"] = [len(probability[v]) for v in labels]
    out["missing_on"] = [", ".join(d for d in devices if d not in probability[v]) or None for v in labels]
    complete = out["devices_analyzed"].to_numpy() == len(devices)
    combined = np.array([np.mean(list(probability[v].values())) if c else np.nan for v, c in zip(labels, complete)])
    mean_front = np.array([np.mean(list(front[v].values())) if c else np.nan for v, c in zip(labels, complete)])
    out["combined_frontier_probability"] = combined
    out["mean_expected_front"] = mean_front
    ranks = np.full(len(labels), np.nan)
    if complete.any():
        ranks[complete] = efficiency_ranks(combined[complete], mean_front[complete])
    out["efficiency_rank"] = pd.array([None if np.isnan(r) else int(r) for r in ranks], dtype="Int64")
    return out
