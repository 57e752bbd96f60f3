"""Do the outputs of one model agree across the runs of a session? (the runner's output checksum)

The runner checksums every output's bytes (FNV-1a 64, PROTOCOL.md) after its last inference, on
inputs generated from a fixed seed (execute.INPUT_SEED, the same for every push-and-run run). So:

- `output_consistency`: repeats of the same model, config (threads, accelerator, mask, ...),
  runtime and harness on the same device must give the same bytes; a difference means the device
  computed something else (a changed file, a faulty accelerator, memory trouble) and invalidates
  the run.
- `output_consistency_threads` (advisory): the same against other thread counts. XNNPACK may split
  reductions differently with more threads, so float outputs can legitimately differ in their last
  bits: recorded, never invalidating.

A run is compared with the runs stored before it (the first of its group has nothing to compare
with: not_checked), so the check is added just before the run is stored.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from edgebench.bench.execute import RunOutcome
from edgebench.bench.checks import is_invalid
from edgebench.records import Check, RunRecord


def _same_setup(a: RunRecord, b: RunRecord) -> bool:
    return (a.device_id == b.device_id and a.model_sha256 == b.model_sha256 and a.engine == b.engine
            and a.runtime_sha256 == b.runtime_sha256 and a.harness_build_id == b.harness_build_id
            and _shapes(a) == _shapes(b))  # another input shape is another computation


def _shapes(record: RunRecord) -> tuple[tuple[str, tuple[int, ...]], ...]:
    return tuple((s.name, tuple(s.dims)) for s in record.input_shapes)


def _compare(record: RunRecord, others: list[RunRecord], name: str, what: str, advisory: bool) -> Check:
    if not others:
        return Check(name, "not_checked", f"no earlier run of this model with {what} on this device to compare with",
                     advisory=advisory)
    differing = [o for o in others if o.output_checksum != record.output_checksum]
    if not differing:
        return Check(name, "pass", advisory=advisory)
    listed = "; ".join(f"{o.output_checksum} in run {o.run_id} ({o.config.label()}, repeat {o.repeat})"
                       for o in differing[:3])
    more = f" and {len(differing) - 3} more" if len(differing) > 3 else ""
    return Check(name, "fail", f"output checksum {record.output_checksum} differs from {listed}{more} "
                               f"({what}, same inputs)", advisory=advisory)


def output_checks(record: RunRecord, earlier: Sequence[RunRecord]) -> tuple[Check, ...]:
    """The two consistency checks of `record` against `earlier` stored runs (any session mix is filtered)."""
    if record.output_checksum is None:
        why = ("the runner could not map an output to checksum it (checksum null)"
               if record.engine == "edgebench_runner" else f"{record.engine} reports no output checksum")
        return (Check("output_consistency", "not_checked", why),
                Check("output_consistency_threads", "not_checked", why, advisory=True))
    peers = [r for r in earlier if r.run_id != record.run_id and r.session == record.session
             and r.status != "failed" and r.output_checksum is not None and _same_setup(r, record)]
    same = [r for r in peers if r.config == record.config]
    other_threads = [r for r in peers if r.config != record.config
                     and replace(r.config, threads=record.config.threads) == record.config]
    return (_compare(record, same, "output_consistency", "the same config", advisory=False),
            _compare(record, other_threads, "output_consistency_threads", "other thread counts", advisory=True))


def with_output_checks(outcome: RunOutcome, earlier: Sequence[RunRecord]) -> RunOutcome:
    """The outcome with the consistency checks added (a failed run has no output: unchanged)."""
    record = outcome.record
    if record.status == "failed":
        return outcome
    checks = record.checks + output_checks(record, earlier)
    status = "invalid" if is_invalid(checks) else record.status
    return replace(outcome, record=replace(record, checks=checks, status=status))
