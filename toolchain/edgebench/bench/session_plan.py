"""What a session's device workers share (the plan) and what each reports back.

Its own module so that both ways of running a plan (bench/worker.py, one call per run; bench/slice_worker.py,
many runs per device call) can name it without importing each other.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

from edgebench.bench.input_shapes import ShapePlan
from edgebench.bench.plan import ModelFile
from edgebench.bench.references import Reference, reference_models
from edgebench.protocols import ResolvedProtocol
from edgebench.records import RunRecord
from edgebench.store import DEFAULT_DB_OUTAGE_S


@dataclass
class SessionPlan:
    """What every worker of a session shares."""

    session: str
    protocol: ResolvedProtocol
    models: Sequence[ModelFile]
    threads: Sequence[int]
    accelerators: Sequence[str]
    cpu_mask: str | None
    done: dict[str, str]  # run_key -> stored status
    keep: bool = False
    profile_ops: bool = False
    reconnect_timeout_s: float = 120.0
    db_outage_s: float = DEFAULT_DB_OUTAGE_S  # how long the results store may stay unreachable
    engine: str = "runner"
    # model sha256 -> the shapes its inputs run at, or why it cannot run (dynamic dims, bad shape);
    # a model missing here (not readable as .tflite) runs without shapes and the runner says why.
    shapes: Mapping[str, ShapePlan | str] = field(default_factory=dict)
    # A lab job runs one repeat of the plan (None: every repeat). A device that measured a moment
    # ago (the lab's previous job on it) is cooled down first, against the baseline read before its
    # first job, as consecutive runs of one session are.
    only_repeat: int | None = None
    warm_baseline_c: Mapping[str, float] | None = None
    # --check-outputs: model sha256 -> its reference (None: outputs not checked, `agreement_off` says why)
    references: Mapping[str, Reference] | None = None
    agreement_off: str = "not requested (--check-outputs)"
    # Several runs per device call where the target can (bench/slice_worker.py); False: one call per run.
    batch: bool = True

    def shape_plan(self, model_sha256: str) -> ShapePlan | None:
        found = self.shapes.get(model_sha256)
        return found if isinstance(found, ShapePlan) else None

    def reference(self, model_sha256: str) -> Reference | None:
        return self.references.get(model_sha256) if self.references is not None else None

    @property
    def staged_models(self) -> list[ModelFile]:
        """The models and the references their outputs are compared with."""
        known = {m.sha256 for m in self.models}
        return list(self.models) + [r for r in reference_models(self.references) if r.sha256 not in known]

    def shape_refusal(self, model_sha256: str) -> str | None:
        found = self.shapes.get(model_sha256)
        return found if isinstance(found, str) else None


@dataclass
class WorkerReport:
    target: str
    records: list[RunRecord] = field(default_factory=list)
    skipped: int = 0
    not_run: int = 0
    problem: str | None = None  # why this device stopped early
    planned: int = 0  # runs of the plan on this device, once they are known

    def stopped_by(self, exc: BaseException) -> None:
        """The worker ended with `exc` (the store refused a run, ...): say why, and count what it did not do."""
        self.problem = str(exc)
        self.not_run = max(0, self.planned - self.skipped - len(self.records))
