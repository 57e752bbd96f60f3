"""One rich progress display for a session: a line per device with the model, config and stage."""
from __future__ import annotations

import threading

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from edgebench.bench.plan import PlannedRun
from edgebench.bench.table import fmt_us
from edgebench.records import RunRecord


class SessionProgress:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True)
        self._tasks: dict[str, int] = {}
        self._per_target: int | None = None
        self._lock = threading.Lock()  # workers report from their own threads

    def __enter__(self) -> "SessionProgress":
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def plan(self, runs_per_device: int) -> None:
        self._per_target = runs_per_device

    def _task(self, target: str) -> int:
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
