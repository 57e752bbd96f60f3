"""Virtual phones behind private adbs: one whose gauge reports mA with the inverted sign
(huawei-mate-20-like), and one with ODPM power rails (pixel-8-like: µA, charging positive)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from edgebench.cli.main import main
from tests.virtual.helpers import PrivateAdb, cli_lab


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
    workspace = tmp_path_factory.mktemp("battery")
    with cli_lab(workspace, harness_cache, "--profile", "huawei-mate-20-like", "--battery-level", "80") as (adb, serials):
        yield Phone(adb, workspace, serials[0])


@pytest.fixture(scope="module")
def pixel(tmp_path_factory: pytest.TempPathFactory, harness_cache: Path) -> Iterator[Phone]:
    workspace = tmp_path_factory.mktemp("rails")
    with cli_lab(workspace, harness_cache, "--profile", "pixel-8-like", "--battery-level", "80") as (adb, serials):
        yield Phone(adb, workspace, serials[0])
