"""The device lock of an adb device: a lock folder on the device, so two hosts of a lab never measure
one phone at once.

`mkdir` of the folder is atomic on every filesystem Android uses, so exactly one host wins; the
winner writes its owner record (with a random token, so no two holders' records are equal) into it
and heartbeats it (touches the folder) from a background thread until release, so a long session (a
battery run plus its cool-down) never looks stale. The rules for stale locks are targets/locks.py's;
this module is what they mean on the device.

No host ever deletes a lock folder it has not checked, in the same device command, to be the one it
means: a stale lock is taken over by renaming it away (`mv` is atomic: of two hosts taking over the
same stale lock, one renames it) and deleted only when the renamed folder still holds the owner
record and heartbeat that were judged stale; otherwise it was a fresh lock (another host took it over
first) and is put back. The heartbeat and release act only while the lock's owner record is ours.
Only mkdir, mv, rm, cat, printf, [ ], stat -c %Y, date +%s and touch -c are used (toybox/mksh on
Android, busybox/dash elsewhere).
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

from edgebench.devices.adb import AdbDevice, quote
from edgebench.targets.adb_paths import DEVICE_ROOT

if TYPE_CHECKING:
    from edgebench.targets.locks import LockHeartbeat

LOCK_DIR = f"{DEVICE_ROOT}/.lock"
OWNER_FILE = "owner.json"
ATTEMPTS = 3  # take; take over a stale lock and take; one more when another host's takeover got in between
# Exit codes of the takeover command.
TAKEN_OVER = 0
GONE = 3  # no lock folder to rename any more (released, or another host renamed it first)
NOT_STALE = 4  # the renamed folder was not the stale lock we judged (a fresh one): put back


@dataclass(frozen=True)
class LockLook:
    """What one look at the lock folder saw: its owner record as written (`text`, trailing newlines
    dropped as the shell's $(cat) drops them), parsed (`holder`, None when empty or half-written),
    the folder's mtime (its holder's last heartbeat) and the device clock, both in epoch seconds."""

    text: str
    holder: dict[str, object] | None
    mtime_s: int | None
    now_s: int | None

    @property
    def exists(self) -> bool:
        return self.mtime_s is not None

    @property
    def age_s(self) -> int | None:
        return None if self.mtime_s is None or self.now_s is None else self.now_s - self.mtime_s


def describe_lock_holder(holder: Mapping[str, object] | None) -> str:
    from edgebench.targets.locks import describe_owner

    return describe_owner(dict(holder)) if holder else "another host (its lock is being written right now)"


def _owner_is(folder: str, text: str) -> str:
    """Shell test: the owner record in `folder` is exactly `text`."""
    return f'[ "$(cat {quote(folder + "/" + OWNER_FILE)} 2>/dev/null)" = {quote(text)} ]'


class AdbDeviceLock:
    """The lock folder LOCK_DIR on one device (`name`: its serial, for errors and the heartbeat's thread)."""

    def __init__(self, device: AdbDevice, name: str) -> None:
        self.device = device
        self.name = name
        self._payload: str | None = None  # our owner record as written, while the lock is held
        self.heartbeat: LockHeartbeat | None = None  # while the lock is held

    def acquire(self, owner: Mapping[str, object]) -> None:
        """Take the lock folder (other hosts of a lab see it) and heartbeat it from a background
        thread until release, so a long session (a battery run plus its cool-down) never looks stale."""
        from edgebench.targets import locks

        record = dict(owner)
        record.setdefault("token", secrets.token_hex(8))  # tells our lock from any other holder's
        payload = json.dumps(record)
        for _attempt in range(ATTEMPTS):
            # mkdir is atomic on every filesystem Android uses: exactly one host wins.
            result = self.device.shell(f"mkdir -p {quote(DEVICE_ROOT)} && mkdir {quote(LOCK_DIR)} 2>/dev/null && "
                                       f"printf %s {quote(payload)} > {quote(LOCK_DIR + '/' + OWNER_FILE)}")
            if result.exit_code == 0:
                self._payload = payload
                self.heartbeat = locks.LockHeartbeat(self._beat, name=f"lock-heartbeat-{self.name}")
                return
            look = self._look()
            if not look.exists:
                continue  # released between our mkdir and this look: try again
            if locks.is_stale(look.holder, look.age_s):
                # Its holder died (same host) or stopped heartbeating: take it over, then mkdir again.
                # NOT_STALE (another host took it over first) shows its new holder on the next look.
                self._take_over(look)
                continue
            who = describe_lock_holder(look.holder)
            raise locks.DeviceBusyError(self.name, f"device is being measured by {who} (lock refreshed "
                                        f"{look.age_s} s ago). Wait for that run, or, if its holder is gone, the "
                                        f"lock turns stale after {locks.stale_after_s():g} s without a heartbeat.",
                                        command="lock")
        raise locks.DeviceBusyError(self.name, "could not take the device lock", command="lock")

    def _look(self) -> LockLook:
        """The lock's owner record and mtime and the device clock, in one command."""
        info = self.device.shell(f"cat {quote(LOCK_DIR + '/' + OWNER_FILE)} 2>/dev/null; echo; "
                                 f"echo \"$(stat -c %Y {quote(LOCK_DIR)} 2>/dev/null) $(date +%s)\"")
        text, _, times = info.stdout.rstrip().rpartition("\n")
        text = text.rstrip("\r\n")  # as $(cat ...) reads it on the device (shells without v2 add CRs)
        try:
            holder = json.loads(text) if text.strip() else None
        except ValueError:
            holder = None  # being written right now by the host that won the mkdir
        numbers = [int(n) for n in times.split() if n.isdigit()]
        mtime_s, now_s = (numbers[0], numbers[1]) if len(numbers) == 2 else (None, numbers[0] if numbers else None)
        return LockLook(text, holder if isinstance(holder, dict) else None, mtime_s, now_s)

    def _take_over(self, stale: LockLook) -> int:
        """Rename the stale lock away and delete it, in one command; put it back instead when the
        renamed folder is not the lock judged stale (another host took it over and wrote its own
        record, or its holder heartbeat since). Returns TAKEN_OVER, GONE or NOT_STALE."""
        moved = f"{LOCK_DIR}.stale-{secrets.token_hex(6)}"
        lock, away = quote(LOCK_DIR), quote(moved)
        result = self.device.shell(
            f"mv {lock} {away} 2>/dev/null || exit {GONE}; "
            f"if {_owner_is(moved, stale.text)} && [ \"$(stat -c %Y {away})\" = '{stale.mtime_s}' ]; "
            f"then rm -rf {away}; exit {TAKEN_OVER}; fi; "
            f"[ -e {lock} ] || mv {away} {lock}; exit {NOT_STALE}")
        return result.exit_code

    def _beat(self) -> None:
        # touch on the folder moves its mtime, which other hosts read as the heartbeat; only while
        # the record in it is ours (-c: never create a file where the folder went).
        payload = self._payload
        if payload is not None:
            self.device.shell(f"{_owner_is(LOCK_DIR, payload)} && touch -c {quote(LOCK_DIR)}",
                              retry=False, timeout=15)

    def refresh(self) -> None:
        self._beat()

    def still_held(self) -> bool:
        """True while the owner record in LOCK_DIR is the one we wrote (and always when we hold none)."""
        payload = self._payload
        if payload is None:
            return True
        return self.device.shell(_owner_is(LOCK_DIR, payload), retry=False, timeout=15).exit_code == 0

    def release(self) -> None:
        heartbeat, self.heartbeat = self.heartbeat, None
        if heartbeat is not None:
            heartbeat.stop()
        payload, self._payload = self._payload, None
        if payload is not None:
            # Rename away only our own lock, then delete it; if another host's lock got renamed in
            # the shell's gap between the test and the mv, put it back.
            moved = f"{LOCK_DIR}.release-{secrets.token_hex(6)}"
            lock, away = quote(LOCK_DIR), quote(moved)
            self.device.shell(f"{_owner_is(LOCK_DIR, payload)} && mv {lock} {away} || exit 0; "
                              f"if {_owner_is(moved, payload)}; then rm -rf {away}; "
                              f"else [ -e {lock} ] || mv {away} {lock}; fi")
