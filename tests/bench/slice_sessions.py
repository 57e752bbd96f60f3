"""Helpers of the slice tests (local and adb): a session's stored runs, the same session id in another store, and a
stop that comes before the session has heard its run start."""
from __future__ import annotations

import os
import signal
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Callable

import pytest

from edgebench.records import RunRecord
from edgebench.store import ResultsStore


def _session_runs(workspace: Path, session: str) -> list[RunRecord]:
    with closing(ResultsStore(workspace / "results.sqlite")) as store:
        return store.runs(session)


def stored_runs(workspace: Path, session: str) -> dict[str, tuple[str, tuple[tuple[str, str], ...], str, str]]:
    """run id -> (status, sorted (check, outcome) pairs, model, target) of every run the session stored."""
    return {r.run_id: (r.status, tuple(sorted((c.name, c.outcome) for c in r.checks)), r.model, r.target)
            for r in _session_runs(workspace, session)}


def key_inputs(workspace: Path, session: str) -> dict[str, tuple[object, ...]]:
    """run id -> what its key was made of (model, target, device id, harness, runtime, config, repeat) and what
    it ended with (status, error, checks): shown when two sessions' runs differ, to say where."""
    return {r.run_id: (r.model, r.target, r.device_id, r.harness_build_id, r.runtime_sha256, r.config.to_json(),
                       r.repeat, r.status, r.error, [(c.name, c.outcome, c.reason) for c in r.checks])
            for r in _session_runs(workspace, session)}


def same_session_in(workspace: Path, session: str) -> None:
    """Open `session` in another workspace's store, so a run there has the same run keys (ids) as the original."""
    with closing(ResultsStore(workspace / "results.sqlite")) as store:
        store.add_session(session, started_at_utc="2026-12-06T00:00:00Z", command="test", host="test", version="test")


def stop_before_the_host_hears_the_run_start(monkeypatch: pytest.MonkeyPatch,
                                             has_out: Callable[[str], bool]) -> list[str]:
    """Once the device has started the session's first run (`has_out(run_name)`: its out/ exists), Ctrl-C
    (SIGINT: KeyboardInterrupt in the session's main thread) before the host notes the run as started, and
    let the host go on only once the session has cancelled the slice. Returns the run names it stopped in."""
    from edgebench.bench.slice_worker import _SliceEvents
    from edgebench.bench.worker import DeviceWorker

    real_stage, real_cancel = _SliceEvents.stage, DeviceWorker.cancel
    cancelled = threading.Event()
    stopped_in: list[str] = []

    def cancel(self: DeviceWorker) -> None:
        real_cancel(self)
        cancelled.set()

    def stage(self: _SliceEvents, index: int, stage: str) -> None:
        if stage == "run" and not stopped_in:
            stopped_in.append(self.prepared[index].run_name)
            deadline = time.monotonic() + 30
            while not has_out(stopped_in[0]):
                assert time.monotonic() < deadline, "the run made no out/ within 30 s"
                time.sleep(0.05)
            os.kill(os.getpid(), signal.SIGINT)
            assert cancelled.wait(30)
        real_stage(self, index, stage)

    monkeypatch.setattr(_SliceEvents, "stage", stage)
    monkeypatch.setattr(DeviceWorker, "cancel", cancel)
    return stopped_in
