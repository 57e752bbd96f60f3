"""The study's comparison table for the terminal (the HTML report has the same rows and a plot)."""
from __future__ import annotations

from typing import Sequence

from edgebench.bench.table import fmt_bytes, fmt_us
from edgebench.study.run import VariantRow


def study_table(rows: Sequence[VariantRow]) -> str:
    header = ("model", "variant", "acc", "size", "gzip", "median", "energy/inf", "front", ".tflite")
    lines = [header]
    for r in rows:
        energy = "—" if r.energy_mj_per_inference is None else (
            f"{r.energy_mj_per_inference:.3g} mJ" + (" (sim)" if r.simulated else ""))
        lines.append((r.source, r.variant, "—" if r.test_accuracy is None else f"{r.test_accuracy:.3f}",
                      fmt_bytes(r.size_bytes), fmt_bytes(r.gzip_size_bytes), fmt_us(r.latency_median_us), energy,
                      "*" if r.non_dominated else "", (r.tflite_sha256 or "")[:12] or r.status))
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    left = {0, 1, 7, 8}
    out = ["  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()
           for row in lines]
    out.append("acc: LiteRT on this host, test split; median: latency median over the repeats' medians; "
               "front *: no other variant is both more accurate and faster; `edgebench results lineage ID` "
               "traces a .tflite to its training")
    return "\n".join(out)
