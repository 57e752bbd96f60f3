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


STALE_MTIME = "2000-01-01T00:00:00"  # a heartbeat long past every stale limit
STALE_EPOCH_S = 946684800  # STALE_MTIME as seconds (the device's TZ is UTC)


def _plant_stale_lock(serial: str, owner: str) -> None:
    _shell(serial, f"mkdir -p {LOCK_DIR} && printf %s '{owner}' > {LOCK_DIR}/owner.json && "
                   f"touch -d {STALE_MTIME} {LOCK_DIR}")


def test_two_hosts_taking_over_one_stale_lock_leave_exactly_one_holder(serial, short_stale_limit):
    """Hosts A and B both judge a crashed host's lock stale; B's takeover command arrives after A has
    already taken the lock over (B's link is slower). B must not remove A's fresh lock: it gets
    DeviceBusyError naming A, and A's owner.json is untouched."""
    _plant_stale_lock(serial, '{"host": "crashed-host", "pid": 1, "user": "x", "session": "old"}')
    host_a, host_b = _target(serial), _target(serial)
    sent_by_b: list[str] = []
    b_shell = host_b.device.shell

    def slow_b_shell(command, **kwargs):  # type: ignore[no-untyped-def]
        sent_by_b.append(str(command))
        if len(sent_by_b) == 3:
            # B's 3rd command: its mkdir failed and it read the stale holder; this is its takeover.
            # A takes the lock over (its own mkdir, look, takeover, mkdir) before it reaches the device.
            host_a.acquire_device_lock(OURS)
        return b_shell(command, **kwargs)

    host_b.device.shell = slow_b_shell  # type: ignore[method-assign]
    try:
        with pytest.raises(DeviceBusyError, match="bo@lab-host-8 pid 99"):
            host_b.acquire_device_lock(THEIRS)
        assert len(sent_by_b) >= 3, sent_by_b  # the race was really run
        assert host_a.device_lock.heartbeat is not None and host_b.device_lock.heartbeat is None
        owner_a = _shell(serial, f"cat {LOCK_DIR}/owner.json")
        assert '"session": "ours"' in owner_a and '"token": ' in owner_a
        # Nothing left behind by either takeover: no moved-away folders.
        assert _shell(serial, f"ls -a {LOCK_DIR}/..").split().count(".lock") == 1
        assert ".lock." not in _shell(serial, f"ls -a {LOCK_DIR}/..")
    finally:
        host_a.release_device_lock()
        host_b.release_device_lock()
        _shell(serial, f"rm -rf {LOCK_DIR} {LOCK_DIR}.*")
    assert _shell(serial, f"ls -d {LOCK_DIR} 2>/dev/null").strip() == ""


def test_a_host_whose_lock_was_taken_over_neither_refreshes_nor_releases_the_new_lock(serial, short_stale_limit):
    """A's lock was taken over by another host (A's link was down past the stale limit): A's heartbeat
    must not refresh the new owner's lock, and A's release must leave it in place."""
    host_a = _target(serial)
    host_a.acquire_device_lock(OURS)
    try:
        theirs = '{"host": "lab-host-7", "pid": 4242, "user": "ana", "session": "theirs", "token": "t7"}'
        _shell(serial, f"rm -rf {LOCK_DIR} && mkdir {LOCK_DIR} && printf %s '{theirs}' > {LOCK_DIR}/owner.json "
                       f"&& touch -d {STALE_MTIME} {LOCK_DIR}")
        time.sleep(STALE_S / locks.HEARTBEATS_PER_STALE_LIMIT * 2.5)  # two beats of A's heartbeat at least
        host_a.refresh_device_lock()
        assert int(_shell(serial, f"stat -c %Y {LOCK_DIR}")) == STALE_EPOCH_S  # not refreshed by A
        host_a.release_device_lock()
        assert _shell(serial, f"cat {LOCK_DIR}/owner.json") == theirs
        assert ".lock." not in _shell(serial, f"ls -a {LOCK_DIR}/..")
    finally:
        host_a.release_device_lock()
        _shell(serial, f"rm -rf {LOCK_DIR} {LOCK_DIR}.*")


def test_a_host_releases_its_own_lock(serial, short_stale_limit):
    host_a = _target(serial)
    host_a.acquire_device_lock(OURS)
    host_a.release_device_lock()
    listing = _shell(serial, f"ls -a {LOCK_DIR}/..")
    assert ".lock" not in listing  # neither the lock nor a moved-away copy of it
