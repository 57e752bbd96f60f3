"""A virtual phone whose gauge reports mA with the inverted sign (huawei-mate-20-like), behind a private adb."""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from edgebench.cli.main import main
from tests.virtual.helpers import ADB_BINARIES, PrivateAdb, free_port


@dataclass
class Phone:
    adb: PrivateAdb
    workspace: Path
    serial: str

    def cli(self, *argv: str) -> int:
        return main(["--workspace", str(self.workspace), *argv])

    def shell(self, command: str) -> str:
        return self.adb.check("-s", self.serial, "shell", command)

    def env(self) -> dict[str, str]:
        return dict(os.environ, ADB_SERVER_SOCKET=f"tcp:127.0.0.1:{self.adb.port}",
                    EDGEBENCH_WORKSPACE=str(self.workspace))


@pytest.fixture(scope="module")
def phone(tmp_path_factory: pytest.TempPathFactory, harness_cache: Path) -> Iterator[Phone]:
    from edgebench.virtual.sandbox import probe

    if probe() is not None:
        pytest.skip(f"virtual devices cannot run here: {probe()}")
    adb = PrivateAdb(ADB_BINARIES[sorted(ADB_BINARIES)[0]], free_port())
    adb.check("start-server")
    workspace = tmp_path_factory.mktemp("battery")
    env = {"ADB_SERVER_SOCKET": f"tcp:127.0.0.1:{adb.port}", "EDGEBENCH_HARNESS_CACHE": str(harness_cache)}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    phone = Phone(adb, workspace, "")
    try:
        assert phone.cli("virtual-device", "start", "--profile", "huawei-mate-20-like", "--battery-level", "80") == 0
        phone.serial = next(l.split()[0] for l in adb.check("devices").splitlines()[1:] if l.strip())
        yield phone
    finally:
        phone.cli("virtual-device", "stop", "--all")
        adb.run("kill-server")
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
