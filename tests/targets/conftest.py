"""A lab on this host: a private adb server (both adb versions) and virtual devices started through the CLI."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from edgebench.cli.main import main
from tests.virtual.helpers import ADB_BINARIES, PrivateAdb, cli_lab


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
    workspace = tmp_path_factory.mktemp("lab")
    with cli_lab(workspace, harness_cache, "--count", "2", adb_binary=ADB_BINARIES[request.param]) as (adb, serials):
        yield Lab(adb, workspace, serials)
