"""Files moving through a real adb server while the gauge records: no gauge period may be lost.

Before: the sync service took uid 2000 for the whole device process, the gauge thread included,
so gauge periods failed with PermissionError while files moved (energy figures skewed).
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterator

import pytest

from edgebench.virtual import control, registry
from tests.virtual.helpers import PrivateAdb, start_device, stop_all

pytestmark = pytest.mark.usefixtures("sandbox_available")
TRANSFER_S = 6.0


@pytest.fixture(scope="module")
def device(virtual_root: Path, sandbox_available: None, shared_adb: PrivateAdb) -> Iterator[registry.DeviceState]:
    state = start_device(virtual_root)
    shared_adb.check("connect", state.config.adb_serial)
    yield state
    shared_adb.run("disconnect", state.config.adb_serial)
    stop_all(virtual_root)


def gauge_periods(state: registry.DeviceState) -> dict[str, int]:
    return control.request(state.layout.folder, {"op": "status"})["gauge_periods"]


def test_push_pull_list_stat_during_a_gauge_recording_lose_no_period(
        device: registry.DeviceState, shared_adb: PrivateAdb, tmp_path: Path) -> None:
    serial = device.config.adb_serial
    outgoing = tmp_path / "out"
    outgoing.mkdir()
    for i in range(40):
        (outgoing / f"f{i}.bin").write_bytes(os.urandom(2048 + i))
    log = device.layout.folder / "server.log"
    log_start = log.stat().st_size if log.exists() else 0
    before, started = gauge_periods(device), time.monotonic()
    rounds = 0
    while time.monotonic() - started < TRANSFER_S:
        shared_adb.check("-s", serial, "push", str(outgoing), f"/data/local/tmp/gauge_sync/r{rounds % 3}")
        shared_adb.check("-s", serial, "ls", "/data/local/tmp/gauge_sync")  # LIST
        shared_adb.check("-s", serial, "pull", f"/data/local/tmp/gauge_sync/r{rounds % 3}",
                         str(tmp_path / f"back{rounds}"))  # STAT + LIST + RECV
        rounds += 1
    elapsed, after = time.monotonic() - started, gauge_periods(device)
    pulled = tmp_path / f"back{rounds - 1}" / "out" if (tmp_path / f"back{rounds - 1}" / "out").is_dir() \
        else tmp_path / f"back{rounds - 1}"
    assert sorted(p.name for p in pulled.iterdir()) == sorted(p.name for p in outgoing.iterdir())

    failed = after["failed"] - before["failed"]
    done, skipped = after["done"] - before["done"], after["skipped"] - before["skipped"]
    log_text = log.read_bytes()[log_start:].decode(errors="replace") if log.exists() else ""
    assert failed == 0 and "gauge period failed" not in log_text, \
        f"{failed} gauge periods failed in {elapsed:.1f} s of transfers ({rounds} rounds):\n{log_text[-2000:]}"
    period_s = device_period_s(device)
    # Every period is accounted for: run, or skipped because the host was too busy (counted, not lost silently).
    assert done + skipped >= 0.8 * elapsed / period_s, (done, skipped, elapsed)
    staging = device.layout.folder / ".host-staging"
    first = set(os.listdir(staging))
    time.sleep(0.5)
    assert first & set(os.listdir(staging)) == set()  # a write in flight may show once; none stays behind


def device_period_s(state: registry.DeviceState) -> float:
    from edgebench.virtual.profiles import load_profile

    return load_profile(state.config.profile).battery.update_period_ms / 1000.0
