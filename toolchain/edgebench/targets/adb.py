"""The `adb` target: phones, emulators, the virtual device and boards with adbd.

This module is the Target interface and who the device is (identity, ABI, reconnecting); each other job
is a module of its own that AdbTarget hands the call to:

- targets/adb_paths.py: the folder on the device, /data/local/tmp/edgebench (DEVICE_ROOT, device_path)
- targets/adb_staging.py: stage(): push what changed, with a manifest of what was pushed (MANIFEST)
- targets/adb_runs.py: run_driver(), finish_run(), cancel_run(), remove_leftover_runs(): one run per call
- targets/adb_slices.py: supports_slices(), run_slice(): many runs in one call, streamed back as frames
- targets/adb_lock.py: acquire/refresh/release_device_lock(): the lock folder other hosts of a lab see
- targets/adb_telemetry.py: read_temperatures_c(), cpu_facts(): the device's sysfs
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Mapping, Sequence

from edgebench.devices.adb import AdbDevice
from edgebench.devices.cpu_topology import CpuFacts
from edgebench.errors import DeviceError
from edgebench.parsers import GetpropResult
from edgebench.targets.adb_lock import LOCK_DIR, AdbDeviceLock, describe_lock_holder
from edgebench.targets.adb_paths import DEVICE_ROOT, device_path
from edgebench.targets.adb_runs import PROBE_TIMEOUT_S, PULL_TIMEOUT_S, AdbRuns
from edgebench.targets.adb_slices import AdbSlices
from edgebench.targets.adb_staging import EXECUTABLE_PREFIXES, MANIFEST, AdbStaging
from edgebench.targets.adb_telemetry import read_cpu_facts, read_temperatures_c
from edgebench.targets.android import AndroidDevice
from edgebench.targets.base import DeviceInfo, DriverResult, SliceEvents, Target
from edgebench.targets.device_state import restore_pending
from edgebench.targets.slice_protocol import DeviceCooldown, SliceEntry

# Importable from here as before the split (tests, benchmarks, doctor and inventory use them).
__all__ = ["DEVICE_ROOT", "EXECUTABLE_PREFIXES", "LOCK_DIR", "MANIFEST", "PROBE_TIMEOUT_S", "PULL_TIMEOUT_S",
           "AdbTarget", "describe_lock_holder", "device_kind_of", "harness_abi_for"]


def device_kind_of(props: GetpropResult) -> str:
    if props.is_virtual:
        return "virtual"
    if props.is_emulator:
        return "emulator"
    if props.android_release is None:
        return "board"  # adbd without Android properties: an embedded Linux board
    return "phone"


def harness_abi_for(props: GetpropResult) -> str:
    """Which harness build runs there: Android (bionic) builds on phones and emulators; the virtual
    device runs glibc Linux builds (x86_64 at host speed, aarch64 under qemu-user)."""
    abi = (props.abi_list or ("",))[0]
    if props.is_virtual:
        return "aarch64-linux" if abi == "arm64-v8a" else "host"
    if props.android_release is None:
        return "aarch64-linux" if abi in ("arm64-v8a", "aarch64") else "host"
    return abi


class AdbTarget(Target):
    android: AndroidDevice

    def __init__(self, device: AdbDevice) -> None:
        self.device = device
        self.name = device.serial
        self.android = AndroidDevice(device, device.serial)
        self.staging = AdbStaging(device, device.serial)
        self.runs = AdbRuns(device, device.serial)
        self.slices = AdbSlices(device, device.serial, cancel_run=self.runs.cancel_run)
        self.device_lock = AdbDeviceLock(device, device.serial)
        self._props: GetpropResult | None = None
        self._info: DeviceInfo | None = None

    @property
    def props(self) -> GetpropResult:
        if self._props is None:
            self._props = self.android.props.all()
        return self._props

    def describe(self) -> DeviceInfo:
        if self._info is None:
            p = self.props
            identity = f"{p.serialno or ''}|{p.build_fingerprint or ''}"
            if identity == "|":
                raise DeviceError(self.name, "the device reports neither ro.serialno nor ro.build.fingerprint; "
                                  "edgebench cannot tell it apart from other devices", command="getprop")
            device_id = "adb:" + hashlib.sha256(identity.encode()).hexdigest()[:24]
            self._info = DeviceInfo(
                target=self.name, device_id=device_id, device_kind=device_kind_of(p),  # type: ignore[arg-type]
                abi=(p.abi_list or ("unknown",))[0], manufacturer=p.manufacturer, model=p.model,
                soc=p.soc_model, os_version=f"Android {p.android_release} (SDK {p.sdk_int})"
                if p.android_release else None,
                extra={"serialno": p.serialno, "build_fingerprint": p.build_fingerprint,
                       "abi_list": list(p.abi_list or ())})
        return self._info

    @property
    def harness_abi(self) -> str:
        return harness_abi_for(self.props)

    @property
    def sysroot(self) -> str:
        return ""

    def device_path(self, relative: str) -> str:
        return device_path(relative)

    # -- staging (adb_staging.py) -------------------------------------------------------------------
    def stage(self, files: Mapping[str, Path], *, verify: bool = False) -> None:
        self.staging.stage(files, verify=verify)

    # -- running one run per call (adb_runs.py) ----------------------------------------------------
    def run_driver(self, run_name: str, runner_args: Sequence[str], env: Mapping[str, str],
                   timeout_s: float, results_dir: Path) -> DriverResult:
        return self.runs.run_driver(run_name, runner_args, env, timeout_s, results_dir)

    def finish_run(self, run_name: str, *, keep: bool, log_marker: str | None = None,
                   log_path: Path | None = None) -> None:
        self.runs.finish_run(run_name, keep=keep, log_marker=log_marker, log_path=log_path)

    def cancel_run(self, run_name: str) -> None:
        self.runs.cancel_run(run_name)

    def remove_leftover_runs(self) -> None:
        self.runs.remove_leftover_runs()

    # -- slices (adb_slices.py) --------------------------------------------------------------------
    def supports_slices(self) -> bool:
        return self.slices.supports_slices()

    def run_slice(self, slice_name: str, entries: Sequence[SliceEntry], results_dirs: Sequence[Path], *,
                  keep: bool, cooldown: DeviceCooldown, events: SliceEvents) -> None:
        self.slices.run_slice(slice_name, entries, results_dirs, keep=keep, cooldown=cooldown, events=events)

    # -- readings (adb_telemetry.py; the thermal status from the Android layer) ----------------------
    def read_thermal_status(self) -> int | None:
        return self.android.thermal.status()

    def read_temperatures_c(self) -> dict[str, float]:
        return read_temperatures_c(self.device)

    def cpu_facts(self) -> list[CpuFacts]:
        return read_cpu_facts(self.device)

    # -- lab robustness (adb_lock.py) ----------------------------------------------------------------
    def acquire_device_lock(self, owner: Mapping[str, object]) -> None:
        self.device_lock.acquire(owner)

    def refresh_device_lock(self) -> None:
        self.device_lock.refresh()

    def release_device_lock(self) -> None:
        self.device_lock.release()

    def holds_device_lock(self) -> bool:
        return self.device_lock.still_held()

    def restore_pending_changes(self) -> list[str]:
        return restore_pending(self)

    def reconnect(self) -> bool:
        host, _, port = self.name.rpartition(":")
        if host and port.isdigit():
            # A network device (Wi-Fi adb, emulator, virtual device): ask the server to dial it again.
            try:
                self.device.server.connect(self.name)
            except DeviceError:
                return False
        try:
            if self.device.state() != "device":
                return False
            return self.device.shell(["echo", "ok"], retry=False, timeout=10).stdout.strip() == "ok"
        except DeviceError:
            return False
