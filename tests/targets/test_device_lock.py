"""The cross-host device lock (issue #11 B11) on a virtual device, with a stale limit of seconds:
a holder heartbeats from a background thread for as long as it holds the lock, so a long idle stretch
(a battery run, a cool-down) never makes it look stale; an empty or half-written owner.json is a lock
being written, judged by its age, never stale because it is empty."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import pytest

from edgebench.targets import locks
from edgebench.targets.locks import DeviceBusyError
from edgebench.devices.adb import AdbServer
from edgebench.targets.adb import LOCK_DIR, AdbTarget
from tests.virtual.helpers import cli_lab

STALE_S = 3
THEIRS = {"host": "lab-host-7", "pid": 4242, "user": "ana", "session": "theirs", "since_utc": "now"}
OURS = {"host": "lab-host-8", "pid": 99, "user": "bo", "session": "ours", "since_utc": "now"}


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory, harness_cache: Path) -> Iterator[str]:
    with cli_lab(tmp_path_factory.mktemp("lock"), harness_cache) as (_adb, serials):
        yield serials[0]


@pytest.fixture
def short_stale_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EDGEBENCH_LOCK_STALE_S", raising=False)
    monkeypatch.setattr(locks, "STALE_AFTER_S", STALE_S)


def _target(serial: str) -> AdbTarget:
    return AdbTarget(AdbServer().device(serial))  # one object per "host"


def _shell(serial: str, command: str) -> str:
    return _target(serial).device.shell(command).stdout


def test_a_lock_held_idle_past_the_stale_limit_is_still_held(serial, short_stale_limit):
    holder = _target(serial)
    holder.acquire_device_lock(THEIRS)
    try:
        time.sleep(STALE_S * 2.5)  # no harness command at all, as during a battery run's cool-down
        with pytest.raises(DeviceBusyError, match="ana@lab-host-7 pid 4242"):
            _target(serial).acquire_device_lock(OURS)
        heartbeat = holder.device_lock.heartbeat
        assert heartbeat is not None and heartbeat.alive and heartbeat.beats >= 3
    finally:
        holder.release_device_lock()
    assert not heartbeat.alive  # stopped on release
    assert _shell(serial, f"ls -d {LOCK_DIR} 2>/dev/null").strip() == ""
    other = _target(serial)
    other.acquire_device_lock(OURS)  # free again at once
    other.release_device_lock()


@pytest.mark.parametrize("content", ["", '{"host": "lab-ho'], ids=["empty", "half-written"])
def test_an_unfinished_owner_file_is_a_lock_being_taken_not_a_stale_one(serial, short_stale_limit, content):
    _shell(serial, f"mkdir -p {LOCK_DIR} && printf %s '{content}' > {LOCK_DIR}/owner.json")
    try:
        with pytest.raises(DeviceBusyError, match="being written"):
            _target(serial).acquire_device_lock(OURS)
        # Judged by age like any lock: one its writer abandoned long ago is stale and taken over.
        _shell(serial, f"touch -d 2000-01-01T00:00:00 {LOCK_DIR}")
        taker = _target(serial)
        taker.acquire_device_lock(OURS)
        assert '"session": "ours"' in _shell(serial, f"cat {LOCK_DIR}/owner.json")
        taker.release_device_lock()
    finally:
        _shell(serial, f"rm -rf {LOCK_DIR}")
