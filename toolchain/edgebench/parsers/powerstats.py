"""ODPM power rails: `adb shell dumpsys powerstats` and the Pixel ODPM driver's `energy_value`.

`dumpsys powerstats` (Android 11+, AOSP PowerStatsService) prints section headers
`PowerStatsService dumpsys: available <Section>` and, indented by IndentingPrintWriter, one row per
item: `ChannelId: %d, ChannelName: %s, ChannelSubsystem: %s` under "available Channels" and
`EnergyConsumerId: %d, Ordinal: %d, Type: %s, Name: %s` under "available EnergyConsumers" (Type is
the AIDL enum's number on some releases, its name on others). AndroidX detects ODPM by these
ChannelId rows; an empty Channels section means the device has no rails (not an error).
Rows are read as `Key: value` pairs, so fields a vendor adds are kept in `extras`.

`/sys/bus/iio/devices/iio:deviceN/energy_value` (Pixel 6+ ODPM driver; one file per meter chip):
    t=<ms>
    CH<i>(T=<ms>)[<rail name>], <energy in µWs since boot>
Both parsers were written from the AOSP source and the driver's format, not from a capture.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from edgebench.errors import ParseError
from edgebench.parsers._common import NAME_HINT_SCORE, parse_int, sniff_sample, text_lines

_HEADER_RE = re.compile(r"\s*PowerStatsService dumpsys: (.*?)\s*$")
_PAIR_RE = re.compile(r"(\w+): (.*?)(?=, \w+: |$)")
_ROW_KEYS = {"channels": "ChannelId", "energy_consumers": "EnergyConsumerId"}
# android.hardware.power.stats.EnergyConsumerType
ENERGY_CONSUMER_TYPES = {0: "OTHER", 1: "BLUETOOTH", 2: "CPU_CLUSTER", 3: "DISPLAY", 4: "GNSS",
                         5: "MOBILE_RADIO", 6: "WIFI", 7: "CAMERA"}
_T_RE = re.compile(r"\s*t=(.*?)\s*$")
_CH_RE = re.compile(r"\s*CH([0-9]{1,9})\(T=([^)]*)\)\[(.*)\],\s*(.*?)\s*$")


@dataclass(frozen=True)
class PowerChannel:
    id: int
    name: str  # rail name, e.g. S4M_VDD_CPUCL0 (device-specific)
    subsystem: str | None  # e.g. CPU(LITTLE), GPU; None when the row had none
    extras: dict[str, str]


@dataclass(frozen=True)
class EnergyConsumer:
    id: int
    ordinal: int | None
    type: str | None  # as printed: a number or an enum name
    type_name: str | None  # CPU_CLUSTER, DISPLAY, ... (from the number when a number was printed)
    name: str | None
    extras: dict[str, str]


@dataclass(frozen=True)
class PowerStatsDump:
    channels_listed: bool  # the "available Channels" section was printed
    channels: tuple[PowerChannel, ...]  # empty: the HAL reports no rails
    energy_consumers: tuple[EnergyConsumer, ...]
    sections: tuple[str, ...]  # section titles in order, e.g. "available Channels"

    @property
    def has_rails(self) -> bool:
        return bool(self.channels)


@dataclass(frozen=True)
class OdpmRail:
    channel: int  # CH<i>: index within this meter's file
    t_ms: int  # when the meter last accumulated this rail (ms; the driver's clock)
    name: str
    energy_uws: int  # µWs since boot (or since the counter last restarted)


@dataclass(frozen=True)
class OdpmEnergy:
    t_ms: int | None  # the file's `t=` line (ms); None when the driver printed none
    rails: tuple[OdpmRail, ...]


def parse_dumpsys_powerstats(text: str, *, source: str | None = None) -> PowerStatsDump:
    src = source or "dumpsys powerstats"
    section: str | None = None
    sections: list[str] = []
    channels: list[PowerChannel] = []
    consumers: list[EnergyConsumer] = []
    for number, line in enumerate(text_lines(text), start=1):
        if not line.strip():
            continue
        header = _HEADER_RE.match(line)
        if header:
            title = header.group(1)
            sections.append(title)
            section = {"available Channels": "channels",
                       "available EnergyConsumers": "energy_consumers"}.get(title, "other")
            continue
        if section is None:
            raise ParseError("expected 'PowerStatsService dumpsys: ...' before any row",
                             source=src, line_number=number, line=line)
        if section == "other":
            continue  # power entities, logger stats: not needed for rails
        fields = _pairs(line)
        key = _ROW_KEYS[section]
        if key not in fields:
            raise ParseError(f"expected a '{key}: N, ...' row in the {section.replace('_', ' ')} section",
                             source=src, line_number=number, line=line)
        ident = parse_int(fields.pop(key), what=key, source=src, line_number=number, line=line)
        if section == "channels":
            name = fields.pop("ChannelName", None)
            if not name:
                raise ParseError("channel row without ChannelName", source=src, line_number=number, line=line)
            channels.append(PowerChannel(ident, name, fields.pop("ChannelSubsystem", None) or None, fields))
        else:
            ordinal = fields.pop("Ordinal", None)
            kind = fields.pop("Type", None)
            type_name = kind
            if kind is not None and re.fullmatch(r"-?[0-9]{1,9}", kind):
                type_name = ENERGY_CONSUMER_TYPES.get(int(kind))
            consumers.append(EnergyConsumer(
                ident, None if ordinal is None else parse_int(ordinal, what="Ordinal", source=src,
                                                              line_number=number, line=line),
                kind, type_name, fields.pop("Name", None), fields))
    if not sections:
        raise ParseError("no 'PowerStatsService dumpsys:' header: not `dumpsys powerstats` output "
                         "(a device without the PowerStats HAL prints nothing or 'Can't find service')",
                         source=src)
    return PowerStatsDump("available Channels" in sections, tuple(channels), tuple(consumers), tuple(sections))


def _pairs(line: str) -> dict[str, str]:
    return {m.group(1): m.group(2).strip() for m in _PAIR_RE.finditer(line.strip())}


def parse_odpm_energy_value(text: str, *, source: str | None = None) -> OdpmEnergy:
    src = source or "energy_value"
    t_ms: int | None = None
    rails: list[OdpmRail] = []
    for number, line in enumerate(text_lines(text), start=1):
        if not line.strip():
            continue
        stamp = _T_RE.fullmatch(line)
        if stamp:
            if t_ms is not None or rails:
                raise ParseError("'t=' must come once, before the CH rows", source=src, line_number=number,
                                 line=line)
            t_ms = parse_int(stamp.group(1), what="t= (ms)", source=src, line_number=number, line=line)
            continue
        row = _CH_RE.fullmatch(line)
        if row is None:
            raise ParseError("expected 'CH<i>(T=<ms>)[<rail>], <uWs>'", source=src, line_number=number, line=line)
        channel, t_text, name, energy = row.groups()
        if not name:
            raise ParseError("empty rail name", source=src, line_number=number, line=line)
        rails.append(OdpmRail(
            int(channel), parse_int(t_text, what="T= (ms)", source=src, line_number=number, line=line), name,
            parse_int(energy, what="energy (uWs)", source=src, line_number=number, line=line)))
    if not rails:
        raise ParseError("no 'CH<i>(T=<ms>)[<rail>], <uWs>' rows: not an ODPM energy_value file", source=src)
    return OdpmEnergy(t_ms, tuple(rails))


def sniff_dumpsys_powerstats(text: str, file_name: str) -> int:
    lines = sniff_sample(text)
    if any(_HEADER_RE.match(line) for line in lines):
        return 95
    if any(line.strip().startswith("ChannelId: ") and "ChannelName: " in line for line in lines):
        return 60
    return NAME_HINT_SCORE // 2 if "powerstats" in os.path.basename(file_name or "").lower() else 0


def sniff_odpm_energy_value(text: str, file_name: str) -> int:
    lines = [line for line in sniff_sample(text) if line.strip()]
    hits = sum(1 for line in lines if _CH_RE.fullmatch(line))
    if hits and hits + sum(1 for line in lines if _T_RE.fullmatch(line)) == len(lines):
        return 95
    if hits:
        return 60
    return NAME_HINT_SCORE // 2 if "energy_value" in os.path.basename(file_name or "").lower() else 0
