"""The outbox: measured runs kept on the host's disk until the results store has them.

A run goes in before its store write is tried, so neither a lost database nor a killed process loses
what a device measured. One file per run, `<workspace>/outbox/<session>/<run_key>.json`, written
atomically (a temporary file, fsync, rename): a reader sees a whole entry or none. Each entry names the
store it is meant for (URL without password), so an entry is never written into another store. The run
key makes storing an entry twice harmless (ResultsStore.save_run keeps the first), so the entry is
removed only after the store took it.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from edgebench.errors import StoreError
from edgebench.records import RunRecord
from edgebench.store.db import DeviceSample, LatencySample
from edgebench.store.run_rows import run_from_json, run_to_json

_FOLDER_ATTEMPTS = 100  # a session folder lost this often between mkdir and the file is not a race but a fault

ENTRY_FORMAT = 1


@dataclass(frozen=True)
class OutboxEntry:
    """One measured run waiting for the store, as save_run takes it."""

    store_url: str  # the store it is meant for, password hidden (ResultsStore.url)
    record: RunRecord
    protocol_json: Mapping[str, Any]
    latency_samples: tuple[LatencySample, ...]
    device_samples: tuple[DeviceSample, ...]

    def to_json(self) -> dict[str, Any]:
        return {"format": ENTRY_FORMAT, "store_url": self.store_url,
                "run": run_to_json(self.record, self.protocol_json),
                "latency_samples": [[s.phase, s.index, s.latency_us, s.start_ns] for s in self.latency_samples],
                "device_samples": [[s.t_ns, s.channel, s.value_text] for s in self.device_samples]}

    @staticmethod
    def from_json(obj: Mapping[str, Any]) -> OutboxEntry:
        record, protocol_json = run_from_json(obj["run"])
        return OutboxEntry(
            store_url=obj["store_url"], record=record, protocol_json=protocol_json,
            latency_samples=tuple(LatencySample(phase, int(index), float(us), start_ns)
                                  for phase, index, us, start_ns in obj["latency_samples"]),
            device_samples=tuple(DeviceSample(int(t_ns), channel, value_text)
                                 for t_ns, channel, value_text in obj["device_samples"]))


class RunOutbox:
    """The outbox folder of one workspace. Safe for several threads and processes: every entry is its own
    file, written by rename and removed at most once (a second removal finds nothing and is fine)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_of(self, record: RunRecord) -> Path:
        return self.folder / _safe_name(record.session) / f"{record.run_key}.json"

    def put(self, entry: OutboxEntry) -> Path:
        """Write the entry durably (it survives a killed process and a power loss once this returns)."""
        path = self.path_of(entry.record)
        try:
            fd, tmp = self._temp_file_in(path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(entry.to_json(), out)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            _fsync_folder(path.parent)
        except OSError as exc:
            raise StoreError(f"cannot keep run {entry.record.run_id} in the outbox {path}: {exc.strerror}. The "
                             "workspace must be writable (--workspace DIR); the run folder on this host keeps "
                             "what was measured.") from exc
        return path

    @staticmethod
    def _temp_file_in(folder: Path) -> tuple[int, str]:
        """A new temporary file in `folder`, made if missing. Another device's thread (or process) that
        removes the session's last entry also removes the folder: between our mkdir and our file it can
        vanish, so make it again (a bounded number of times: each loss needs another writer's removal)."""
        lost = 0
        while True:
            try:
                # mkdir raises FileExistsError too when the folder it found is gone by its is_dir() check
                folder.mkdir(parents=True, exist_ok=True)
                return tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
            except (FileNotFoundError, FileExistsError):
                lost += 1
                if lost == _FOLDER_ATTEMPTS:
                    raise

    def entries(self, store_url: str | None = None) -> list[tuple[Path, OutboxEntry]]:
        """Whole entries, oldest first (by measurement start); only those meant for `store_url` when given.
        An entry that cannot be read is an error naming its file, never skipped silently."""
        found: list[tuple[Path, OutboxEntry]] = []
        for path in self._entry_paths():
            try:
                entry = OutboxEntry.from_json(json.loads(path.read_text(encoding="utf-8")))
            except FileNotFoundError:
                continue  # another process stored and removed it just now
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise StoreError(f"outbox entry {path} cannot be read ({type(exc).__name__}: {exc}). Expected "
                                 "a run kept by edgebench while the results store was unreachable; move the file "
                                 "away to go on without it.") from exc
            if store_url is None or entry.store_url == store_url:
                found.append((path, entry))
        found.sort(key=lambda item: (item[1].record.started_at_utc or "", item[0].name))
        return found

    def _entry_paths(self) -> list[Path]:
        """Every entry file, sorted. Not pathlib's glob: a session folder listed and then removed by another
        writer (its last entry stored) made glob raise FileNotFoundError; here that folder is just empty."""
        try:
            with os.scandir(self.folder) as folders:
                session_folders = [Path(f.path) for f in folders if f.is_dir(follow_symlinks=False)]
        except FileNotFoundError:
            return []
        paths: list[Path] = []
        for folder in session_folders:
            try:
                with os.scandir(folder) as files:
                    # .tmp-*: a write cut short by a kill; its run was never reported as kept
                    paths += [Path(e.path) for e in files if e.name.endswith(".json") and not e.name.startswith(".tmp-")]
            except FileNotFoundError:
                continue
        return sorted(paths)

    def sessions(self, paths: Sequence[Path]) -> list[str]:
        return sorted({p.parent.name for p in paths})

    def remove(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        try:
            path.parent.rmdir()  # the session's last entry: leave no empty folders behind
        except OSError:
            pass


def _safe_name(session: str) -> str:
    # Session ids are edgebench's own (date-time-hex); a resumed one given by hand is checked against the
    # store first, but keep a path separator in one from ever leaving the outbox folder.
    return session.replace("/", "_").replace("\\", "_").replace("..", "__") or "_"


def _fsync_folder(folder: Path) -> None:
    """The rename itself is durable only once the folder is synced. A folder already gone held only our
    entry, which another process's flusher has stored and removed: nothing is left to make durable."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
