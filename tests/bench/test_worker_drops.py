"""A device that drops outside a run (while deploying, reading the temperature baseline or cooling down)
is waited for like one that drops mid-run: back, it is deployed again and the plan goes on; gone, the
run it was about to start is stored as failed with the reason and the rest are reported as not run.

The local target cannot lose its link, so the drop is injected at the target's temperature read: the
worker's handling of a dropped link is what is under test, with the real harness, store and runs.
"""
from __future__ import annotations

import threading

import pytest

from edgebench.bench import execute
from edgebench.bench.execute import deploy_harness_factory
from edgebench.bench.plan import ModelFile
from edgebench.bench.session_plan import SessionPlan
from edgebench.bench.worker import DeviceWorker
from edgebench.devices.adb import DeviceConnectionError
from edgebench.protocols import resolve
from edgebench.store import ResultsStore
from edgebench.targets.local import LocalTarget
from edgebench.targets.staging import file_sha256
from edgebench.workspace import Workspace

from ..conftest import REAL_MODELS

# A model of milliseconds: the standard preset warms up for 2 s, and the runner writes a line per
# inference (a µs model wrote ~10^6 lines per run to parse and store, most of this file's time).
MODEL = REAL_MODELS / "tfls_mobilenet_v1_0.25_224_float.tflite"


def _session(workspace_root, drops_at_read: set[int], comes_back: bool, batch: bool = True):
    ws = Workspace.resolve(workspace_root)
    target = LocalTarget(ws.local_device_root)
    reads = {"n": 0}
    real_read = target.read_temperatures_c

    def read_temperatures_c():
        reads["n"] += 1
        if reads["n"] in drops_at_read:
            raise DeviceConnectionError(target.name, "device offline", command="cat /sys/class/thermal/...")
        return real_read()

    target.read_temperatures_c = read_temperatures_c  # type: ignore[method-assign]
    target.reconnect = lambda: comes_back  # type: ignore[method-assign]
    model = ModelFile(path=MODEL, name=MODEL.name, sha256=file_sha256(MODEL), size_bytes=MODEL.stat().st_size)
    # standard: its auto cool-down reads the temperatures between runs (smoke has none)
    protocol = resolve("standard", runs=20, warmup=1, min_seconds=0.05, repeats=3)
    plan = SessionPlan(session="drop-session", protocol=protocol, models=[model], threads=[1], accelerators=["cpu"],
                       cpu_mask=None, done={}, reconnect_timeout_s=0.5, batch=batch)
    store = ResultsStore(ws.results_db)
    store.add_session("drop-session", started_at_utc=execute.utc_now(), command="test", host="test", version="test")
    store.upsert_variant(model.sha256, model.name, model.size_bytes, {"path": str(model.path)})
    stages: list[str] = []
    try:
        worker = DeviceWorker(target, plan, store=store, workspace=ws, deploy=deploy_harness_factory(ws),
                              stop=threading.Event(), on_stage=lambda _run, _t, stage: stages.append(stage),
                              on_record=lambda _r: None)
        report = worker.run()
    finally:
        store.close()
    return report, stages


@pytest.mark.parametrize("drop_at", [1, 2], ids=["at the baseline after deploy", "during the cool-down"])
def test_a_device_gone_outside_a_run_gets_its_next_run_stored_failed(workspace, drop_at):
    # The host reads temperatures for cool-downs only with one device call per run (--no-batch): in slices
    # the device cools down by itself, and a drop then is a drop mid-slice (tests/targets/test_slices_adb.py).
    report, stages = _session(workspace, {drop_at}, comes_back=False, batch=drop_at == 1)
    failed = [r for r in report.records if r.status == "failed"]
    assert len(failed) == 1 and "did not come back" in (failed[0].error or ""), [r.error for r in report.records]
    assert "device offline" in (failed[0].error or "")
    assert report.problem and "did not come back" in report.problem
    assert len(report.records) + report.not_run == 3
    assert any(s.startswith("waiting for device") for s in stages), stages


def test_a_device_back_after_a_drop_outside_a_run_is_redeployed_and_finishes(workspace):
    report, stages = _session(workspace, {1}, comes_back=True)
    assert len(report.records) == 3 and all(r.status != "failed" for r in report.records), [r.error for r in report.records]
    assert "redeploy" in stages and report.problem is None
