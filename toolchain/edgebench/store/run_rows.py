"""A stored run as rows and back: the `runs`, `summaries` and `energy` columns of a RunRecord, and the JSON form
the outbox keeps on disk (the same rows, so a new column reaches both with no second list to keep in step).
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from sqlalchemy import RowMapping

from edgebench.records import Check, EnergyResult, InputShape, LatencyStats, Provenance, RunConfig, RunRecord
from edgebench.store import schema as t


def stats_row(stats: LatencyStats) -> dict[str, Any]:
    return dict(count=stats.count, min_us=stats.min_us, p10_us=stats.p10_us, median_us=stats.median_us,
                p90_us=stats.p90_us, p99_us=stats.p99_us, max_us=stats.max_us, mean_us=stats.mean_us,
                std_us=stats.std_us)


def energy_row(e: EnergyResult) -> dict[str, Any]:
    return dict(
        energy_source=e.energy_source, idle_pre_power_mw=e.idle_pre_power_mw,
        idle_post_power_mw=e.idle_post_power_mw, idle_power_mw=e.idle_power_mw, active_power_mw=e.active_power_mw,
        measured_seconds=e.measured_seconds, inferences=e.inferences,
        energy_per_inference_mj=e.energy_per_inference_mj,
        gross_energy_per_inference_mj=e.gross_energy_per_inference_mj,
        charge_counter_energy_mj=e.charge_counter_energy_mj, current_integral_energy_mj=e.current_integral_energy_mj,
        calibration_json=json.dumps(e.calibration.to_json()), power_path=e.power_path,
        device_changes_json=json.dumps(e.device_changes.to_json()),
        rails_json=json.dumps(e.rails.to_json()) if e.rails is not None else None)


def run_row(r: RunRecord, protocol_json: Mapping[str, Any]) -> dict[str, Any]:
    return dict(
        run_id=r.run_id, run_key=r.run_key, session=r.session, model_sha256=r.model_sha256, model=r.model,
        device_id=r.device_id, target=r.target, threads=r.config.threads, accelerator=r.config.accelerator,
        cpu_mask=r.config.cpu_mask, protocol=r.protocol, protocol_json=json.dumps(protocol_json, sort_keys=True),
        repeat=r.repeat, status=r.status, error=r.error, device_kind=r.provenance.device_kind,
        latency_source=r.provenance.latency_source, energy_source=r.provenance.energy_source,
        simulated=r.provenance.simulated, engine=r.engine, harness_build_id=r.harness_build_id,
        runtime_sha256=r.runtime_sha256,
        runtime_api_generation=r.runtime_api_generation, accelerator_used=r.accelerator_used,
        fallback_reason=r.fallback_reason, output_checksum=r.output_checksum, init_ms=r.init_ms,
        first_inference_us=r.first_inference_us, peak_rss_kb=r.peak_rss_kb, threads_observed=r.threads_observed,
        model_size_bytes=r.model_size_bytes, started_at_utc=r.started_at_utc, wall_seconds=r.wall_seconds,
        input_shapes_json=json.dumps([s.to_json() for s in r.input_shapes]))


def record_from_row(r: RowMapping | Mapping[str, Any], checks: tuple[Check, ...]) -> RunRecord:
    latency = None
    if r["count"] is not None:
        latency = LatencyStats(count=r["count"], min_us=r["min_us"], p10_us=r["p10_us"], median_us=r["median_us"],
                               p90_us=r["p90_us"], p99_us=r["p99_us"], max_us=r["max_us"], mean_us=r["mean_us"],
                               std_us=r["std_us"])
    return RunRecord(
        run_id=r["run_id"], run_key=r["run_key"], session=r["session"], model=r["model"],
        model_sha256=r["model_sha256"], model_size_bytes=r["model_size_bytes"], target=r["target"],
        device_id=r["device_id"], config=RunConfig(r["threads"], r["accelerator"], r["cpu_mask"]),
        protocol=r["protocol"], repeat=r["repeat"], status=r["status"], checks=checks,
        provenance=Provenance(r["device_kind"], r["latency_source"], r["energy_source"]),
        latency=latency, init_ms=r["init_ms"], first_inference_us=r["first_inference_us"],
        peak_rss_kb=r["peak_rss_kb"], threads_observed=r["threads_observed"],
        accelerator_used=r["accelerator_used"], fallback_reason=r["fallback_reason"],
        output_checksum=r["output_checksum"], harness_build_id=r["harness_build_id"],
        runtime_sha256=r["runtime_sha256"], runtime_api_generation=r["runtime_api_generation"],
        started_at_utc=r["started_at_utc"], wall_seconds=r["wall_seconds"], error=r["error"], engine=r["engine"],
        input_shapes=_input_shapes_from_json(r.get("input_shapes_json")))


def _input_shapes_from_json(text: str | None) -> tuple[InputShape, ...]:
    if not text:
        return ()
    return tuple(InputShape.from_json(obj) for obj in json.loads(text))


def run_to_json(record: RunRecord, protocol_json: Mapping[str, Any]) -> dict[str, Any]:
    """A run as the store's rows would hold it (runs + summaries columns, and its checks), as JSON: what the
    outbox (store/outbox.py) keeps on disk until the store takes it. Built from the rows' own mapping so a
    new column reaches the outbox with no second list to keep in step."""
    row = run_row(record, protocol_json)
    row.update(stats_row(record.latency) if record.latency is not None
               else {c.name: None for c in t.summaries.c if c.name != "run_id"})
    checks = [dict(name=c.name, outcome=c.outcome, reason=c.reason, advisory=c.advisory) for c in record.checks]
    return {"row": row, "checks": checks}


def run_from_json(obj: Mapping[str, Any]) -> tuple[RunRecord, dict[str, Any]]:
    """The record and protocol JSON that `run_to_json` was given."""
    row = obj["row"]
    checks = tuple(Check(name=c["name"], outcome=c["outcome"], reason=c["reason"], advisory=c["advisory"])
                   for c in obj["checks"])
    return record_from_row(row, checks), json.loads(row["protocol_json"])
