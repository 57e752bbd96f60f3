"""One rich progress display for a session: a bar with the model, config, target and stage."""
from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from edgebench.bench.plan import PlannedRun
from edgebench.records import RunRecord


class SessionProgress:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True)
        self.task = self.progress.add_task("starting", total=None)

    def __enter__(self) -> "SessionProgress":
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def plan(self, total: int) -> None:
        self.progress.update(self.task, total=total)

    def stage(self, run: PlannedRun, target: str, stage: str) -> None:
        if stage == "already stored":
            self.progress.advance(self.task)
        self.progress.update(self.task, description=f"{run.model.name} · {run.config.label()} · {target} · "
                                                    f"repeat {run.repeat + 1}: {stage}")

    def finished(self, record: RunRecord) -> None:
        self.progress.advance(self.task)
        median = f"{record.latency.median_us:.1f} µs" if record.latency else "—"
        colour = {"ok": "green", "invalid": "yellow", "failed": "red"}[record.status]
        # One greppable line per finished run, printed above the bar.
        self.console.print(f"[{colour}]{record.status:7}[/] {record.model} · {record.config.label()} · "
                           f"{record.target} · repeat {record.repeat} · median {median} · run {record.run_id}")
