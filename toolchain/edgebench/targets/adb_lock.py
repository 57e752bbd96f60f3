"""The device lock of an adb device: a lock folder on the device, so two hosts of a lab never measure
one phone at once.

`mkdir` of the folder is atomic on every filesystem Android uses, so exactly one host wins; the
winner writes its owner record into it and heartbeats it (touches the folder) from a background
thread until release, so a long session (a battery run plus its cool-down) never looks stale. The
rules for stale locks are targets/locks.py's; this module is what they mean on the device.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Mapping

from edgebench.devices.adb import AdbDevice, quote
from edgebench.targets.adb_paths import DEVICE_ROOT

if TYPE_CHECKING:
    from edgebench.targets.locks import LockHeartbeat

LOCK_DIR = f"{DEVICE_ROOT}/.lock"


def describe_lock_holder(holder: Mapping[str, object] | None) -> str:
    from edgebench.targets.locks import describe_owner

    return describe_owner(dict(holder)) if holder else "another host (its lock is being written right now)"


class AdbDeviceLock:
    """The lock folder LOCK_DIR on one device (`name`: its serial, for errors and the heartbeat's thread)."""

    def __init__(self, device: AdbDevice, name: str) -> None:
        self.device = device
        self.name = name
        self._owned = False
        self.heartbeat: LockHeartbeat | None = None  # while the lock is held

    def acquire(self, owner: Mapping[str, object]) -> None:
        """Take the lock folder (other hosts of a lab see it) and heartbeat it from a background
        thread until release, so a long session (a battery run plus its cool-down) never looks stale."""
        from edgebench.targets import locks

        payload = json.dumps(owner)
        for _attempt in range(2):
            # mkdir is atomic on every filesystem Android uses: exactly one host wins.
            result = self.device.shell(f"mkdir -p {quote(DEVICE_ROOT)} && mkdir {quote(LOCK_DIR)} 2>/dev/null && "
                                       f"printf %s {quote(payload)} > {quote(LOCK_DIR + '/owner.json')}")
            if result.exit_code == 0:
                self._owned = True
                self.heartbeat = locks.LockHeartbeat(self._beat, name=f"lock-heartbeat-{self.name}")
                return
            holder, age = self._holder()
            if holder is None and age is None:
                continue  # released between our mkdir and this look: try again
            if locks.is_stale(holder, age):
                # Its holder died (same host) or stopped heartbeating: take it over.
                self.device.shell(["rm", "-rf", LOCK_DIR])
                continue
            who = describe_lock_holder(holder)
            raise locks.DeviceBusyError(self.name, f"device is being measured by {who} (lock refreshed {age} s ago). "
                                        "Wait for that run, or, if its holder is gone, the lock turns stale after "
                                        f"{locks.stale_after_s():g} s without a heartbeat.", command="lock")
        raise locks.DeviceBusyError(self.name, "could not take the device lock", command="lock")

    def _holder(self) -> tuple[dict[str, object] | None, int | None]:
        """The lock's owner record (None when empty or half-written) and the seconds since the lock
        folder was last touched by its holder's heartbeat (None when unreadable)."""
        info = self.device.shell(f"cat {quote(LOCK_DIR + '/owner.json')} 2>/dev/null; echo; "
                                 f"echo $(( $(date +%s) - $(stat -c %Y {quote(LOCK_DIR)}) ))")
        text, _, age_text = info.stdout.rstrip().rpartition("\n")
        try:
            holder = json.loads(text) if text.strip() else None
        except ValueError:
            holder = None  # being written right now by the host that won the mkdir
        age_text = age_text.strip()
        age = int(age_text) if age_text.lstrip("-").isdigit() else None
        return (holder if isinstance(holder, dict) else None), age

    def _beat(self) -> None:
        # touch on the folder moves its mtime, which other hosts read as the heartbeat.
        self.device.shell(f"[ -d {quote(LOCK_DIR)} ] && touch {quote(LOCK_DIR)}", retry=False, timeout=15)

    def refresh(self) -> None:
        if self._owned:
            self._beat()

    def release(self) -> None:
        heartbeat, self.heartbeat = self.heartbeat, None
        if heartbeat is not None:
            heartbeat.stop()
        if self._owned:
            self._owned = False
            self.device.shell(["rm", "-rf", LOCK_DIR])
