"""When the runner refuses its arguments it writes no runner.jsonl; its reason (a JSON error line on
its stdout, or its stderr) must reach the run's failure reason on every target (issue #11 A5), not
`stderr: (empty)`. The runner is real and so are the targets: this host and a virtual device."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from edgebench.bench.execute import deploy_harness_factory, model_device_path, read_pulled_run
from edgebench.bench.plan import ModelFile
from edgebench.devices.adb import AdbServer
from edgebench.errors import ParseError
from edgebench.targets.adb import AdbTarget
from edgebench.targets.base import Target
from edgebench.targets.local import LocalTarget
from edgebench.targets.staging import file_sha256
from edgebench.workspace import Workspace
from tests.virtual.helpers import cli_lab

from ..conftest import REAL_MODELS

ADD = REAL_MODELS / "tflm_simple_add_model.tflite"
MODEL = ModelFile(ADD, ADD.name, file_sha256(ADD), ADD.stat().st_size)


@pytest.fixture(scope="module")
def device(tmp_path_factory: pytest.TempPathFactory, harness_cache: Path) -> Iterator[tuple[AdbTarget, Workspace]]:
    root = tmp_path_factory.mktemp("refusal")
    with cli_lab(root, harness_cache) as (_adb, serials):
        yield AdbTarget(AdbServer().device(serials[0])), Workspace.resolve(root)


def _refused_reason(target: Target, workspace: Workspace, bad: list[str], results: Path) -> str:
    dep = deploy_harness_factory(workspace)(target, [MODEL])
    args = ["--model", target.device_path(model_device_path(MODEL)), "--lib", dep.library, *bad]
    env = {"EDGEBENCH_SYSROOT": target.sysroot, "EDGEBENCH_BIN_DIR": dep.bin_dir}
    result = target.run_driver("refusal/one", args, env, 120, results)
    target.finish_run("refusal/one", keep=False)
    assert result.exit_code == 2 and not (results / "runner.jsonl").exists()
    with pytest.raises(ParseError) as caught:
        read_pulled_run(result, target.sysroot)
    return str(caught.value)


@pytest.mark.parametrize("bad, said", [(["--threads", "100000"], "bad value '100000' for --threads"),
                                       (["--min-seconds", "nan"], "bad value 'nan' for --min-seconds"),
                                       (["--no-such-flag"], "unknown option '--no-such-flag'")])
def test_the_runners_reason_reaches_the_failure_on_this_host(workspace, tmp_path, bad, said):
    ws = Workspace.resolve(workspace)
    reason = _refused_reason(LocalTarget(ws.local_device_root), ws, bad, tmp_path / "results")
    assert "no runner.jsonl (exit 2)" in reason and said in reason and "(empty)" not in reason


def test_the_runners_reason_reaches_the_failure_on_a_device(device, tmp_path):
    target, ws = device
    reason = _refused_reason(target, ws, ["--run-delay-ms", "nan"], tmp_path / "results")
    assert "runner.stderr: edgebench_runner: usage: bad value 'nan' for --run-delay-ms" in reason


def test_a_runner_killed_mid_run_is_failed_with_what_it_printed(workspace, tmp_path):
    """SIGKILL (as the OOM killer sends) leaves a runner.jsonl without an end line; the record's error
    says so and carries the end of the runner's own output."""
    import os
    import signal
    import threading
    import time

    from edgebench.api import push_and_run

    stop = threading.Event()

    def kill_our_runner() -> None:  # only the runner this test started: its command line names our workspace
        while not stop.is_set():
            for proc in Path("/proc").glob("[0-9]*"):
                try:
                    argv = (proc / "cmdline").read_bytes().split(b"\0")
                except OSError:
                    continue
                if argv and argv[0].endswith(b"edgebench_runner") and str(workspace).encode() in b" ".join(argv):
                    time.sleep(1.0)  # well into its timed loop
                    os.kill(int(proc.name), signal.SIGKILL)
                    return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_our_runner, daemon=True)
    killer.start()
    try:
        result = push_and_run([str(ADD)], target="local", protocol="smoke", runs=10**8, min_seconds=120,
                              workspace=workspace)
    finally:
        stop.set()
        killer.join(10)
    (record,) = result.records
    assert record.status == "failed"
    assert "no end line" in (record.error or "") and "\n  output: " in (record.error or ""), record.error
    assert "runner.stderr: " in (record.error or ""), record.error
