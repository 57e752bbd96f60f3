"""`adb devices` and `adb devices -l` output, from every adb generation edgebench meets.

adb prints `%-22s %s` (serial padded to 22 columns, then the state) for `-l`, `serial\\tstate`
without it, then for `-l` the device path (`usb:1-1.5` on Linux, `usb:1114112X` on macOS),
`product:`, `model:`, `device:` and, since adb 1.0.40, `transport_id:`. The `no permissions`
state carries its own explanation text, spaces and a URL included.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from edgebench.errors import ParseError
from edgebench.parsers._common import (NAME_HINT_SCORE, parse_int, sniff_sample, sysfs_name_hint,
                                        text_lines)

HEADER = "List of devices attached"
# Longest first so that no state is mistaken for a prefix of another.
STATES = ("no permissions", "unauthorized", "authorizing", "connecting", "bootloader",
          "recovery", "sideload", "detached", "offline", "unknown", "device", "rescue", "host")
_NO_SERIAL = "(no serial number)"
_TOKEN_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(\S*)")
_TCP_SERIAL_RE = re.compile(r"(?:\[[0-9A-Za-z:.%]+\]|[A-Za-z0-9.\-]+):[0-9]{1,5}")
_MDNS_MARKERS = ("._adb-tls-connect._tcp", "._adb-tls-pairing._tcp", "._adb._tcp")
# Lines the adb client prints around the list when it starts or restarts its server.
_NOISE_RE = re.compile(
    r"\* daemon (?:not running|started successfully)|adb server (?:version|is out of date)"
    r"|\* daemon not running\. starting it now")
_FATAL_RE = re.compile(r"\* failed to start daemon|error: cannot connect to daemon"
                       r"|adb: (?:error|failed)")


@dataclass(frozen=True)
class AdbDevice:
    serial: str
    state: str  # one of STATES
    state_detail: str | None  # the explanation adb gives with `no permissions`
    usb: str | None  # device path after `usb:` (Linux `1-1.5`, macOS location id `1114112X`)
    product: str | None
    model: str | None
    device: str | None
    transport_id: int | None
    connection_kind: str  # inferred from the serial's shape: usb | tcp | mdns | emulator
    extras: dict[str, str]  # key:value attributes this parser has no field for


@dataclass(frozen=True)
class AdbDevicesResult:
    devices: tuple[AdbDevice, ...]
    header_present: bool
    noise_lines: tuple[str, ...]  # adb server start/restart messages that were recognised


def _connection_kind(serial: str, usb: str | None) -> str:
    if any(marker in serial for marker in _MDNS_MARKERS):
        return "mdns"
    if re.fullmatch(r"emulator-[0-9]+", serial):
        return "emulator"
    if _TCP_SERIAL_RE.fullmatch(serial):
        return "tcp"
    # Anything else is a USB transport: adb has no other kind whose serial looks like this.
    return "usb"


def _split_state(rest: str, *, src: str | None, number: int, line: str) -> tuple[str, str | None, str]:
    """(state, detail, remaining attribute text) from the text after the serial."""
    for state in STATES:
        if rest == state or rest.startswith(state + " ") or rest.startswith(state + "\t"):
            remainder = rest[len(state):]
            if state != "no permissions":
                return state, None, remainder
            # `no permissions (reason); see [url]` — the detail ends at `]`, or at `)`.
            detail_end = 0
            see = remainder.find("; see [")
            if see >= 0 and "]" in remainder[see:]:
                detail_end = remainder.index("]", see) + 1
            elif remainder.lstrip().startswith("(") and ")" in remainder:
                detail_end = remainder.index(")") + 1
            detail = remainder[:detail_end].strip() or None
            return state, detail, remainder[detail_end:]
    raise ParseError(
        f"unknown device state after the serial: {rest.split()[0] if rest.split() else rest!r}; "
        f"expected one of {', '.join(STATES)}", source=src, line_number=number, line=line)


def _parse_device_line(line: str, *, src: str | None, number: int) -> AdbDevice:
    if line.startswith(_NO_SERIAL):
        serial, rest = _NO_SERIAL, line[len(_NO_SERIAL):]
    else:
        match = re.match(r"(\S+)[ \t]+(.*)$", line)
        if match is None:
            raise ParseError("expected `SERIAL STATE [attributes]`, got a single word",
                             source=src, line_number=number, line=line)
        serial, rest = match.group(1), match.group(2)
    state, detail, remainder = _split_state(rest.strip(), src=src, number=number, line=line)
    attrs: dict[str, str] = {}
    for token in remainder.split():
        token_match = _TOKEN_RE.fullmatch(token)
        if token_match is None:
            raise ParseError(f"expected `key:value` device attributes, got {token!r}",
                             source=src, line_number=number, line=line)
        key, value = token_match.groups()
        if key in attrs:
            raise ParseError(f"attribute {key}: appears twice on one device line",
                             source=src, line_number=number, line=line)
        attrs[key] = value
    transport_id = None
    if "transport_id" in attrs:
        transport_id = parse_int(attrs.pop("transport_id"), what="transport_id", source=src,
                                 line_number=number, line=line)
    usb = attrs.pop("usb", None)
    return AdbDevice(
        serial=serial, state=state, state_detail=detail, usb=usb,
        product=attrs.pop("product", None), model=attrs.pop("model", None),
        device=attrs.pop("device", None), transport_id=transport_id,
        connection_kind=_connection_kind(serial, usb), extras=attrs)


def parse_adb_devices(text: str, *, source: str | None = None) -> AdbDevicesResult:
    """Parse `adb devices [-l]` output. The header is optional; server start-up noise is kept
    in `noise_lines`; an adb client error (server failed to start) raises ParseError."""
    src = source
    devices: list[AdbDevice] = []
    noise: list[str] = []
    header = False
    for number, line in enumerate(text_lines(text), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped == HEADER:
            if header or devices:
                raise ParseError("a second 'List of devices attached' header; expected one "
                                 "`adb devices` listing per file", source=src,
                                 line_number=number, line=line)
            header = True
            continue
        if _FATAL_RE.match(stripped):
            raise ParseError("adb reported an error instead of a device list; fix the adb "
                             "server (see the line) and capture again", source=src,
                             line_number=number, line=line)
        if _NOISE_RE.match(stripped):
            noise.append(stripped)
            continue
        devices.append(_parse_device_line(line.strip(), src=src, number=number))
    if not header and not devices:
        raise ParseError("no 'List of devices attached' header and no device lines; expected "
                         "`adb devices -l` output", source=src)
    serials = [d.serial for d in devices]
    for serial in serials:
        if serials.count(serial) > 1 and serial != _NO_SERIAL:
            raise ParseError(f"serial {serial!r} is listed twice; expected one listing per file",
                             source=src)
    return AdbDevicesResult(devices=tuple(devices), header_present=header,
                            noise_lines=tuple(noise))


def sniff_adb_devices(text: str, file_name: str) -> int:
    hint = NAME_HINT_SCORE if sysfs_name_hint(file_name) == "adb_devices" else 0
    lines = [line.strip() for line in sniff_sample(text) if line.strip()]
    if not lines:
        return 0
    if HEADER in lines[:5]:
        return 95
    if len(lines) > 64:
        return hint  # no lab lists this many devices: not an adb listing
    try:
        result = parse_adb_devices("\n".join(lines))
    except ParseError:
        return 0
    if any(d.transport_id is not None or d.product or d.usb for d in result.devices):
        return 85
    return max(hint, 55)  # `serial<TAB>state` only: plausible, not certain
