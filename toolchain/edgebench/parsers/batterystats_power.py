"""The `Estimated power use (mAh):` block of `dumpsys batterystats`, in its three generations.

Generations (AOSP BatteryStats.dumpLocked, later BatteryUsageStats.dump):
- "legacy" (Android 5-8.0): `Capacity: C, Computed drain: D, actual drain: L-H`, then one line
  per consumer: `Uid u0a123: 12.3 ( cpu=1.2 wake=0.5 )`, `Screen: 122`,
  `Cell standby: 2 ( radio=2 )`.
- "smearing" (Android 8.x-11): the same lines plus `Including smearing: T ( screen=S
  proportional=P )` and/or `Excluded from smearing`.
- "battery_usage_stats" (Android 12+): a `Global` block of `component: P [model] apps: A
  duration: 1h 2m` lines, then `UID u0a123: 12.3 ( cpu=1.2 screen=0.3 )`, `User 10: ...`.
  Android 14+ adds process states (`UID u0a1: 5 fg: 4 bg: 1 ...`); 15+ prints the components on
  the next, deeper line and per power/screen state lines `(on battery, screen on) cpu=...`.
Samsung prints `Capacity: C, Rated: R, Typical: T, Computed drain: ...`.
Numbers may carry a decimal comma (Android 5.0-5.1 used the device locale); uids are turned into
numbers as batterystats_values.uid_number explains.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from edgebench.errors import ParseError
from edgebench.parsers.batterystats_values import NUM, UNUM, parse_duration_ms, parse_number, uid_number

GENERATIONS = ("legacy", "smearing", "battery_usage_stats")


@dataclass(frozen=True)
class PowerUseEntry:
    line_number: int
    kind: str  # "uid" | "user" | "component" (Screen, Wifi, Idle...) | "global" (Android 12+)
    name: str  # as printed: "u0a123", "1000", "10" (user), "Cell standby", "screen"
    uid: int | None  # numeric uid for kind "uid"
    power_mah: float
    components_mah: dict[str, float] | None  # cpu=, wake=, radio=...; None: none printed/readable
    component_durations_ms: dict[str, int]  # Android 15+: `cpu=1.2 (1h2m)`
    breakdown_raw: str | None  # the text inside `( ... )` as printed
    smeared_power_mah: float | None  # `Including smearing: T`
    smear_components_mah: dict[str, float] | None  # screen=, proportional=
    excluded_from_smearing: bool
    apps_power_mah: float | None  # Global lines: part of the component's power used by apps
    duration_ms: int | None  # Global lines: `duration: ...`
    power_model: str | None  # `[energy consumption]`, `[measured energy]`
    process_states_mah: dict[str, float]  # Android 14+: fg, bg, fgs, cached
    state_breakdowns_raw: dict[str, str]  # Android 15+: `(on battery, screen on)` -> components
    unread_text: str | None  # trailing text of the line this parser does not know, kept as is


@dataclass(frozen=True)
class PowerUseSummary:
    line_number: int
    generation: str  # one of GENERATIONS
    capacity_mah: float | None
    rated_capacity_mah: float | None  # Samsung
    typical_capacity_mah: float | None  # Samsung
    computed_drain_mah: float | None
    actual_drain_low_mah: float | None
    actual_drain_high_mah: float | None  # equal to low when one number was printed
    capacity_extras: dict[str, str]  # other `key: value` parts of the Capacity line
    global_components: tuple[PowerUseEntry, ...]  # Android 12+ `Global` block
    entries: tuple[PowerUseEntry, ...]  # uids, users and legacy components, in printed order

    @property
    def uid_entries(self) -> tuple[PowerUseEntry, ...]:
        return tuple(e for e in self.entries if e.kind == "uid")


_ENTRY_RE = re.compile(
    r"(?:(?P<kind>Uid|UID|User) (?P<id>[A-Za-z0-9]{1,40})|(?P<label>[A-Za-z?][^:]{0,80}?))"
    rf": (?P<power>{NUM})(?P<rest>\s.*)?", re.ASCII)
_REST_RES = (
    ("smear", re.compile(rf"\s*Including smearing: ({NUM})", re.ASCII)),
    ("excluded", re.compile(r"\s*Excluded from smearing")),
    ("model", re.compile(r"\s*\[([^\]]{0,80})\]")),
    ("apps", re.compile(rf"\s*apps: ({NUM})", re.ASCII)),
    ("duration", re.compile(r"\s*duration: (\S.*?)\s*$")),
    ("group", re.compile(r"\s*\(")),
    ("state", re.compile(rf"\s*([a-z][a-z_]{{0,20}}): ({NUM})(?: \(([0-9dhms]{{1,40}})\))?",
                         re.ASCII)),
)
_COMPONENT_RE = re.compile(
    rf"\s*([A-Za-z0-9_.:\-]{{1,60}})=({NUM})(?: \(([0-9dhms]{{1,40}})\))?", re.ASCII)


@dataclass
class _Entry:
    """Mutable while the block is read: Android 15+ adds lines to the entry above them."""
    line_number: int
    kind: str
    name: str
    indent: int
    power_mah: float
    values: dict[str, Any] = field(default_factory=dict)


def parse_power_use(header_number: int, body: list[tuple[int, str]], *,
                    source: str | None) -> PowerUseSummary:
    """Read the lines under `Estimated power use (mAh):` (blank lines already removed)."""
    capacity: dict[str, Any] = {}
    capacity_number: int | None = None
    global_indent: int | None = None
    global_entries: list[_Entry] = []
    entries: list[_Entry] = []
    for number, line in body:
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if stripped.startswith("Capacity: ") and capacity_number is None and not entries:
            capacity = _capacity(stripped, source, number, line)
            capacity_number = number
            continue
        if stripped == "Global" and global_indent is None and not entries:
            global_indent = indent
            continue
        match = _ENTRY_RE.fullmatch(stripped)
        if match is not None:
            in_global = global_indent is not None and indent > global_indent and not any(
                e.kind in ("uid", "user") for e in entries)
            entry = _entry(match, in_global, number, indent, source, line)
            (global_entries if in_global else entries).append(entry)
            continue
        owner = entries[-1] if entries else None
        if owner is not None and owner.kind in ("uid", "user") and indent > owner.indent:
            _continuation(owner, stripped)
            continue
        raise ParseError("expected a power use line such as 'Uid u0a123: 12.3 ( cpu=1.2 )', "
                         "'Screen: 4.5', 'Capacity: ...' or 'Global'; the dump may be cut or "
                         "from an unknown Android version", source=source, line_number=number,
                         line=line)
    return PowerUseSummary(
        line_number=header_number,
        generation=_generation(global_indent is not None, entries + global_entries),
        capacity_mah=capacity.get("Capacity"), rated_capacity_mah=capacity.get("Rated"),
        typical_capacity_mah=capacity.get("Typical"),
        computed_drain_mah=capacity.get("Computed drain"),
        actual_drain_low_mah=capacity.get("low"), actual_drain_high_mah=capacity.get("high"),
        capacity_extras=dict(capacity.get("extras", {})),
        global_components=tuple(_freeze(e) for e in global_entries),
        entries=tuple(_freeze(e) for e in entries))


def _capacity(text: str, src: str | None, number: int, line: str) -> dict[str, Any]:
    # Parts are joined by ", "; a decimal comma never has a space after it.
    result: dict[str, Any] = {"extras": {}}
    for part in text.split(", "):
        key, sep, value = part.partition(": ")
        if not sep:
            raise ParseError(f"expected 'key: value' parts in the Capacity line, got {part!r}",
                             source=src, line_number=number, line=line)
        if key in ("Capacity", "Rated", "Typical", "Computed drain"):
            result[key] = parse_number(value, what=key, source=src, line_number=number, line=line)
        elif key == "actual drain":
            match = re.fullmatch(rf"({UNUM})(?:-({UNUM}))?", value.strip(), re.ASCII)
            if match is None:
                raise ParseError(f"actual drain: expected 'N' or 'LOW-HIGH' in mAh, got {value!r}",
                                 source=src, line_number=number, line=line)
            low = float(match.group(1).replace(",", "."))
            result["low"] = low
            result["high"] = low if match.group(2) is None else float(
                match.group(2).replace(",", "."))
        else:
            result["extras"][key] = value
    return result


def _entry(match: re.Match[str], in_global: bool, number: int, indent: int,
           src: str | None, line: str) -> _Entry:
    power = parse_number(match.group("power"), what="power", source=src, line_number=number,
                         line=line)
    if match.group("kind") in ("Uid", "UID"):
        kind, name = "uid", match.group("id")
    elif match.group("kind") == "User":
        kind, name = "user", match.group("id")
    else:
        kind, name = ("global" if in_global else "component"), match.group("label").strip()
    entry = _Entry(number, kind, name, indent, power)
    if match.group("kind") == "UID":  # BatteryUsageStats (Android 12+) spells it so
        entry.values["upper"] = True
    _read_rest(entry, match.group("rest") or "", src, line)
    return entry


def _read_rest(entry: _Entry, rest: str, src: str | None, line: str) -> None:
    values = entry.values
    pos = 0
    after_smear = False
    while rest[pos:].strip():
        for name, pattern in _REST_RES:  # noqa: B007 - `name` is read after the break
            match = pattern.match(rest, pos)
            if match is not None:
                break
        else:
            values["unread_text"] = rest[pos:].strip()
            return
        if name == "group":
            close = _closing_paren(rest, match.end() - 1)
            if close is None:
                values["unread_text"] = rest[pos:].strip()
                return
            inner = rest[match.end():close].strip()
            if after_smear:
                values["smear_components"] = _components(inner)[0]
                after_smear = False
            else:
                values["breakdown_raw"] = inner
                values["components"], values["durations"] = _components(inner)
            pos = close + 1
            continue
        pos = match.end()
        if name == "smear":
            values["smeared"] = _num(match.group(1), "Including smearing", src, entry, line)
            after_smear = True
        elif name == "excluded":
            values["excluded"] = True
        elif name == "model":
            values["model"] = match.group(1)
        elif name == "apps":
            values["apps"] = _num(match.group(1), "apps", src, entry, line)
        elif name == "duration":
            values["duration"] = parse_duration_ms(match.group(1), what="duration", source=src,
                                                   line_number=entry.line_number, line=line)
        else:  # a process state: `fg: 1.2`
            values.setdefault("states", {})[match.group(1)] = _num(
                match.group(2), match.group(1), src, entry, line)


def _num(text: str, what: str, src: str | None, entry: _Entry, line: str) -> float:
    return parse_number(text, what=what, source=src, line_number=entry.line_number, line=line)


def _closing_paren(text: str, open_at: int) -> int | None:
    depth = 0
    for index in range(open_at, len(text)):
        if text[index] == "(":
            depth += 1
        elif text[index] == ")":
            depth -= 1
            if depth == 0:
                return index
    return None


def _components(text: str) -> tuple[dict[str, float] | None, dict[str, int]]:
    """`cpu=1.2 wake=0.5` -> ({cpu: 1.2, wake: 0.5}, {}); None when a token is not `name=N`."""
    values: dict[str, float] = {}
    durations: dict[str, int] = {}
    pos = 0
    while text[pos:].strip():
        match = _COMPONENT_RE.match(text, pos)
        if match is None or match.group(1) in values:
            return None, {}
        values[match.group(1)] = float(match.group(2).replace(",", "."))
        if match.group(3) is not None:
            try:
                durations[match.group(1)] = parse_duration_ms(
                    match.group(3), what="duration", source=None, line_number=None, line=None)
            except ParseError:
                return None, {}
        pos = match.end()
    return values, durations


def _continuation(owner: _Entry, text: str) -> None:
    """Android 15+ lines under a UID: its components, or one power/screen state's components."""
    values = owner.values
    if text.startswith("("):
        close = _closing_paren(text, 0)
        if close is not None:
            values.setdefault("state_raw", {})[text[1:close].strip()] = text[close + 1:].strip()
            return
    elif values.get("breakdown_raw") is None:
        values["breakdown_raw"] = text
        values["components"], values["durations"] = _components(text)
        return
    previous = values.get("unread_text")
    values["unread_text"] = text if previous is None else f"{previous} | {text}"


def _generation(has_global: bool, entries: list[_Entry]) -> str:
    if has_global or any(e.kind == "uid" and e.values.get("upper") for e in entries):
        return "battery_usage_stats"
    if any(e.values.get("smeared") is not None or e.values.get("excluded") for e in entries):
        return "smearing"
    return "legacy"


def _freeze(entry: _Entry) -> PowerUseEntry:
    values = entry.values
    return PowerUseEntry(
        line_number=entry.line_number, kind=entry.kind, name=entry.name,
        uid=uid_number(entry.name) if entry.kind == "uid" else None,
        power_mah=entry.power_mah, components_mah=values.get("components"),
        component_durations_ms=dict(values.get("durations") or {}),
        breakdown_raw=values.get("breakdown_raw"), smeared_power_mah=values.get("smeared"),
        smear_components_mah=values.get("smear_components"),
        excluded_from_smearing=bool(values.get("excluded")), apps_power_mah=values.get("apps"),
        duration_ms=values.get("duration"), power_model=values.get("model"),
        process_states_mah=dict(values.get("states") or {}),
        state_breakdowns_raw=dict(values.get("state_raw") or {}),
        unread_text=values.get("unread_text"))
