"""Thermal zone listings: which `/sys/class/thermal/thermal_zoneN` measures what.

Three shapes are read, because they are how people capture it:
* a console transcript, a prompt + `cat .../thermal_zoneN/type` (or `adb shell cat ...`) per
  zone, each followed by its output line;
* `grep . /sys/class/thermal/thermal_zone*/type` output: `path:value` per line;
* `head /sys/class/thermal/thermal_zone*/type` output: `==> path <==` then the value.
A bare `cat thermal_zone*/type` (values only) is refused: the shell's glob order
(0, 1, 10, 11, 2, ...) makes the zone index of each line unknowable.
Attributes other than `type` (e.g. `temp`, millidegrees C on most kernels) are kept raw.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from edgebench.errors import ParseError
from edgebench.parsers._common import (NAME_HINT_SCORE, sniff_sample, sysfs_name_hint,
                                        text_lines)

_PATH_RE = re.compile(r"\S*thermal_zone([0-9]{1,6})/([A-Za-z_][A-Za-z0-9_]*)")
_COMMAND_RE = re.compile(r"(?:^|[\s$#'\"])(?:adb(?:\s+-s\s+\S+)?\s+shell\s+)?(?:cat|head)\s+(\S+)\s*$")
_GREP_RE = re.compile(r"(\S*thermal_zone([0-9]{1,6})/([A-Za-z_][A-Za-z0-9_]*)):(.*)")
_HEAD_RE = re.compile(r"==> (\S+) <==")
_PROMPT_RE = re.compile(r"(?:\S[^$#]*)?[$#](?:\s+(.*))?")
_ERROR_RE = re.compile(r"(?:cat|head): .*|.*(?:No such file or directory|Permission denied|"
                       r"Invalid argument)")


@dataclass(frozen=True)
class ThermalZone:
    index: int
    type: str | None  # None when the listing has no (readable) `type` for this zone
    attributes: dict[str, str]  # every attribute read, `type` included, as printed
    errors: dict[str, str]  # attribute -> the error printed instead of a value


@dataclass(frozen=True)
class ThermalZones:
    zones: tuple[ThermalZone, ...]  # sorted by index
    types: dict[int, str]  # zone index -> type, for the zones whose type was read


def parse_thermal_zones(text: str, *, source: str | None = None) -> ThermalZones:
    src = source
    values: dict[tuple[int, str], str] = {}
    errors: dict[tuple[int, str], str] = {}
    waiting: tuple[int, str, int] | None = None  # zone, attribute, line of the command

    def put(zone: int, attr: str, value: str, number: int, line: str) -> None:
        key = (zone, attr)
        if key in values and values[key] != value:
            raise ParseError(f"thermal_zone{zone}/{attr} read twice with different values "
                             f"({values[key]!r}, {value!r})", source=src,
                             line_number=number, line=line)
        values[key] = value

    def no_output(pending: tuple[int, str, int] | None) -> None:
        # A read whose output never came (the transcript was cut): say so, do not invent.
        if pending is not None and (pending[0], pending[1]) not in values:
            errors.setdefault((pending[0], pending[1]), "no output")

    for number, line in enumerate(text_lines(text), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        target = _command_target(stripped)
        if target is not None:
            path = _PATH_RE.fullmatch(target)
            if path is None:
                raise ParseError("a command that reads no single thermal_zoneN attribute (a "
                                 "glob's output cannot be matched to zone numbers); use "
                                 "`grep . /sys/class/thermal/thermal_zone*/type`",
                                 source=src, line_number=number, line=line)
            no_output(waiting)
            waiting = (int(path.group(1)), path.group(2), number)
            continue
        grep = _GREP_RE.fullmatch(stripped)
        if grep is not None:
            put(int(grep.group(2)), grep.group(3), grep.group(4).strip(), number, line)
            waiting = None
            continue
        prompt = _PROMPT_RE.fullmatch(stripped)
        if prompt is not None:
            command = (prompt.group(1) or "").strip()
            if not command:
                no_output(waiting)
                waiting = None  # an empty prompt: the transcript's end, nothing to read
                continue
            raise ParseError(f"a shell command that is not a thermal_zoneN read: {command!r}",
                             source=src, line_number=number, line=line)
        if waiting is None:
            raise ParseError("expected a command reading thermal_zoneN/<attribute>, or "
                             "`path:value` lines; got a value with no command before it",
                             source=src, line_number=number, line=line)
        zone, attr, _ = waiting
        if _ERROR_RE.fullmatch(stripped):
            errors[(zone, attr)] = stripped
        else:
            put(zone, attr, stripped, number, line)
        waiting = None
    no_output(waiting)
    if not values and not errors:
        raise ParseError("no thermal_zoneN attribute values found; expected a transcript of "
                         "`cat /sys/class/thermal/thermal_zoneN/type` or `grep .` output",
                         source=src)
    indices = sorted({zone for zone, _ in values} | {zone for zone, _ in errors})
    zones = tuple(
        ThermalZone(index=i, type=values.get((i, "type")),
                    attributes={a: v for (z, a), v in values.items() if z == i},
                    errors={a: e for (z, a), e in errors.items() if z == i})
        for i in indices)
    return ThermalZones(zones=zones, types={z.index: z.type for z in zones if z.type is not None})


def _command_target(line: str) -> str | None:
    """The path a `cat`/`head` command line reads, or for `==> path <==` the path; else None."""
    head = _HEAD_RE.fullmatch(line)
    if head is not None:
        return head.group(1)
    command = _COMMAND_RE.search(line)
    if command is None:
        return None
    return command.group(1).strip("'\"")  # adb shell 'cat /sys/...' quotes the remote command


def sniff_thermal_zones(text: str, file_name: str) -> int:
    lines = [line.strip() for line in sniff_sample(text) if line.strip()]
    if not lines:
        return 0
    reads = sum(1 for line in lines if _PATH_RE.search(line))
    if reads and reads * 2 >= len(lines) * 0.9:
        return 90
    if reads:
        return 50
    return NAME_HINT_SCORE // 2 if sysfs_name_hint(file_name) == "thermal_zone_types" else 0
