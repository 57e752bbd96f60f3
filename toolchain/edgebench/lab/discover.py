"""The devices a lab worker serves: every ready device of its adb servers, or the serials it was given."""
from __future__ import annotations

import socket
from typing import Sequence

from edgebench.devices.adb import AdbServer, AdbServerAddress, AdbServerError
from edgebench.errors import DeviceError, EdgebenchError, UsageError
from edgebench.lab.devices import AnnouncedDevice, utc_now
from edgebench.targets.adb import AdbTarget
from edgebench.targets.base import Target


def discover(adb_servers: Sequence[str | None], serials: Sequence[str] | None, worker: str
             ) -> list[tuple[Target, AnnouncedDevice]]:
    """(target, its announcement) per device served. A named serial no server has is an error that lists
    what the servers have; a device that is not ready (offline, unauthorized) is skipped with its state."""
    found: dict[str, tuple[Target, AnnouncedDevice]] = {}
    seen: list[str] = []
    for spec in adb_servers or [None]:
        try:
            server = AdbServer(AdbServerAddress.resolve(spec))
            entries = server.devices()
        except AdbServerError as exc:
            raise UsageError(f"lab worker: {exc}") from None
        for entry in entries:
            seen.append(f"{entry.serial} ({entry.state}, adb server {server.address})")
            if entry.state != "device" or entry.serial in found or (serials and entry.serial not in serials):
                continue
            target = AdbTarget(server.device(entry.serial))
            try:
                info = target.describe()
            except EdgebenchError as exc:
                raise DeviceError(entry.serial, f"cannot read the device's identity: {exc}", command="getprop") from exc
            found[entry.serial] = (target, AnnouncedDevice(
                worker=worker, serial=entry.serial, host=socket.gethostname(), device_id=info.device_id,
                model=info.model, abi=info.abi, state="idle", job_id=None, session=None,
                last_heartbeat_utc=utc_now().isoformat()))
    missing = [s for s in serials or () if s not in found]
    if missing or not found:
        what = f"no ready device with serial {', '.join(missing)}" if missing else "no ready device"
        raise UsageError(f"lab worker: {what} on the adb server(s). Devices there: {'; '.join(seen) or 'none'}. "
                         "Check `edgebench devices` (and --adb HOST:PORT for another server).")
    return list(found.values())
