"""One interface for every place a model can run: the adb module alone talks to adb, errors name the serial and the command.

A target stages files (skipping those already there unchanged), runs the harness driver in a run
folder, and brings that folder's `out/` back to the host. Implementations: `local` (this host) and
`adb` (phones, emulators, the virtual device, boards with adbd).

Threading: one target object is used by one worker thread at a time.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Protocol, Sequence

from edgebench.devices.cpu_topology import CpuFacts
from edgebench.records import DeviceKind

if TYPE_CHECKING:
    from edgebench.targets.android import AndroidDevice
    from edgebench.targets.slice_protocol import DeviceCooldown, SliceEntry


@dataclass(frozen=True)
class DeviceInfo:
    """What is known about a target, for the devices table and run identity."""

    target: str  # "local", or the adb serial as `adb devices` shows it
    device_id: str  # stable identity: machine id, or ro.serialno + build fingerprint (never the adb serial)
    device_kind: DeviceKind
    abi: str
    manufacturer: str | None = None
    model: str | None = None
    soc: str | None = None
    os_version: str | None = None
    cpu_count: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "device_id": self.device_id, "device_kind": self.device_kind,
                "abi": self.abi, "manufacturer": self.manufacturer, "model": self.model, "soc": self.soc,
                "os_version": self.os_version, "cpu_count": self.cpu_count, **dict(self.extra)}


@dataclass(frozen=True)
class DriverResult:
    exit_code: int
    out_dir: Path  # on the host, after collection
    wall_seconds: float
    stderr_tail: str
    log_marker: str | None = None  # device time at the start, for the run's log window


class SliceEvents(Protocol):
    """What a target tells its caller while a slice runs (Target.run_slice)."""

    def stage(self, index: int, stage: str) -> None:
        """Run `index` (from 0, in the order of the entries) is at `stage` ("cool-down" or "run")."""

    def finished(self, index: int, result: DriverResult) -> None:
        """Run `index` finished; its out/ is in result.out_dir. Called in order, once per run."""


PART_CHARS = 400  # of each stream: the labels survive, and a 500-character cut keeps the runner's stderr
# What the runner itself said, written by the driver into out/ (the runner reports a refused option
# on its stderr, and as a JSON error line on stdout when it never got to open --out).
RUNNER_STREAMS = ("runner.stdout", "runner.stderr")


def _file_tail(path: Path, chars: int) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(max(0, path.stat().st_size - 4 * chars))
            return fh.read().decode(errors="replace").strip()[-chars:]
    except OSError:
        return ""


def output_tail(driver_output: str, out_dir: Path, chars: int = PART_CHARS) -> str:
    """The end of everything a run printed: the driver's own stderr, then the runner's stdout and
    stderr from the pulled out/ folder, each labelled and cut to `chars` (the runner's stderr last:
    it usually holds the reason)."""
    parts = [f"driver: {driver_output.strip()[-chars:]}"] if driver_output.strip() else []
    for name in RUNNER_STREAMS:
        text = _file_tail(out_dir / name, chars)
        if text:
            parts.append(f"{name}: {text}")
    return "\n".join(parts)


def with_output_tail(reason: str, result: DriverResult | None) -> str:
    """A failed run's reason followed by what the driver and runner printed last, unless the reason
    already ends with it (a reason that is not the runner's own words needs them)."""
    tail = result.stderr_tail.strip() if result is not None else ""
    if not tail or tail[-200:] in reason:
        return reason
    return f"{reason}\n  output: {tail}"


class Target(ABC):
    """A place to run the harness. Errors raised are EdgebenchError subclasses naming the target."""

    name: str
    # The Android services (battery, thermal, settings, Doze, ...) of a target that has them; None elsewhere.
    android: AndroidDevice | None = None

    @abstractmethod
    def describe(self) -> DeviceInfo:
        """Identity and hardware facts (cheap after the first call)."""

    @property
    @abstractmethod
    def harness_abi(self) -> str:
        """The harness build this target runs (e.g. "host", "arm64-v8a")."""

    @property
    @abstractmethod
    def sysroot(self) -> str:
        """Prefix the driver puts before every /sys and /proc path ("" on a real device)."""

    @abstractmethod
    def device_path(self, relative: str) -> str:
        """The absolute path on the target of a path relative to its edgebench root."""

    @abstractmethod
    def stage(self, files: Mapping[str, Path], *, verify: bool = False) -> None:
        """Copy host files to device paths (relative to the target's root), skipping unchanged ones.

        `verify`: re-hash what is on the device rather than trust the manifest of what was pushed.
        """

    @abstractmethod
    def run_driver(self, run_name: str, runner_args: Sequence[str], env: Mapping[str, str],
                   timeout_s: float, results_dir: Path) -> DriverResult:
        """Run the driver in a fresh run folder; bring its out/ to `results_dir` on the host."""

    @abstractmethod
    def finish_run(self, run_name: str, *, keep: bool, log_marker: str | None = None,
                   log_path: Path | None = None) -> None:
        """After collection: save the device log since `log_marker` to `log_path` (when the target
        has a log) and delete the run folder unless `keep`. One round trip on a device."""

    # -- slices: several runs in one device call (targets/slice_protocol.py) -------------------------
    def supports_slices(self) -> bool:
        """Whether run_slice works here; a session falls back to one driver call per run otherwise."""
        return False

    def run_slice(self, slice_name: str, entries: Sequence[SliceEntry], results_dirs: Sequence[Path], *,
                  keep: bool, cooldown: DeviceCooldown, events: SliceEvents) -> None:
        """Run `entries` one after the other in one device call (slice.sh), each through the driver in its
        own run folder, cooling down between them on the device; `events.finished(i, result)` as each ends,
        with its out/ in results_dirs[i]. `slice_name`: the session (every run folder is under it, so
        cancel_run(slice_name) stops the whole slice). Raises SliceRunTimeout (a hung run: the slice was
        killed, runs after it not started), DeviceConnectionError (lost device) or DeviceError."""
        raise NotImplementedError(f"{self.name}: this target runs one run per driver call")

    # -- lab robustness: the defaults suit a target that cannot vanish (this host) -----------------
    def acquire_device_lock(self, owner: Mapping[str, Any]) -> None:
        """Claim the device against other hosts; raise DeviceBusyError naming the holder."""

    def refresh_device_lock(self) -> None:
        """Heartbeat, so other hosts can tell a live holder from a stale lock."""

    def release_device_lock(self) -> None:
        """Give the device back (only our own lock)."""

    def holds_device_lock(self) -> bool:
        """Whether the device lock taken by acquire_device_lock is still ours (another host takes over a lock
        whose heartbeat stopped, e.g. while the device was away longer than the stale limit)."""
        return True

    def remove_leftover_runs(self) -> None:
        """Delete run folders that earlier, interrupted sessions left (not those kept with --keep)."""

    def cancel_run(self, run_name: str) -> None:
        """Kill a harness that is running in `run_name` (Ctrl-C, SIGTERM). Best effort."""

    def restore_pending_changes(self) -> list[str]:
        """Undo what a crashed earlier session changed on the device (battery runs journal their
        changes there); returns what was undone. Nothing to undo on a target that keeps no journal."""
        return []

    def reconnect(self) -> bool:
        """Try once to get the device back after a lost connection; True when it answers again."""
        return False

    def cpu_facts(self) -> list[CpuFacts]:
        """Per-CPU capacity and max frequency, for named CPU masks; empty when unreadable."""
        return []

    def read_temperatures_c(self) -> dict[str, float]:
        """Thermal zone temperatures (°C) now, for cool-down; empty when the target has none."""
        return {}

    def read_thermal_status(self) -> int | None:
        """The framework's thermal status (Android: 0 none .. 6 shutdown); None when there is none."""
        return None
