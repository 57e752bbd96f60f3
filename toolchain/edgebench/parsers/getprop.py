"""`adb shell getprop` output: `[key]: [value]` lines, values that span lines, CRLF, empty values.

The device's identity fields used across edgebench (manufacturer, model, SoC, ABIs, fingerprint,
serial, emulator/virtual flags) are read here once, with the fallbacks Android versions need:
Android 10+ may leave `ro.product.*` empty and fill `ro.product.vendor.*` / `.system.*` instead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from edgebench.errors import ParseError
from edgebench.parsers._common import (NAME_HINT_SCORE, parse_int, sniff_sample, sysfs_name_hint,
                                        text_lines)

# Start of an entry: `[key]: [` at the very start of a line (the value may go on for lines).
_ENTRY_RE = re.compile(r"\[([^\[\]]+)\]:[ \t]*\[")


@dataclass(frozen=True)
class GetpropResult:
    """All properties (`props`) and the convenience fields edgebench's device records use.

    Empty property values count as absent in the convenience fields (None).
    """

    props: dict[str, str]
    manufacturer: str | None
    model: str | None
    device: str | None
    brand: str | None
    android_release: str | None
    sdk_int: int | None
    abi_list: tuple[str, ...] | None
    soc_model: str | None
    soc_model_source: str | None  # the property soc_model came from (ro.soc.model, ...)
    soc_manufacturer: str | None
    hardware: str | None
    build_fingerprint: str | None
    serialno: str | None
    is_emulator: bool
    is_virtual: bool

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.props.get(key, default)

    def __getitem__(self, key: str) -> str:
        return self.props[key]

    def __contains__(self, key: object) -> bool:
        return key in self.props

    def __len__(self) -> int:
        return len(self.props)


def parse_getprop(text: str, *, source: str | None = None) -> GetpropResult:
    """Parse `getprop` output. Raises ParseError on any line that is not part of an entry."""
    src = source
    props: dict[str, str] = {}
    pending: tuple[str, list[str], int] | None = None  # key, value lines, line number

    def store(key: str, value: str, number: int, line: str) -> None:
        if key in props and props[key] != value:
            raise ParseError(
                f"property [{key}] appears twice with different values ({props[key]!r} and "
                f"{value!r}); expected one getprop dump per file — split concatenated dumps",
                source=src, line_number=number, line=line)
        props[key] = value

    for number, line in enumerate(text_lines(text), start=1):
        if pending is not None:
            key, parts, start = pending
            if _ENTRY_RE.match(line):
                raise ParseError(
                    f"the value of [{key}] (line {start}) is never closed with ']' before the "
                    "next entry; expected `[key]: [value]` — the dump may be truncated",
                    source=src, line_number=number, line=line)
            stripped = line.rstrip(" \t")
            if stripped.endswith("]"):
                parts.append(stripped[:-1])
                store(key, "\n".join(parts), start, line)
                pending = None
            else:
                parts.append(line)
            continue
        if not line.strip():
            continue  # blank lines between entries carry nothing
        match = _ENTRY_RE.match(line)
        if match is None:
            raise ParseError(
                "expected a getprop entry `[key]: [value]`; remove shell prompts or other "
                "text from the capture", source=src, line_number=number, line=line)
        key = match.group(1)
        rest = line[match.end():].rstrip(" \t")
        if rest.endswith("]"):
            store(key, rest[:-1], number, line)
        else:
            pending = (key, [line[match.end():]], number)
    if pending is not None:
        raise ParseError(
            f"the value of [{pending[0]}] (line {pending[2]}) is never closed with ']'; "
            "the dump looks truncated", source=src, line_number=pending[2])
    if not props:
        raise ParseError("no `[key]: [value]` entries found; expected `adb shell getprop` output",
                         source=src)
    return _build(props, src)


def _first(props: dict[str, str], *keys: str) -> tuple[str | None, str | None]:
    """First non-empty value among `keys`, and the key it came from."""
    for key in keys:
        value = props.get(key, "").strip()
        if value:
            return value, key
    return None, None


def _product(props: dict[str, str], field: str) -> str | None:
    # Android 10+ splits ro.product.* by partition; older builds only have ro.product.<field>.
    value, _ = _first(props, f"ro.product.{field}", f"ro.product.vendor.{field}",
                      f"ro.product.system.{field}", f"ro.product.odm.{field}",
                      f"ro.product.product.{field}", f"ro.product.system_ext.{field}")
    return value


def _build(props: dict[str, str], src: str | None) -> GetpropResult:
    sdk_text, _ = _first(props, "ro.build.version.sdk")
    sdk_int = None if sdk_text is None else parse_int(
        sdk_text, what="ro.build.version.sdk", source=src)

    abilist, _ = _first(props, "ro.product.cpu.abilist", "ro.vendor.product.cpu.abilist",
                        "ro.system.product.cpu.abilist")
    abi_list: tuple[str, ...] | None
    if abilist is not None:
        abi_list = tuple(a.strip() for a in abilist.split(",") if a.strip())
    else:
        # Before Android 5 there was no abilist: cpu.abi (+ cpu.abi2) it is.
        abis = [v for v in (props.get("ro.product.cpu.abi", "").strip(),
                            props.get("ro.product.cpu.abi2", "").strip()) if v]
        abi_list = tuple(abis) if abis else None

    soc_model, soc_source = _first(props, "ro.soc.model", "ro.board.platform", "ro.hardware")
    soc_manufacturer, _ = _first(props, "ro.soc.manufacturer")
    hardware, _ = _first(props, "ro.hardware")
    release, _ = _first(props, "ro.build.version.release", "ro.build.version.release_or_codename")
    fingerprint, _ = _first(props, "ro.build.fingerprint", "ro.system.build.fingerprint",
                            "ro.vendor.build.fingerprint", "ro.bootimage.build.fingerprint")
    serialno, _ = _first(props, "ro.serialno", "ro.boot.serialno")
    # Emulators set ro.kernel.qemu (old) or ro.boot.qemu (Android 12+); goldfish/ranchu are the
    # emulator's virtual boards, which covers images that set neither.
    is_emulator = (props.get("ro.kernel.qemu", "").strip() == "1"
                   or props.get("ro.boot.qemu", "").strip() == "1"
                   or (hardware or "") in ("goldfish", "ranchu"))
    is_virtual = props.get("ro.edgebench.virtual", "").strip() == "1"
    return GetpropResult(
        props=props,
        manufacturer=_product(props, "manufacturer"),
        model=_product(props, "model"),
        device=_product(props, "device"),
        brand=_product(props, "brand"),
        android_release=release,
        sdk_int=sdk_int,
        abi_list=abi_list,
        soc_model=soc_model,
        soc_model_source=soc_source,
        soc_manufacturer=soc_manufacturer,
        hardware=hardware,
        build_fingerprint=fingerprint,
        serialno=serialno,
        is_emulator=is_emulator,
        is_virtual=is_virtual,
    )


def sniff_getprop(text: str, file_name: str) -> int:
    lines = [line for line in sniff_sample(text) if line.strip()]
    hint = NAME_HINT_SCORE if sysfs_name_hint(file_name) == "getprop" else 0
    if not lines or not _ENTRY_RE.match(lines[0]):
        return hint // 2
    entries = sum(1 for line in lines if _ENTRY_RE.match(line))
    if entries / len(lines) < 0.8:
        return max(hint, 30)
    if any(line.startswith(("[ro.", "[persist.", "[sys.", "[init.svc.")) for line in lines):
        return 95
    return 80
