"""Does this device have ODPM power rails the shell can read? (docs/measurement-methodology.md §1.5, §4.1 precondition 1)

Two conditions, both recorded: `dumpsys powerstats` lists ChannelId rows (how AndroidX detects
ODPM), and at least one /sys/bus/iio/devices/iio:device*/energy_value exists, is readable by the
shell user and parses. Anything short of that is "not available" with the reason; the run goes on
with the fuel gauge alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from edgebench.errors import ParseError
from edgebench.parsers.powerstats import parse_dumpsys_powerstats, parse_odpm_energy_value
from edgebench.targets.adb import AdbTarget
from edgebench.targets.android.sysfs import ENERGY_GLOB


@dataclass(frozen=True)
class RailsInfo:
    available: bool
    reason: str | None  # why not available (None when available)
    files: tuple[str, ...] = ()  # readable energy_value files
    subsystems: dict[str, str | None] = field(default_factory=dict)  # rail name -> ChannelSubsystem
    rail_names: tuple[str, ...] = ()  # rails the energy_value files carry

    def to_json(self) -> dict[str, object]:
        return {"available": self.available, "reason": self.reason, "files": list(self.files),
                "subsystems": self.subsystems, "rails": list(self.rail_names)}


def detect_rails(target: AdbTarget) -> RailsInfo:
    rails = target.android.rails
    listed = rails.listing()
    text = listed.stdout
    if listed.exit_code != 0 or not text.strip():
        said = (listed.stderr or text).strip().splitlines()[:1]
        return RailsInfo(False, f"`dumpsys powerstats` on {target.name} gave no channel list (exit "
                         f"{listed.exit_code}{': ' + said[0] if said else ', no output'}): no PowerStats HAL rails")
    try:
        dump = parse_dumpsys_powerstats(text, source=f"{target.name}: dumpsys powerstats")
    except ParseError as exc:
        return RailsInfo(False, f"`dumpsys powerstats` output not understood: {exc}")
    if not dump.channels:
        return RailsInfo(False, "`dumpsys powerstats` lists no ChannelId rows: this device has no ODPM rails")
    paths = rails.energy_files()
    if not paths:
        return RailsInfo(False, f"`dumpsys powerstats` lists {len(dump.channels)} channels but no {ENERGY_GLOB} "
                         "exists: this device's rails are not readable from the shell")
    readable: list[str] = []
    names: list[str] = []
    refusals: list[str] = []
    for path in paths:
        result = rails.read(path)
        if result.exit_code != 0 or not result.stdout.strip():
            refusals.append(f"{path}: {(result.stderr or result.stdout).strip()[:120] or 'empty'}")
            continue
        try:
            parsed = parse_odpm_energy_value(result.stdout, source=path)
        except ParseError as exc:
            refusals.append(f"{path}: {exc}")
            continue
        readable.append(path)
        names.extend(r.name for r in parsed.rails)
    if not readable:
        return RailsInfo(False, "energy_value not readable by the shell user on this build (" + "; ".join(refusals)
                         + ")")
    return RailsInfo(True, None, tuple(readable), {c.name: c.subsystem for c in dump.channels}, tuple(names))
