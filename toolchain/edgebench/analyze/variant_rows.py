"""Rows of the variant table: a model's facts from its lineage records, its runs summarized per device × config.

Kept apart from `variant_table` (which finds studies and sessions and names rows) so each does one job.
"""
from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field
from typing import Any, Sequence

from edgebench.protocols import PRESETS
from edgebench.records import RunRecord
from edgebench.store import ResultsStore

QUANTIZATIONS = ("fp32", "dynamic_range", "float16", "int8")
NAN = float("nan")


@dataclass(frozen=True)
class ModelFacts:
    """What is known of one .tflite (or one study row that never became one) before any run."""
    label: str
    source: str
    trained_id: str | None
    variant: str
    transform: str | None
    quantization: str | None
    sparsity: float
    tflite_sha256: str | None
    hyperparameters: dict[str, Any]
    accuracy: float
    accuracy_n: float
    val_accuracy: float
    size_bytes: float
    gzip_size_bytes: float
    training_s: float


@dataclass(frozen=True)
class LineageFacts:
    """What the results store's lineage records say of a converted artifact (NaN / None where they say nothing)."""
    variant: str | None = None
    trained_id: str | None = None
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    accuracy: float = NAN
    accuracy_n: float = NAN
    val_accuracy: float = NAN
    gzip_size_bytes: float = NAN
    training_s: float = NAN


def recipe_parts(variant: str) -> tuple[str, str, float]:
    """A canonical recipe name (optimize/recipes.py grammar) -> (transform or "", quantization, sparsity).

    "prune:0.5+int8" -> ("prune:0.5", "int8", 0.5); "qat" -> ("qat", "int8", nan); "prune_2_4" -> (.., "fp32", 0.5).
    """
    first, _, second = variant.partition("+")
    if first in QUANTIZATIONS or first.startswith("lq:"):  # lq:NAME: litert-quantizer on the fp32 .tflite
        transform, quantization = "", first
    else:
        transform, quantization = first, second or ("int8" if first == "qat" else "fp32")
    sparsity = NAN
    if transform == "prune_2_4":
        sparsity = 0.5  # 2 zeros in every 4 weights
    elif transform.startswith("prune:"):
        try:
            sparsity = float(transform.split(":", 1)[1])
        except ValueError:
            sparsity = NAN
    return transform, quantization, sparsity


def _record(store: ResultsStore, artifact_id: str | None, kind: str) -> dict[str, Any] | None:
    row = store.artifact(artifact_id) if artifact_id else None
    if row is None or row["kind"] != kind:
        return None
    record: dict[str, Any] = json.loads(row["record_json"])
    return record


def facts_from_lineage(store: ResultsStore, sha: str | None, variant: str | None) -> LineageFacts:
    """The converted record of `sha` and its ancestors. `variant` picks the lineage when the same bytes
    were made by several recipes (links converted_from carry the recipe); None = the record's own."""
    converted = _record(store, sha, "converted")
    if converted is None:
        return LineageFacts()
    name = variant or str(converted["variant"])
    parents = [link["parent_id"] for link in store.artifact_parents(str(sha))
               if link["relation"] == "converted_from" and link["detail"] == name]
    parent_id = parents[0] if parents else (converted["parent_id"] if converted["variant"] == name else None)
    transformed = _record(store, parent_id, "transformed")
    if transformed is None and _record(store, parent_id, "converted") is not None:
        parent_id = None  # an lq: variant's parent is the fp32 .tflite; its trained model is its trained_id
    trained_id = transformed["parent_id"] if transformed else (parent_id or converted.get("trained_id"))
    trained = _record(store, trained_id, "trained")
    finetune = _number(transformed.get("finetune_seconds")) if transformed else (0.0 if trained else NAN)
    train = _number(trained.get("train_seconds")) if trained else NAN
    return LineageFacts(
        variant=name, trained_id=trained_id, hyperparameters=dict(converted.get("hyperparameters") or {}),
        accuracy=_number(converted.get("test_accuracy")), accuracy_n=_number(converted.get("validation_samples")),
        val_accuracy=_number(trained.get("val_accuracy")) if trained else NAN,
        gzip_size_bytes=_number(converted.get("gzip_size_bytes")), training_s=train + finetune)


def measurement_rows(facts: ModelFacts, runs: Sequence[RunRecord], store: ResultsStore | None, *,
                     no_run_status: str) -> list[dict[str, Any]]:
    """One row per device × config the model ran on; one row without a device when it never ran."""
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for run in runs:
        groups.setdefault((run.device_id, run.config.label()), []).append(run)
    if not groups:
        return [_row(facts, [], {}, {}, {}, no_run_status)]
    run_ids = [r.run_id for r in runs]
    assert store is not None  # runs come from a store
    latencies = store.timed_latencies_us(run_ids)
    energy = store.energy_rows(run_ids)
    devices = store.devices(sorted({r.device_id for r in runs}))
    return [_row(facts, group, latencies, energy, devices, no_run_status) for group in groups.values()]


def _row(facts: ModelFacts, runs: list[RunRecord], latencies: dict[str, list[float]],
         energy: dict[str, dict[str, Any]], devices: dict[str, dict[str, Any]], no_run_status: str) -> dict[str, Any]:
    ok = [r for r in runs if r.status == "ok" and r.latency is not None]
    medians = [r.latency.median_us for r in ok if r.latency and r.latency.median_us is not None]
    p90s = [r.latency.p90_us for r in ok if r.latency and r.latency.p90_us is not None]
    energies = [(r.run_id, _number(energy[r.run_id]["energy_per_inference_mj"])) for r in ok if r.run_id in energy]
    energy_samples = [e for _, e in energies if math.isfinite(e)]
    protocols = sorted({r.protocol for r in runs})
    shortened = any(c.name == "shortened" and c.outcome == "fail" for r in runs for c in r.checks)
    if ok:
        status = "measured"
    elif any(r.status == "invalid" for r in runs):
        status = "invalid"
    else:
        status = no_run_status
    first = runs[0] if runs else None
    device = devices.get(first.device_id, {}) if first else {}
    peaks = [r.peak_rss_kb for r in ok if r.peak_rss_kb is not None]
    return {
        "label": facts.label, "source": facts.source, "trained_id": facts.trained_id, "variant": facts.variant,
        "transform": facts.transform, "quantization": facts.quantization, "sparsity": facts.sparsity,
        "tflite_sha256": facts.tflite_sha256, "hyperparameters": facts.hyperparameters,
        "device_id": first.device_id if first else None,
        "device_model": (device.get("model") or first.device_id) if first else None,
        "device_kind": first.provenance.device_kind if first else None,
        "config": first.config.label() if first else None,
        "protocol": "+".join(protocols) if protocols else None,
        "status": status,
        "valid": bool(runs) and all(r.status == "ok" for r in runs),
        "verdict_allowed": bool(runs) and all(p in PRESETS and PRESETS[p].verdicts for p in protocols) and not shortened,
        "repeats_ok": len(ok), "repeats_total": len(runs),
        "accuracy": facts.accuracy, "accuracy_n": facts.accuracy_n, "val_accuracy": facts.val_accuracy,
        "latency_ms": statistics.median(medians) / 1000.0 if medians else NAN,
        "latency_p90_ms": statistics.median(p90s) / 1000.0 if p90s else NAN,
        "energy_mj": statistics.median(energy_samples) if energy_samples else NAN,
        "size_bytes": facts.size_bytes, "gzip_size_bytes": facts.gzip_size_bytes,
        "peak_memory_kb": float(max(peaks)) if peaks else NAN,
        "training_s": facts.training_s,
        "latency_repeats_ms": [[v / 1000.0 for v in latencies[r.run_id]] for r in ok if latencies.get(r.run_id)],
        "energy_samples_mj": energy_samples,
        "latency_source": _latency_source(ok or runs) if runs else None,
        "energy_source": _energy_source([energy[i] for i, e in energies if math.isfinite(e)]),
        "run_ids": [r.run_id for r in runs],
    }


def _latency_source(runs: list[RunRecord]) -> str:
    """The least measured source among the runs: predicted, then simulated (virtual device, emulator)."""
    if any(r.provenance.latency_source == "predicted" for r in runs):
        return "predicted"
    if any(r.provenance.device_kind in ("virtual", "emulator") for r in runs):
        return "simulated"
    return "measured"


def _energy_source(rows: list[dict[str, Any]]) -> str:
    sources = {str(r["energy_source"]) for r in rows}
    for source in ("predicted", "simulated", "measured"):
        if source in sources:
            return source
    return "none"


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else NAN
