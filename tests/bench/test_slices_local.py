"""Batched execution on this host: a session in slices stores exactly what one driver call per run stores."""
from __future__ import annotations

from pathlib import Path

import pytest

import edgebench
from edgebench.bench import slice_worker
from edgebench.errors import DeviceError
from edgebench.targets.local import LocalTarget

from ..conftest import REAL_MODELS
from .slice_sessions import same_session_in, stop_before_the_host_hears_the_run_start, stored_runs

ADD = REAL_MODELS / "tflm_simple_add_model.tflite"


def _count_slices(monkeypatch) -> list[int]:  # type: ignore[no-untyped-def]
    """The number of runs of each slice the local target is given, in order."""
    sizes: list[int] = []
    real_run_slice = LocalTarget.run_slice

    def counting(self, slice_name, entries, *args, **kw):  # type: ignore[no-untyped-def]
        sizes.append(len(entries))
        return real_run_slice(self, slice_name, entries, *args, **kw)

    monkeypatch.setattr(LocalTarget, "run_slice", counting)
    return sizes


def test_a_batched_session_stores_the_runs_an_unbatched_one_stores(tmp_path: Path, monkeypatch):
    """Same run ids (the run key: model, config, repeat, device, harness, session), same statuses, same checks;
    the model that cannot be compiled fails alone, in the middle of the slice, and the rest of it runs."""
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(b"TFL3" + bytes(200))  # a flatbuffer identifier and nothing a runtime can compile
    models = [ADD, broken]
    kwargs = dict(target="local", protocol="smoke", runs=3, warmup=1, threads=(1, 2), repeats=2)
    one_by_one = edgebench.push_and_run(models, workspace=tmp_path / "a", batch=False, **kwargs)
    slices = _count_slices(monkeypatch)
    same_session_in(tmp_path / "b", one_by_one.session)
    batched = edgebench.push_and_run(models, workspace=tmp_path / "b", batch=True, resume=one_by_one.session, **kwargs)
    assert slices == [8]  # 2 models x 2 configs x 2 repeats in one device call
    expected, got = stored_runs(tmp_path / "a", one_by_one.session), stored_runs(tmp_path / "b", batched.session)
    assert len(expected) == 8 and got == expected
    statuses = {model: {status for status, _checks, m, _t in got.values() if m == model}
                for model in (ADD.name, "broken.tflite")}
    assert statuses == {ADD.name: {"ok"}, "broken.tflite": {"failed"}}
    failed = [r for r in batched.records if r.status == "failed"]
    assert len(failed) == 4 and all(r.error for r in failed), [r.error for r in failed]
    assert all(r.wall_seconds is not None and r.wall_seconds > 0 for r in batched.records if r.status == "ok")
    # Run folders are gone from the device once their results are in, as one call per run leaves them.
    assert not [p for p in (tmp_path / "b" / "local-device" / "runs").rglob("*") if p.is_file()]


def test_keep_leaves_each_run_folder_marked_on_the_device(tmp_path: Path):
    result = edgebench.push_and_run([ADD], target="local", protocol="smoke", runs=2, warmup=0, repeats=2,
                                    workspace=tmp_path, keep=True)
    kept = sorted((tmp_path / "local-device" / "runs" / result.session).iterdir())
    assert len(kept) == 2 and all((k / "out" / "runner.jsonl").exists() for k in kept)


def test_a_slice_holds_at_most_the_bound_and_the_rest_goes_in_the_next(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(slice_worker, "MAX_RUNS_PER_SLICE", 3)
    sizes = _count_slices(monkeypatch)
    result = edgebench.push_and_run([ADD], target="local", protocol="smoke", runs=2, warmup=0, threads=(1, 2),
                                    repeats=4, workspace=tmp_path)
    assert sizes == [3, 3, 2]
    assert len(result.records) == 8 and all(r.status == "ok" for r in result.records)
    assert len({r.run_id for r in result.records}) == 8
    # Each run's start is when it started on the device, not when its slice was planned.
    assert len({r.started_at_utc for r in result.records}) == 8


def test_a_store_that_fails_stops_the_session_without_blaming_a_run(tmp_path: Path, monkeypatch):
    """The host's own failure on a finished run (the store's outage budget spent) is raised as itself: the
    next run, maybe still on the device, is not stored as failed with the store's message."""
    from edgebench.bench.worker import DeviceWorker
    from edgebench.store import StoreOutageError

    calls: list[str] = []
    real_store = DeviceWorker.store_run

    def store(self, run, outcome):  # type: ignore[no-untyped-def]
        calls.append(outcome.record.status)
        if len(calls) == 2:
            raise StoreOutageError("budget spent (simulated): runs are in the outbox")
        return real_store(self, run, outcome)

    monkeypatch.setattr(DeviceWorker, "store_run", store)
    with pytest.raises(StoreOutageError):
        edgebench.push_and_run([ADD], target="local", protocol="smoke", runs=2, warmup=0, repeats=4,
                               workspace=tmp_path)
    assert calls == ["ok", "ok"]  # nothing after it, and no made-up failure
    leftovers = [p for p in (tmp_path / "local-device" / "runs").rglob("*") if p.name == "runner.jsonl"]
    assert leftovers == []  # the slice was stopped, not left running


def test_a_slice_that_fails_after_all_its_runs_are_stored_blames_no_run(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(slice_worker, "MAX_RUNS_PER_SLICE", 2)
    real_run_slice = LocalTarget.run_slice
    slices: list[int] = []

    def run_slice(self, name, entries, *args, **kw):  # type: ignore[no-untyped-def]
        real_run_slice(self, name, entries, *args, **kw)
        slices.append(len(entries))
        if len(slices) == 1:  # every run of the first slice stored; then its tail (the device log) fails
            raise DeviceError("local", "the slice runner stopped after 2 of 2 runs", command="sh slice.sh")

    monkeypatch.setattr(LocalTarget, "run_slice", run_slice)
    result = edgebench.push_and_run([ADD], target="local", protocol="smoke", runs=2, warmup=0, repeats=4,
                                    workspace=tmp_path)
    assert sorted(r.repeat for r in result.records) == [0, 1, 2, 3]
    assert all(r.status == "ok" for r in result.records), [r.error for r in result.records]
    assert slices == [2, 2]


def test_a_stop_before_the_host_heard_the_run_start_leaves_no_run_folder(tmp_path: Path, monkeypatch):
    """Ctrl-C while this host's slice runs a run whose start frame the session has not read yet: the run is killed
    and its folder removed, and the session waits for that before it reports the stop (tests/targets/
    test_slices_adb.py has the same on a virtual device, with why it once failed)."""
    from edgebench.bench.session import SessionInterrupted
    from edgebench.workspace import Workspace

    runs_root = Workspace(tmp_path).local_device_root / "runs"
    stopped_in = stop_before_the_host_hears_the_run_start(monkeypatch, lambda run: (runs_root / run / "out").is_dir())
    with pytest.raises(SessionInterrupted) as stopped:
        edgebench.push_and_run([ADD], target="local", protocol="smoke", runs=40, warmup=0, run_delay_ms=100,
                               repeats=2, workspace=tmp_path)
    session_folder = runs_root / stopped.value.session
    assert stopped_in and (runs_root / stopped_in[0]).parent == session_folder
    assert sorted(p.name for p in session_folder.iterdir()) == []  # no run folder, no slice file
