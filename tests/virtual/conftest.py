"""Fixtures for virtual-device tests (helpers live in tests/virtual/helpers.py)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from edgebench.virtual import registry
from tests.virtual.helpers import ADB_BINARIES, PrivateAdb, free_port, start_device, stop_all


@pytest.fixture(scope="session")
def sandbox_available() -> None:
    from edgebench.virtual.sandbox import probe

    reason = probe()
    if reason is not None:
        pytest.skip(f"virtual devices cannot run here: {reason}")
    if os.geteuid() != 0:
        # Without host root the device shell is uid 0 inside the device; these tests check a phone's 2000.
        pytest.skip("virtual-device tests expect host root (rootless devices run the shell as uid 0 inside)")


@pytest.fixture(scope="module", params=sorted(ADB_BINARIES))
def private_adb(request: pytest.FixtureRequest) -> Iterator[PrivateAdb]:
    server = PrivateAdb(ADB_BINARIES[request.param], free_port())
    server.check("start-server")
    try:
        yield server
    finally:
        server.run("kill-server")


@pytest.fixture(scope="session")
def shared_adb() -> Iterator[PrivateAdb]:
    """One private adb server (adb 36 if present) for the modules that need just one version."""
    if not ADB_BINARIES:
        pytest.skip("no adb binary (adbutils wheel or Debian adb) to test with")
    server = PrivateAdb(ADB_BINARIES.get("adb36-adbutils") or next(iter(ADB_BINARIES.values())), free_port())
    server.check("start-server")
    try:
        yield server
    finally:
        server.run("kill-server")


@pytest.fixture(scope="module")
def virtual_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ws") / registry.REGISTRY_DIR


@pytest.fixture(scope="module")
def device(virtual_root: Path, sandbox_available: None) -> Iterator[registry.DeviceState]:
    """One pixel-8-like x86_64 virtual device per test module, stopped after the module."""
    state = start_device(virtual_root)
    yield state
    stop_all(virtual_root)
