"""Power supplies under /sys/class/power_supply and the ODPM power rails (PowerStats HAL, IIO nodes)."""
from __future__ import annotations

from edgebench.devices.adb import quote
from edgebench.errors import DeviceError
from edgebench.targets.android.reply import Reply, Service

ENERGY_GLOB = "/sys/bus/iio/devices/iio:device*/energy_value"


class PowerSupply(Service):
    """The fuel gauge's folder and the chargers beside it."""

    def battery_dir(self) -> str:
        """The power_supply folder whose type is Battery ("battery" first: vendors add others)."""
        script = ("for d in /sys/class/power_supply/*; do t=$(cat \"$d/type\" 2>/dev/null); "
                  "[ \"$t\" = Battery ] && echo \"$d\"; done; true")
        found = [line.strip() for line in self._run(script).stdout.splitlines() if line.strip()]
        if not found:
            raise DeviceError(self.name, "no /sys/class/power_supply/*/type reads Battery: this device exposes no "
                              "fuel gauge to the shell, so battery energy cannot be measured here",
                              command="cat /sys/class/power_supply/*/type")
        preferred = [d for d in found if d.rsplit("/", 1)[-1] == "battery"]
        return (preferred or found)[0]

    def read_node(self, battery_dir: str, node: str) -> Reply:
        """`cat BATTERY_DIR/NODE` (capacity, temp, status, ...) as the device answered it."""
        return self._run(["cat", f"{battery_dir}/{node}"])

    def status(self, battery_dir: str) -> str:
        """POWER_SUPPLY_STATUS (Charging, Discharging, Full, Not charging); "Unknown" when unreadable."""
        return self.read_node(battery_dir, "status").text or "Unknown"

    def temperature_c(self, battery_dir: str) -> float | None:
        """The battery's temperature (the node is in tenths of a degree); None when unreadable."""
        text = self.read_node(battery_dir, "temp").text
        return int(text) / 10.0 if text.lstrip("-").isdigit() else None

    def chargers_online(self, battery_dir: str) -> dict[str, str]:
        """`<supply>/online` of every power supply but the battery whose value is not 0, e.g.
        {"/sys/class/power_supply/usb/online": "1"}. Unreadable nodes are left out."""
        script = ("for d in /sys/class/power_supply/*; do [ \"$d\" = " + quote(battery_dir.rstrip("/"))
                  + " ] && continue; [ -r \"$d/online\" ] && echo \"$d/online $(cat \"$d/online\" 2>/dev/null)\"; "
                  "done; true")
        found = {}
        for line in self._run(script).stdout.splitlines():
            path, _, value = line.strip().partition(" ")
            value = value.strip()
            if path and value.lstrip("-").isdigit() and int(value) != 0:
                found[path] = value
        return found


class PowerRails(Service):
    """ODPM rails: listed by `dumpsys powerstats`, read from the IIO energy_value nodes."""

    def listing(self) -> Reply:
        """`dumpsys powerstats` as answered (parse with parsers.powerstats)."""
        return self._run(["dumpsys", "powerstats"])

    def energy_files(self) -> list[str]:
        """The energy_value nodes that exist (readable or not)."""
        found = self._run(f"for f in {ENERGY_GLOB}; do [ -e \"$f\" ] && echo \"$f\"; done; true")
        return [p.strip() for p in found.stdout.splitlines() if p.strip()]

    def read(self, path: str) -> Reply:
        return self._run(["cat", path])
