"""The commands edgebench sends to an Android device, in one place, returning typed records.

`AndroidDevice` groups them by the part of the system they talk to: `battery` (dumpsys battery),
`thermal` (dumpsys thermalservice), `settings`, `doze` (dumpsys deviceidle), `screen` (dumpsys
power, input keyevent), `props` (getprop/setprop), `power_supply` (/sys/class/power_supply),
`rails` (ODPM energy nodes) and `files` (journal files, free space, the sampler). Profiling,
inventory, doctor and the device-state journal use these through `target.android` (None on a
target that is not Android). Only this package, the adb target (targets/adb*.py) and the transport
(devices/adb.py) send shell commands (tests/test_phone_commands.py keeps it so).
"""
from __future__ import annotations

from edgebench.devices.adb import AdbDevice
from edgebench.targets.android.files import DeviceFiles
from edgebench.targets.android.reply import Reply
from edgebench.targets.android.services import (BatteryService, DozeService, Properties, ScreenService,
                                                SettingsService, ThermalService)
from edgebench.targets.android.sysfs import PowerRails, PowerSupply

__all__ = ["AndroidDevice", "Reply"]


class AndroidDevice:
    """One Android device's services. `device` is the adb transport; `name` its serial for errors."""

    def __init__(self, device: AdbDevice, name: str) -> None:
        self.name = name
        self.battery = BatteryService(device, name)
        self.thermal = ThermalService(device, name)
        self.settings = SettingsService(device, name)
        self.doze = DozeService(device, name)
        self.screen = ScreenService(device, name)
        self.props = Properties(device, name)
        self.power_supply = PowerSupply(device, name)
        self.rails = PowerRails(device, name)
        self.files = DeviceFiles(device, name)
        self._device = device

    def has_exit_codes(self) -> bool:
        """adbd reports shell_v2, so exit codes are real (else they come from an echo workaround)."""
        return "shell_v2" in self._device.features()
