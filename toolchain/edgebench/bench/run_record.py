"""The one builder of a run's `RunRecord`, for latency runs, battery runs and runs that never ran.

`RunHeader` holds what a run is before it runs (model, target, config, protocol, repeat, the
deployed harness); `failed` and `measured` turn it into the stored record.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from edgebench.bench.plan import ModelFile
from edgebench.harness.output import HarnessOutput
from edgebench.records import Check, InputShape, Provenance, RunConfig, RunRecord, RunStatus
from edgebench.stats import latency_stats


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class RunHeader:
    run_id: str
    run_key: str
    session: str
    model: ModelFile
    target: str
    device_id: str
    config: RunConfig
    protocol: str  # the protocol's name: a preset, or "battery"
    repeat: int
    provenance: Provenance
    harness_build_id: str | None
    runtime_sha256: str | None
    started_at_utc: str
    input_shapes: tuple[InputShape, ...] = ()  # what the runner ran; set once its setup line is read

    def with_shapes(self, shapes: tuple[InputShape, ...]) -> RunHeader:
        return replace(self, input_shapes=shapes)

    def record(self, **fields: Any) -> RunRecord:
        """A record of this run with the given outcome fields (status, checks, ...)."""
        return RunRecord(**self._fields(), **fields)

    def _fields(self) -> dict[str, Any]:
        return dict(run_id=self.run_id, run_key=self.run_key, session=self.session, model=self.model.name,
                    model_sha256=self.model.sha256, model_size_bytes=self.model.size_bytes, target=self.target,
                    device_id=self.device_id, config=self.config, protocol=self.protocol, repeat=self.repeat,
                    provenance=self.provenance, harness_build_id=self.harness_build_id,
                    runtime_sha256=self.runtime_sha256, started_at_utc=self.started_at_utc,
                    input_shapes=self.input_shapes)

    def failed(self, error: str, *, wall_seconds: float | None = None, **known: Any) -> RunRecord:
        """A run that produced no measurement; `known`: RunRecord fields the run did report
        (accelerator_used, runtime_api_generation, ...)."""
        return RunRecord(**self._fields(), status="failed", checks=(), error=error, wall_seconds=wall_seconds,
                         **known)

    def measured(self, output: HarnessOutput, checks: tuple[Check, ...], *, invalid: bool,
                 wall_seconds: float | None) -> RunRecord:
        """A run the runner finished: its latency and what the runner reported, judged by `checks`."""
        timed = [s.latency_us for s in output.timed]
        status: RunStatus = "invalid" if invalid else "ok"
        return RunRecord(
            **self._fields(), status=status, checks=checks,
            latency=latency_stats(timed) if timed else None,
            init_ms=output.init_total_us / 1000.0 if output.init_total_us is not None else None,
            first_inference_us=output.first_inference_us, peak_rss_kb=output.peak_rss_kb,
            threads_observed=output.threads_observed, accelerator_used=output.accelerator_used,
            fallback_reason=output.fallback_reason, output_checksum=output.output_checksum,
            runtime_api_generation=output.api_generation, wall_seconds=wall_seconds)


def run_header(*, key: str, session: str, model: ModelFile, target: str, device_id: str, config: RunConfig,
               protocol: str, repeat: int, provenance: Provenance, harness_build_id: str | None,
               runtime_sha256: str | None) -> RunHeader:
    """The header of a run starting now; its id is the first 16 characters of its key."""
    return RunHeader(run_id=key[:16], run_key=key, session=session, model=model, target=target,
                     device_id=device_id, config=config, protocol=protocol, repeat=repeat, provenance=provenance,
                     harness_build_id=harness_build_id, runtime_sha256=runtime_sha256, started_at_utc=utc_now())
