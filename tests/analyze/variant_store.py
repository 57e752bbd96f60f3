"""A workspace made here through the real store API: a results store with lineage records, runs with raw
latency samples and energy on two devices, and the study.json `edgebench study run` would write for it.
No model is trained: the artifact records are written the way `edgebench.lineage.record_lineage` stores them.

Models (all made-up numbers, listed here so tests can check them by hand):
    A  default/fp32            trained T (train 100 s), 1000 test examples, accuracy 0.91, gzip 900 B
    B  default/prune:0.5+int8  T -> pruned P (fine-tune 20 s), accuracy 0.88
    C  trial 3/fp32            trained U (train 50 s, filters 8), accuracy 0.80
    default/float16            failed to build
    trial 4                    a tuning trial that failed before training a model (no variant)
Runs (session "s1"):
    pixel (phone, standard):  A 3 ok repeats (medians 10, 12, 11 ms; energy 2.0, 2.4, 2.2 mJ),
                              B 2 ok (4, 5 ms) + 1 invalid, C 2 ok (20, 21 ms)
    virt (virtual, smoke):    A 1 ok (30 ms), B 1 ok (9 ms), C 1 failed
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebench.records import Check, EnergyResult, Provenance, RunConfig, RunRecord
from edgebench.stats import latency_stats
from edgebench.store import LatencySample, ResultsStore

SHA = {"A": "a" * 64, "B": "b" * 64, "C": "c" * 64}
TRAINED, PRUNED, TRAINED_U = "1" * 64, "2" * 64, "3" * 64


@dataclass(frozen=True)
class _Json:
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return self.data


def _energy(mj: float) -> EnergyResult:
    return EnergyResult("measured", 100.0, 100.0, 100.0, 300.0, 10.0, 1000, mj, mj + 1.0, None, mj,
                        _Json({}), "usb_off", _Json({}))


def _artifact(artifact_id: str, kind: str, record: dict[str, Any]) -> dict[str, Any]:
    return dict(artifact_id=artifact_id, kind=kind, architecture="cnn_image", label=kind,
                record_json=json.dumps({"kind": kind, "artifact_id": artifact_id, **record}), created_utc=None)


def _lineage(store: ResultsStore) -> None:
    hp_t, hp_u = {"filters": 16, "activation": "relu"}, {"filters": 8, "activation": "relu"}
    rows = [
        _artifact(TRAINED, "trained", {"hyperparameters": hp_t, "train_seconds": 100.0, "val_accuracy": 0.9}),
        _artifact(TRAINED_U, "trained", {"hyperparameters": hp_u, "train_seconds": 50.0, "val_accuracy": 0.82}),
        _artifact(PRUNED, "transformed", {"parent_id": TRAINED, "transform": "prune:0.5", "finetune_seconds": 20.0}),
        _artifact(SHA["A"], "converted", {"variant": "fp32", "parent_id": TRAINED, "trained_id": TRAINED,
                                          "hyperparameters": hp_t, "test_accuracy": 0.91, "validation_samples": 1000,
                                          "gzip_size_bytes": 900}),
        _artifact(SHA["B"], "converted", {"variant": "prune:0.5+int8", "parent_id": PRUNED, "trained_id": TRAINED,
                                          "hyperparameters": hp_t, "test_accuracy": 0.88, "validation_samples": 1000,
                                          "gzip_size_bytes": 300}),
        _artifact(SHA["C"], "converted", {"variant": "fp32", "parent_id": TRAINED_U, "trained_id": TRAINED_U,
                                          "hyperparameters": hp_u, "test_accuracy": 0.80, "validation_samples": 1000,
                                          "gzip_size_bytes": 500}),
    ]
    links = [dict(child_id=PRUNED, parent_id=TRAINED, relation="transformed_from", detail="prune:0.5"),
             dict(child_id=SHA["A"], parent_id=TRAINED, relation="converted_from", detail="fp32"),
             dict(child_id=SHA["B"], parent_id=PRUNED, relation="converted_from", detail="prune:0.5+int8"),
             dict(child_id=SHA["C"], parent_id=TRAINED_U, relation="converted_from", detail="fp32")]
    store.save_lineage(rows, links)


def _run(store: ResultsStore, model: str, device: str, repeat: int, median_ms: float | None, *,
         status: str = "ok", energy_mj: float | None = None) -> str:
    run_id = f"{model}-{device}-{repeat}"
    kind, protocol = ("phone", "standard") if device == "pixel" else ("virtual", "smoke")
    samples = [median_ms * f for f in (0.9, 1.0, 1.1, 0.95, 1.05)] if median_ms is not None else []
    stats = latency_stats([s * 1000 for s in samples]) if samples else None
    checks = (Check("thermal", "fail" if status == "invalid" else "pass"),)
    if protocol == "smoke":
        checks += (Check("shortened", "fail", "smoke", advisory=True),)
    record = RunRecord(
        run_id=run_id, run_key=run_id, session="s1", model=f"{model}.tflite", model_sha256=SHA[model],
        model_size_bytes={"A": 4000, "B": 1200, "C": 2000}[model], target=device, device_id=device,
        config=RunConfig(1, "cpu"), protocol=protocol, repeat=repeat, status=status,  # type: ignore[arg-type]
        checks=checks, provenance=Provenance(kind, energy_source="measured" if energy_mj else "none"),  # type: ignore[arg-type]
        latency=stats if status != "failed" else None, peak_rss_kb=5000 + repeat,
        started_at_utc=f"2026-01-01T00:00:0{repeat}", error="device vanished" if status == "failed" else None)
    store.save_run(record, {}, [LatencySample("timed", i, s * 1000, None) for i, s in enumerate(samples)],
                   energy=_energy(energy_mj) if energy_mj is not None else None)
    return run_id


def build_workspace(root: Path) -> Path:
    """Write the store and the study folder under `root`; returns the study.json path."""
    store = ResultsStore(root / "results.sqlite")
    try:
        store.add_session("s1", started_at_utc="2026-01-01T00:00:00", command="test", host="h", version="0")
        store.upsert_device("pixel", "phone", {"model": "Pixel 7"})
        store.upsert_device("virt", "virtual", {"model": "edgebench-virtual"})
        for name, size in (("A", 4000), ("B", 1200), ("C", 2000)):
            store.upsert_variant(SHA[name], f"{name}.tflite", size, {})
        _lineage(store)
        ids: dict[str, list[str]] = {"A": [], "B": [], "C": []}
        for repeat, (median, mj) in enumerate(((10.0, 2.0), (12.0, 2.4), (11.0, 2.2))):
            ids["A"].append(_run(store, "A", "pixel", repeat, median, energy_mj=mj))
        ids["B"] += [_run(store, "B", "pixel", 0, 4.0), _run(store, "B", "pixel", 1, 5.0),
                     _run(store, "B", "pixel", 2, 4.5, status="invalid")]
        ids["C"] += [_run(store, "C", "pixel", 0, 20.0), _run(store, "C", "pixel", 1, 21.0)]
        ids["A"].append(_run(store, "A", "virt", 0, 30.0))
        ids["B"].append(_run(store, "B", "virt", 0, 9.0))
        ids["C"].append(_run(store, "C", "virt", 0, None, status="failed"))
    finally:
        store.close()

    def row(source: str, trained: str | None, hp: dict[str, Any], variant: str, model: str | None,
            accuracy: float | None, size: int | None, gzip: int | None) -> dict[str, Any]:
        return {"source": source, "trained_id": trained, "hyperparameters": hp, "val_accuracy": 0.9,
                "variant": variant, "tflite_sha256": SHA[model] if model else None, "tflite_path": None,
                "size_bytes": size, "gzip_size_bytes": gzip, "test_accuracy": accuracy,
                "latency_median_us": None, "energy_mj_per_inference": None, "simulated": None,
                "run_ids": ids[model] if model else [], "status": "measured" if model else "build_failed",
                "problem": None if model else "ValueError: no float16 here", "non_dominated": False}

    hp_t, hp_u = {"filters": 16, "activation": "relu"}, {"filters": 8, "activation": "relu"}
    study = root / "studies" / "cnn_image-smoke-0123456789ab"
    study.mkdir(parents=True)
    path = study / "study.json"
    path.write_text(json.dumps({"spec": "cnn_image.toml", "spec_name": "cnn_image", "budget": "smoke",
                                "session": "s1", "protocol": "standard", "rows": [
        row("default", TRAINED, hp_t, "fp32", "A", 0.91, 4000, 900),
        row("default", TRAINED, hp_t, "prune:0.5+int8", "B", 0.88, 1200, 300),
        row("default", TRAINED, hp_t, "float16", None, None, None, None),
        row("trial 3", TRAINED_U, hp_u, "fp32", "C", 0.80, 2000, 500),
        {**row("trial 4", None, {"filters": 4}, "", None, None, None, None), "status": "trial_failed",  # type: ignore[arg-type]
         "problem": "ValueError: NaN loss", "val_accuracy": None}]}))
    return path

