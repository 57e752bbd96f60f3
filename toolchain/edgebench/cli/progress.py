"""Rich progress displays: a push-and-run session (a line per device with the model, config and stage)
and a study (a bar per stage naming the model, candidate, variant, stage and device)."""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID, TextColumn,
                           TimeElapsedColumn)

from edgebench.bench.plan import PlannedRun
from edgebench.bench.table import fmt_us
from edgebench.records import RunRecord

if TYPE_CHECKING:
    from edgebench.study.run import StudyStep


class SessionProgress:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True)
        self._tasks: dict[str, TaskID] = {}
        self._per_target: int | None = None
        self._lock = threading.Lock()  # workers report from their own threads

    def __enter__(self) -> SessionProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def plan(self, runs_per_device: int) -> None:
        self._per_target = runs_per_device

    def _task(self, target: str) -> TaskID:
        with self._lock:
            if target not in self._tasks:
                self._tasks[target] = self.progress.add_task(target, total=self._per_target)
            return self._tasks[target]

    def stage(self, run: PlannedRun, target: str, stage: str) -> None:
        task = self._task(target)
        if stage == "already stored":
            self.progress.advance(task)
        self.progress.update(task, description=f"{target} · {run.model.name} · {run.config.label()} · "
                                               f"repeat {run.repeat + 1}: {stage}")

    def finished(self, record: RunRecord) -> None:
        self.progress.advance(self._task(record.target))
        median = fmt_us(record.latency.median_us if record.latency else None)
        colour = {"ok": "green", "invalid": "yellow", "failed": "red"}[record.status]
        # One greppable line per finished run, printed above the bars.
        self.console.print(f"[{colour}]{record.status:7}[/] {record.model} · {record.config.label()} · "
                           f"{record.target} · repeat {record.repeat} · median {median} · run {record.run_id}"
                           + (f" · {record.error}" if record.error else ""))


class StageProgress:
    """A bar per stage (a study's train, tune, build, measure; convert's conversions); log lines print above."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True)
        self._tasks: dict[str, TaskID] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> StageProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def log(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)  # a long line stays one line

    def step(self, step: StudyStep) -> None:
        names = " · ".join(part for part in (step.model, step.candidate, step.variant) if part)
        description = f"{step.stage:<7} {names} · {step.device} · {step.detail}"
        with self._lock:
            if step.stage not in self._tasks:
                self._tasks[step.stage] = self.progress.add_task(description, total=step.total)
            task = self._tasks[step.stage]
        self.progress.update(task, description=description, completed=step.done, total=step.total)
