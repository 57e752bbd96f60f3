"""What `edgebench devices` shows for each target: identity, hardware, battery, thermal state, space."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from edgebench.devices.cpu_topology import Cluster, clusters_of, named_masks
from edgebench.errors import EdgebenchError, ParseError

if TYPE_CHECKING:
    from edgebench.targets.adb import AdbTarget
    from edgebench.targets.local import LocalTarget


@dataclass(frozen=True)
class DeviceReport:
    serial: str  # "local", or the adb serial as `adb devices` shows it
    state: str  # adb state (device, offline, unauthorized, ...); "device" for local
    device_kind: str | None
    manufacturer: str | None = None
    model: str | None = None
    soc: str | None = None
    abi_list: tuple[str, ...] = ()
    android_release: str | None = None
    sdk_int: int | None = None
    clusters: tuple[Cluster, ...] = ()
    cpu_masks: dict[str, str] = field(default_factory=dict)  # name -> hex
    battery_level_pct: float | None = None
    battery_status: str | None = None
    battery_temperature_c: float | None = None
    thermal_status: int | None = None
    run_folder_free_bytes: int | None = None
    problems: tuple[str, ...] = ()  # what could not be read, and why

    def to_json(self) -> dict[str, Any]:
        return {
            "serial": self.serial, "state": self.state, "device_kind": self.device_kind,
            "manufacturer": self.manufacturer, "model": self.model, "soc": self.soc,
            "abi_list": list(self.abi_list), "android_release": self.android_release, "sdk_int": self.sdk_int,
            "cpu_clusters": [{"cpus": list(c.cpus), "capacity": c.capacity, "max_freq_khz": c.max_freq_khz}
                             for c in self.clusters],
            "cpu_masks": self.cpu_masks, "battery_level_pct": self.battery_level_pct,
            "battery_status": self.battery_status, "battery_temperature_c": self.battery_temperature_c,
            "thermal_status": self.thermal_status, "run_folder_free_bytes": self.run_folder_free_bytes,
            "problems": list(self.problems),
        }


def _masks(clusters: list[Cluster]) -> dict[str, str]:
    return {name: f"{mask:x}" for name, mask in named_masks(clusters).items()}


def report_local(target: LocalTarget) -> DeviceReport:
    import shutil

    info = target.describe()
    clusters = clusters_of(target.cpu_facts())
    return DeviceReport(serial="local", state="device", device_kind="local", manufacturer=info.manufacturer,
                        model=info.model, soc=info.soc, abi_list=(info.abi,), clusters=tuple(clusters),
                        cpu_masks=_masks(clusters), run_folder_free_bytes=shutil.disk_usage(target.root).free)


def report_adb(target: AdbTarget, state: str) -> DeviceReport:
    """Everything `devices` shows for one adb device; unreadable parts are listed in `problems`."""
    from edgebench.targets.adb import DEVICE_ROOT

    if state != "device":
        return DeviceReport(serial=target.name, state=state, device_kind=None,
                            problems=(f"device is {state}: nothing more can be read",))
    problems: list[str] = []
    props = target.props
    clusters = clusters_of(target.cpu_facts())
    if not clusters:
        problems.append("no CPU capacity or frequency readable: named CPU masks unavailable")
    battery = thermal = None
    try:
        battery = target.android.battery.dump()
    except (EdgebenchError, ParseError) as exc:
        problems.append(f"dumpsys battery: {exc}")
    try:
        thermal = target.android.thermal.dump()
    except (EdgebenchError, ParseError) as exc:
        problems.append(f"dumpsys thermalservice: {exc}")
    free = free_bytes(target, DEVICE_ROOT.rsplit("/", 1)[0])
    if free is None:
        problems.append("free space of /data/local/tmp unreadable (df)")
    return DeviceReport(
        serial=target.name, state=state, device_kind=target.describe().device_kind,
        manufacturer=props.manufacturer, model=props.model, soc=props.soc_model,
        abi_list=tuple(props.abi_list or ()), android_release=props.android_release, sdk_int=props.sdk_int,
        clusters=tuple(clusters), cpu_masks=_masks(clusters),
        battery_level_pct=battery.level_pct if battery else None,
        battery_status=battery.status if battery else None,
        battery_temperature_c=battery.temperature_c if battery else None,
        thermal_status=thermal.thermal_status if thermal else None,
        run_folder_free_bytes=free, problems=tuple(problems))


def free_bytes(target: AdbTarget, folder: str) -> int | None:
    """Bytes free in `folder` on the device (`df -k`); None when unreadable."""
    return target.android.files.free_bytes(folder)
