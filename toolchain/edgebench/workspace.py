"""The workspace folder: generated artifacts (results DB, harness builds, run folders), never the source tree."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_WORKSPACE = "edgebench-work"
STORE_ENV = "EDGEBENCH_STORE"  # the results store's URL; `edgebench --store URL` sets it for its command


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def resolve(cls, explicit: str | os.PathLike[str] | None = None) -> Workspace:
        chosen = explicit or os.environ.get("EDGEBENCH_WORKSPACE") or DEFAULT_WORKSPACE
        root = Path(chosen).expanduser().resolve()
        root.mkdir(parents=True, exist_ok=True)
        return cls(root)

    @property
    def results_db(self) -> Path:
        """The workspace's own SQLite results store (the default store)."""
        return self.root / "results.sqlite"

    @property
    def results_store(self) -> str:
        """Where results are read and written: $EDGEBENCH_STORE (a URL, e.g. a lab's PostgreSQL) when set,
        else the workspace's SQLite file. Run folders, builds and artifacts stay in the workspace either way."""
        return os.environ.get(STORE_ENV) or f"sqlite:///{self.results_db}"

    @property
    def harness_builds(self) -> Path:
        # Builds are keyed by source hash, so several workspaces may share one cache folder.
        shared = os.environ.get("EDGEBENCH_HARNESS_CACHE")
        return Path(shared) if shared else self.root / "harness"

    @property
    def local_device_root(self) -> Path:
        """The local target's stand-in for a device's /data/local/tmp/edgebench."""
        return self.root / "local-device"

    def session_dir(self, session: str) -> Path:
        """Where pulled results of one session are kept on the host."""
        return self.root / "sessions" / session

    @property
    def outbox(self) -> Path:
        """Measured runs the results store does not have yet (unreachable, or the process was killed):
        store/outbox.py; the next session with this workspace stores them first."""
        return self.root / "outbox"

    @property
    def artifacts(self) -> Path:
        """Trained, transformed and converted models, content-addressed."""
        return self.root / "artifacts"

    @property
    def reports(self) -> Path:
        return self.root / "reports"
