"""A lab on this host: a private adb server (both adb versions) and virtual devices started through the CLI."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from edgebench.cli.main import main
from tests.virtual.helpers import ADB_BINARIES, PrivateAdb, free_port


@dataclass
class Lab:
    adb: PrivateAdb
    workspace: Path
    serials: list[str]

    def cli(self, *argv: str) -> int:
        return main(["--workspace", str(self.workspace), *argv])


@pytest.fixture(scope="module", params=sorted(ADB_BINARIES))
def lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
        harness_cache: Path) -> Iterator[Lab]:
    from edgebench.virtual.sandbox import probe

    reason = probe()
    if reason is not None:
        pytest.skip(f"virtual devices cannot run here: {reason}")
    adb = PrivateAdb(ADB_BINARIES[request.param], free_port())
    adb.check("start-server")
    workspace = tmp_path_factory.mktemp("lab")
    saved = {k: os.environ.get(k) for k in ("ADB_SERVER_SOCKET", "EDGEBENCH_HARNESS_CACHE", "ANDROID_SERIAL")}
    os.environ["ADB_SERVER_SOCKET"] = f"tcp:127.0.0.1:{adb.port}"
    os.environ["EDGEBENCH_HARNESS_CACHE"] = str(harness_cache)
    os.environ.pop("ANDROID_SERIAL", None)
    lab = Lab(adb, workspace, [])
    try:
        assert lab.cli("virtual-device", "start", "--count", "2") == 0
        lab.serials = [line.split()[0] for line in adb.check("devices").splitlines()[1:] if line.strip()]
        yield lab
    finally:
        lab.cli("virtual-device", "stop", "--all")
        adb.run("kill-server")
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
