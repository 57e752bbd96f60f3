"""The report `study run` writes: its variant rows as a variant table, drawn by the analysis report
(report/analysis_html.py), so a study and `edgebench report` show the same page."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from edgebench.report.analysis_html import build_inputs, write_report

QUANTIZATIONS = ("fp32", "dynamic_range", "float16", "int8")


def split_recipe(variant: str) -> tuple[str, str]:
    """"prune:0.5+int8" -> ("prune:0.5", "int8"); "int8" -> ("", "int8"); "prune:0.5" -> ("prune:0.5", "fp32")."""
    parts = [p for p in variant.split("+") if p]
    quantization = next((p for p in parts if p in QUANTIZATIONS), "fp32")
    return "+".join(p for p in parts if p not in QUANTIZATIONS), quantization


def rows_table(rows: Sequence[Any], meta: Mapping[str, Any]) -> pd.DataFrame:
    """study/run.py's VariantRows in the variant table's columns (analyze/variant_table.py). A VariantRow
    keeps no raw samples: latency distributions and frontier probability need `edgebench report --study`."""
    protocol = str(meta.get("protocol") or "")
    records = []
    for r in rows:
        transform, quantization = split_recipe(r.variant)
        source = None if r.simulated is None else ("simulated" if r.simulated else "measured")
        records.append({
            "id": f"{r.source}/{r.variant}", "source": r.source, "trained_id": r.trained_id, "variant": r.variant,
            "transform": transform, "quantization": quantization, "tflite_sha256": r.tflite_sha256,
            **{f"hp.{k}": v for k, v in r.hyperparameters.items()},
            "device_model": str(meta.get("target") or ""), "config": f"cpu/{meta['threads']}t" if meta.get("threads")
            else "", "protocol": protocol, "status": r.status, "valid": None,
            "verdict_allowed": protocol not in ("smoke", ""),
            "accuracy": np.nan if r.test_accuracy is None else r.test_accuracy,
            "val_accuracy": np.nan if r.val_accuracy is None else r.val_accuracy,
            "latency_ms": np.nan if r.latency_median_us is None else r.latency_median_us / 1000.0,
            "energy_mj": np.nan if r.energy_mj_per_inference is None else r.energy_mj_per_inference,
            "size_bytes": np.nan if r.size_bytes is None else float(r.size_bytes),
            "gzip_size_bytes": np.nan if r.gzip_size_bytes is None else float(r.gzip_size_bytes),
            "latency_repeats_ms": [], "energy_samples_mj": [], "latency_source": source,
            "energy_source": (source or "none") if r.energy_mj_per_inference is not None else "none",
            "run_ids": list(r.run_ids),
        })
    return pd.DataFrame(records)


def write_study_report(rows: Sequence[Any], meta: Mapping[str, Any], path: Path) -> Path:
    table = rows_table(rows, meta)
    name = f"{meta.get('spec_name')} ({meta.get('budget')})"
    facts = {k: v for k, v in meta.items() if k in ("spec", "spec_hash", "target", "protocol", "session", "optuna_study",
                                                   "objectives")}
    inputs = build_inputs(table, title=f"Study {name}", meta=facts,
                          traces_note="not recorded: the study report shows no device traces; run `edgebench report"
                                      f" --session {meta.get('session')}` for them")
    return write_report(inputs, path)
