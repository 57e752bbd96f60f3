"""Harness output as an `inspect` record: the same unit-suffixed figures benchmark_model logs give."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from edgebench.harness.output import parse_harness_output
from edgebench.records import LatencyStats
from edgebench.stats import latency_stats


@dataclass(frozen=True)
class HarnessRunReport:
    runner_version: str | None
    library_path: str | None
    library_sha256: str | None
    api_generation: str | None
    threads: int | None
    accelerator_requested: str | None
    accelerator_used: str | None
    fallback_reason: str | None
    fully_accelerated: bool | None
    inputs: tuple[dict[str, Any], ...]
    outputs: tuple[dict[str, Any], ...]
    init_us: float | None
    init_stages_us: dict[str, float] | None
    first_inference_us: float | None
    warmup_count: int
    warmup_avg_us: float | None
    inference_count: int
    inference_avg_us: float | None
    latency: LatencyStats | None  # recomputed from the raw per-run lines
    peak_rss_kb: int | None
    peak_memory_mb: float | None
    threads_observed: int | None
    output_checksum: str | None
    profile: dict[str, Any] | None
    failed: bool
    failure_reason: str | None


def sniff(text: str, file_name: str) -> int:
    first = next((line for line in text.splitlines() if line.strip()), "")
    try:
        obj = json.loads(first)
    except ValueError:
        return 0
    if isinstance(obj, dict) and obj.get("type") == "start" and "runner_version" in obj:
        return 100
    return 0


def parse_harness_report(text: str) -> HarnessRunReport:
    out = parse_harness_output(text)
    setup = out.setup or {}
    warm = [s.latency_us for s in out.warmup]
    timed = [s.latency_us for s in out.timed]
    failure = out.failure_reason
    return HarnessRunReport(
        runner_version=out.runner_version, library_path=out.library_path, library_sha256=out.library_sha256,
        api_generation=out.api_generation, threads=setup.get("threads"),
        accelerator_requested=setup.get("accelerator_requested"), accelerator_used=out.accelerator_used,
        fallback_reason=out.fallback_reason, fully_accelerated=setup.get("fully_accelerated"),
        inputs=tuple(setup.get("inputs", ())), outputs=tuple(setup.get("outputs", ())),
        init_us=out.init_total_us, init_stages_us=dict(out.init_stages_us) if out.init_stages_us else None,
        first_inference_us=out.first_inference_us, warmup_count=len(warm),
        warmup_avg_us=sum(warm) / len(warm) if warm else None, inference_count=len(timed),
        inference_avg_us=sum(timed) / len(timed) if timed else None,
        latency=latency_stats(timed) if timed else None, peak_rss_kb=out.peak_rss_kb,
        peak_memory_mb=out.peak_rss_kb / 1024 if out.peak_rss_kb is not None else None,
        threads_observed=out.threads_observed, output_checksum=out.output_checksum,
        profile=dict(out.profile) if out.profile else None, failed=not out.ok, failure_reason=failure)
