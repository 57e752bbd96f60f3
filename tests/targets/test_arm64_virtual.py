"""The ABI path for real: an arm64-v8a virtual device runs the aarch64 harness build under qemu-user."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgebench.cli.main import main
from tests.virtual.helpers import ADB_BINARIES, PrivateAdb, free_port

from ..conftest import REAL_MODELS


@pytest.mark.slow
def test_push_and_run_on_an_arm64_virtual_device(tmp_path: Path, harness_cache: Path, capsys, monkeypatch):
    from edgebench.harness.litert_lib import find_litert_library
    from edgebench.virtual.sandbox import probe

    if probe() is not None:
        pytest.skip(f"virtual devices cannot run here: {probe()}")
    # scripts/setup.sh fetches this runtime; a missing one is a setup error, not a skip.
    find_litert_library("aarch64-linux")
    adb = PrivateAdb(ADB_BINARIES[sorted(ADB_BINARIES)[0]], free_port())
    adb.check("start-server")
    monkeypatch.setenv("ADB_SERVER_SOCKET", f"tcp:127.0.0.1:{adb.port}")
    monkeypatch.setenv("EDGEBENCH_HARNESS_CACHE", str(harness_cache))
    ws = ["--workspace", str(tmp_path)]
    try:
        assert main([*ws, "virtual-device", "start", "--abi", "arm64-v8a"]) == 0
        serial = next(line.split()[0] for line in adb.check("devices").splitlines()[1:] if line.strip())
        assert adb.check("-s", serial, "shell", "getprop", "ro.product.cpu.abi").strip() == "arm64-v8a"
        capsys.readouterr()
        models = [REAL_MODELS / "tflm_simple_add_model.tflite", REAL_MODELS / "tflm_hello_world_float.tflite"]
        code = main([*ws, "push-and-run", *map(str, models), "--target", serial, "--protocol", "smoke", "--json"])
        records = json.loads(capsys.readouterr().out)
        assert code == 0
        for r in records:
            assert r["status"] == "ok" and r["device_kind"] == "virtual" and r["simulated"] is True
        # The harness that ran was the aarch64 build, not the host one.
        from edgebench.harness.build import build_harness

        arm = build_harness("aarch64-linux", out_root=harness_cache).build_id
        host = build_harness("host", out_root=harness_cache).build_id
        assert {r["harness_build_id"] for r in records} == {arm} and arm != host
    finally:
        main([*ws, "virtual-device", "stop", "--all"])
        adb.run("kill-server")
