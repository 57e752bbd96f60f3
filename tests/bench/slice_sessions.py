"""Helpers of the slice tests (local and adb): a session's stored runs, and the same session id in another store."""
from __future__ import annotations

from contextlib import closing
from pathlib import Path

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
