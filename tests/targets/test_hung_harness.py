"""A harness that hangs on an adb device (issue #11 A4): reported as a timeout, not as a dropped
device; never retried as a reconnect; killed on the device (runner and all) before anything else runs.

The hang is real: the virtual device runs the real runner at one inference per second for 100000
runs, behind a wrapper that ignores SIGHUP (as a runner stuck in a driver call does not die when
adbd hangs up), so only an explicit kill on the device ends it.
"""
from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from edgebench.bench import execute
from edgebench.bench.execute import deploy_harness_factory
from edgebench.bench.plan import ModelFile
from edgebench.bench.session_plan import SessionPlan
from edgebench.bench.worker import DeviceWorker
from edgebench.devices.adb import AdbServer, DeviceConnectionError
from edgebench.errors import DeviceError
from edgebench.protocols import resolve
from edgebench.store import ResultsStore
from edgebench.targets.adb import AdbTarget
from edgebench.targets.staging import file_sha256
from edgebench.workspace import Workspace
from tests.virtual.helpers import cli_lab

from ..conftest import REAL_MODELS

ADD = REAL_MODELS / "tflm_simple_add_model.tflite"
HANG_BIN = "hang-bin"
HANG_TIMEOUT_S = 4.0


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, harness_cache: Path) -> Iterator[tuple[AdbTarget, Workspace]]:
    root = tmp_path_factory.mktemp("hung")
    with cli_lab(root, harness_cache) as (_adb, serials):
        yield AdbTarget(AdbServer().device(serials[0])), Workspace.resolve(root)


def _runners_on(target: AdbTarget) -> str:
    """Harness processes on the device, by process name (the checking shell never matches)."""
    return target.device.shell("pgrep -l edgebench_run; pgrep -l edgebench_samp; true").stdout.strip()


def _hanging_deploy(target: AdbTarget, workspace: Workspace, tmp_path: Path,  # type: ignore[no-untyped-def]
                    own_session: bool = False):
    """The real deployment, with the driver pointed at a runner wrapper that ignores SIGHUP and, with
    `own_session`, leaves the adb shell's process group, as on a phone, where adbd's hang-up on a
    dropped link reaches the shell alone (the virtual device SIGKILLs the shell's whole group)."""
    real = deploy_harness_factory(workspace)
    calls: list[int] = []

    def deploy(t, models):  # type: ignore[no-untyped-def]
        calls.append(1)
        dep = real(t, models)
        wrapper = tmp_path / "edgebench_runner"
        setsid = "setsid " if own_session else ""
        wrapper.write_text(f"#!/system/bin/sh\ntrap '' HUP\nexec {setsid}{dep.bin_dir}/edgebench_runner \"$@\"\n")
        t.device.push(wrapper, t.device_path(f"{HANG_BIN}/edgebench_runner"), 0o755)
        return dataclasses.replace(dep, bin_dir=t.device_path(HANG_BIN))

    return deploy, calls


def _model() -> ModelFile:
    return ModelFile(ADD, ADD.name, file_sha256(ADD), ADD.stat().st_size)


def test_a_hung_harness_is_a_timeout_and_is_killed_on_the_device(lab, tmp_path):
    target, workspace = lab
    deploy, _calls = _hanging_deploy(target, workspace, tmp_path)
    model = _model()
    dep = deploy(target, [model])
    args = ["--model", target.device_path(execute.model_device_path(model)), "--lib", dep.library,
            "--warmup-runs", "0", "--runs", "100000", "--min-seconds", "0", "--run-delay-ms", "1000"]
    env = {"EDGEBENCH_SYSROOT": target.sysroot, "EDGEBENCH_BIN_DIR": dep.bin_dir}
    started = time.monotonic()
    with pytest.raises(DeviceError) as caught:
        target.run_driver("hung/one", args, env, HANG_TIMEOUT_S, tmp_path / "results")
    assert not isinstance(caught.value, DeviceConnectionError), caught.value  # the device never left
    assert f"did not finish within {HANG_TIMEOUT_S:.0f} s" in str(caught.value)
    assert target.name in str(caught.value) and "driver.sh" in str(caught.value)  # names serial and command
    assert time.monotonic() - started < HANG_TIMEOUT_S + 30
    assert _runners_on(target) == ""


def test_a_hung_run_in_a_session_is_stored_failed_once_without_reconnect_or_redeploy(lab, tmp_path, monkeypatch):
    target, workspace = lab
    protocol = resolve("smoke", runs=100000, warmup=0, run_delay_ms=1000)
    # The run's timeout comes from the protocol (150 s x 1.5 + margin): bring it down to a few seconds.
    full = protocol.effective.warmup_seconds + protocol.effective.max_seconds * 1.5
    monkeypatch.setattr(execute, "RUN_TIMEOUT_MARGIN_S", HANG_TIMEOUT_S - full)
    deploy, deploys = _hanging_deploy(target, workspace, tmp_path)
    reconnects: list[int] = []
    real_reconnect = target.reconnect
    monkeypatch.setattr(target, "reconnect", lambda: reconnects.append(1) or real_reconnect())
    stages: list[str] = []
    model = _model()
    plan = SessionPlan(session="hung-session", protocol=protocol, models=[model], threads=[1],
                       accelerators=["cpu"], cpu_mask=None, done={}, reconnect_timeout_s=60)
    store = ResultsStore(workspace.results_db)
    store.add_session("hung-session", started_at_utc=execute.utc_now(), command="test", host="test",
                      version="test")
    store.upsert_variant(model.sha256, model.name, model.size_bytes, {"path": str(model.path)})
    try:
        worker = DeviceWorker(target, plan, store=store, workspace=workspace, deploy=deploy, stop=threading.Event(),
                              on_stage=lambda _run, _t, stage: stages.append(stage), on_record=lambda _r: None)
        started = time.monotonic()
        report = worker.run()
    finally:
        store.close()
    (record,) = report.records
    assert record.status == "failed" and "did not finish within" in (record.error or ""), record.error
    assert "disconnect" not in (record.error or "") and "connection dropped" not in (record.error or "")
    assert deploys == [1] and reconnects == [], stages  # one attempt: no wait for the device, no redeploy
    assert not any(s.startswith("waiting for device") for s in stages), stages
    assert report.problem is None
    assert time.monotonic() - started < HANG_TIMEOUT_S + 60
    assert _runners_on(target) == ""


def test_after_a_real_drop_the_interrupted_attempt_is_killed_before_the_redo(lab, tmp_path):
    """The link drops mid-run and comes back; the runner kept going on the device (adbd's hang-up
    does not reach it). Before the redo deploys and runs again, nothing of the first attempt runs."""
    from edgebench.cli.main import main

    target, workspace = lab
    hanging, _ = _hanging_deploy(target, workspace, tmp_path, own_session=True)
    real = deploy_harness_factory(workspace)
    at_redeploy: list[str] = []

    def deploy(t, models):  # type: ignore[no-untyped-def]
        if not at_redeploy and not getattr(deploy, "first_done", False):
            deploy.first_done = True  # type: ignore[attr-defined]
            dep = hanging(t, models)
            assert main(["--workspace", str(workspace.root), "virtual-device", "fault", t.name,
                         "--drop-after-seconds", "2", "--come-back-after", "3"]) == 0
            return dep
        at_redeploy.append(_runners_on(t))  # what still runs when the redo begins
        return real(t, models)

    protocol = resolve("smoke", runs=100, warmup=0, run_delay_ms=200)  # ~20 s of runs
    model = _model()
    store = ResultsStore(workspace.results_db)
    store.add_session("drop-session", started_at_utc=execute.utc_now(), command="test", host="test", version="test")
    store.upsert_variant(model.sha256, model.name, model.size_bytes, {"path": str(model.path)})
    stages: list[str] = []
    plan = SessionPlan(session="drop-session", protocol=protocol, models=[model], threads=[1], accelerators=["cpu"],
                       cpu_mask=None, done={}, reconnect_timeout_s=60)
    try:
        worker = DeviceWorker(target, plan, store=store, workspace=workspace, deploy=deploy, stop=threading.Event(),
                              on_stage=lambda _run, _t, stage: stages.append(stage), on_record=lambda _r: None)
        report = worker.run()
    finally:
        store.close()
        main(["--workspace", str(workspace.root), "virtual-device", "fault", target.name, "--clear"])
    assert any(s.startswith("waiting for device") for s in stages), stages  # a real drop: waited for
    assert at_redeploy == [""], at_redeploy
    (record,) = report.records
    assert record.status == "ok", record.error
