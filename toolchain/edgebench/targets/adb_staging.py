"""Staging files on an adb device: push only what changed, and keep a manifest of what was pushed.

A manifest of what was pushed is kept on the device, so re-staging an unchanged file costs one manifest
read, not a transfer or a re-hash; a change is pushed with the manifest on one sync session, without a
shell round trip. Its own module because the manifest's rules (when a file is listed, what a damaged
manifest costs, what is read back after a push) are a job apart from running the harness.
"""
from __future__ import annotations

import json
import os
import posixpath
import time
from pathlib import Path
from typing import Mapping, Sequence

from edgebench.devices.adb import AdbDevice, command_line
from edgebench.devices.adb_wire import SyncSender
from edgebench.errors import DeviceError
from edgebench.targets.adb_paths import DEVICE_ROOT, device_path
from edgebench.targets.staging import cached_sha256, file_sha256, remember_sha256

MANIFEST = f"{DEVICE_ROOT}/.edgebench-staged.json"
EXECUTABLE_PREFIXES = ("bin/",)


def _is_program(relative: str) -> bool:
    return relative.startswith(EXECUTABLE_PREFIXES) or relative.endswith(".sh")


def _manifest_bytes(manifest: Mapping[str, object]) -> bytes:
    return json.dumps(manifest, sort_keys=True, ensure_ascii=False).encode()


def _changed(path: Path, before: os.stat_result) -> bool:
    now = path.stat()
    return (now.st_ino, now.st_size, now.st_mtime_ns) != (before.st_ino, before.st_size, before.st_mtime_ns)


class AdbStaging:
    """The files edgebench staged under DEVICE_ROOT on one device (`name`: its serial, for errors)."""

    def __init__(self, device: AdbDevice, name: str) -> None:
        self.device = device
        self.name = name

    def _remote_state(self, relatives: Sequence[str]) -> tuple[dict[str, dict[str, object]], dict[str, int]]:
        """The manifest of what edgebench pushed, and the sizes of those regular files now.

        Read over `sync:` (STAT of every file and RECV of the manifest, asked in one write), not a shell: one
        round trip, no process on the device, each of which costs ~3-5 ms. adbd makes a pushed file's
        folders itself when it has `fixed_push_mkdir` (Android 7 on); older ones get them made here, as
        `adb push` does."""
        if "fixed_push_mkdir" not in self.device.features():
            folders = sorted({posixpath.dirname(device_path(r)) for r in relatives})
            self.device.shell(["mkdir", "-p", *folders])
        found, manifest_text = self.device.stat_and_read([device_path(r) for r in relatives], MANIFEST)
        try:
            manifest = json.loads(manifest_text) if manifest_text and manifest_text.strip() else {}
        except ValueError:
            manifest = {}  # a damaged (or half-written) manifest only costs a re-push
        if not isinstance(manifest, dict):
            manifest = {}
        sizes = {}
        for relative in relatives:
            remote = found[device_path(relative)]
            if remote is not None and remote.is_regular:
                sizes[relative] = remote.size_bytes
        return manifest, sizes

    def stage(self, files: Mapping[str, Path], *, verify: bool = False) -> None:
        """Push what changed and record it in the manifest, all on one sync session: no shell, no process
        on the device.

        The manifest is what says a file is staged, so it never lists a file while that file is sent:
        a changed file's entry is dropped (the manifest re-sent without it) before the file goes out, and
        the manifest listing it is sent after it. adbd serves a session's requests in order and ends the
        session at the first FAIL, so a failed push leaves the file unlisted and is sent again next time;
        a manifest cut off mid-write is not JSON, which costs a re-push of everything, never a wrong skip.
        """
        manifest, sizes = self._remote_state(list(files))
        changed: list[tuple[str, Path, os.stat_result]] = []
        for relative, source in files.items():
            before = source.stat()
            entry = manifest.get(relative)
            if entry and sizes.get(relative) == before.st_size:
                # Only a file that may be unchanged is hashed before (a cached hash after its first push).
                digest = file_sha256(source)
                remote = device_path(relative)
                if entry.get("sha256") == digest and (not verify or self._remote_sha256(remote) == digest):
                    continue
            changed.append((relative, source, before))
        if not changed:
            return
        sent = self.device.push_batch(
            f"adb -s {self.name} push {command_line([str(source) for _, source, _ in changed])} {DEVICE_ROOT}",
            lambda sender: self._send_changed(sender, manifest, changed))
        self.check_sent(changed)
        for relative, source, before in changed:
            remember_sha256(source, before, sent[relative])

    def check_sent(self, changed: Sequence[tuple[str, Path, os.stat_result]]) -> None:
        """One sync round trip: each file sent has its size and, for programs, its x bit on the device. adbd
        writes in place without truncating where it cannot unlink first (a folder left by an `adb root`
        session), which would leave an old longer file's tail after the new bytes."""
        remotes = {device_path(relative): (relative, source) for relative, source, _ in changed}
        found = self.device.stat_files(list(remotes))
        for remote, (relative, source) in remotes.items():
            got, size = found.get(remote), source.stat().st_size
            wants_x = _is_program(relative)
            if got is None or got.size_bytes != size or (wants_x and not got.mode & 0o100):
                shown = "missing" if got is None else f"{got.size_bytes} bytes, mode {got.mode & 0o7777:o}"
                raise DeviceError(self.name, f"{remote} does not hold what was pushed: {shown} on the device, "
                                             f"{size} bytes{' and executable' if wants_x else ''} sent from {source}. "
                                             f"If adb ran as root once, remove {DEVICE_ROOT} as root "
                                             f"(adb root; adb shell rm -rf {DEVICE_ROOT}; adb unroot) and try again",
                                  command=f"adb -s {self.name} push {source} {remote}")

    def _send_changed(self, sender: SyncSender, manifest: Mapping[str, dict[str, object]],
                      changed: Sequence[tuple[str, Path, os.stat_result]]) -> dict[str, str]:
        """The SENDs of stage() (safe to run again on a broken link); the sha256 of each file as sent."""
        listed = {r: e for r, e in manifest.items() if r not in {relative for relative, _, _ in changed}}
        if len(listed) < len(manifest):  # a file listed now is about to change: unlist it first
            sender.send_bytes(_manifest_bytes(listed), MANIFEST, 0o644, int(time.time()))
        sent: dict[str, str] = {}
        for relative, source, before in changed:
            remote = device_path(relative)
            # adbd applies the SEND's mode itself (fchmod after writing), as `adb push` keeps a script's x bit.
            mode = 0o755 if _is_program(relative) else 0o644
            digest = cached_sha256(source, before)
            if digest is not None:  # hashed already (a session hashes its models first): just send it
                sender.send_file(source, remote, mode)
            if digest is None or _changed(source, before):  # the file changed while it went out: send it again
                # The hash of the bytes actually sent, computed while they go out: one pass over the file.
                digest = sender.send_file(source, remote, mode, sha256=True)
            assert digest is not None
            sent[relative] = digest
            listed[relative] = {"sha256": digest, "size": before.st_size}
        sender.send_bytes(_manifest_bytes(listed), MANIFEST, 0o644, int(time.time()))
        return sent

    def _remote_sha256(self, remote: str) -> str | None:
        result = self.device.shell(["sha256sum", remote])
        return result.stdout.split()[0] if result.exit_code == 0 and result.stdout.strip() else None
