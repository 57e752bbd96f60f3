"""`/proc/cpuinfo` from ARMv7, aarch64 (with or without the leading `Processor` line), a 32-bit
view of a 64-bit CPU, and x86; LF or CRLF.

Layouts differ by kernel: old ARM kernels print one `Processor` model line, then per-core
`processor`/`BogoMIPS` blocks, then ONE shared block (Features, CPU implementer, ...) that
applies to every core; newer kernels repeat everything per core. Blocks are separated by blank
lines: a block holding a `processor` line describes cores, any other block is shared.
Only online CPUs are listed by the kernel, so `core_count` is the online count at capture time.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from edgebench.errors import ParseError
from edgebench.parsers._common import (NAME_HINT_SCORE, parse_float, parse_int, parse_int_or_hex,
                                        sniff_sample, sysfs_name_hint, text_lines)
from edgebench.parsers.cpu_parts import core_name, implementer_name

_LINE_RE = re.compile(r"([^:]*?)\s*:\s?(.*)$")
# Board-wide lines some kernels print without a blank line after the last core.
_SHARED_ONLY = frozenset({"Hardware", "Revision", "Serial"})


@dataclass(frozen=True)
class CpuCore:
    index: int
    model_name: str | None  # per-core `model name`, else the shared `Processor` line
    implementer: int | None  # MIDR implementer (0x41 ARM, 0x51 Qualcomm, ...)
    implementer_name: str | None
    architecture: str | None  # as printed: "7", "8", "AArch64"
    variant: int | None
    part: int | None
    revision: int | None
    core_name: str | None  # e.g. "Cortex-A55", "Kryo 3xx Gold"; None when not in the table
    core_based_on: str | None  # ARM design a vendor core derives from ("Cortex-A75")
    features: tuple[str, ...]  # ARM `Features` or x86 `flags`
    bogomips: float | None
    cpu_mhz: float | None  # x86 `cpu MHz` (ARM kernels do not print a clock here)
    vendor_id: str | None  # x86 `vendor_id`
    fields: dict[str, str]  # every key/value of this core as printed (shared ones not copied)


@dataclass(frozen=True)
class CpuInfo:
    cores: tuple[CpuCore, ...]
    core_count: int
    hardware: str | None  # ARM `Hardware` line (board/SoC string), absent on many new kernels
    processor: str | None  # ARM shared `Processor` line ("AArch64 Processor rev 12 (aarch64)")
    revision: str | None
    serial: str | None
    instruction_set: str | None  # inferred: "arm64", "arm32", "x86" or None
    shared_fields: dict[str, str]  # keys printed once for all cores


def _key_values(text: str, src: str | None) -> list[list[tuple[str, str, int, str]]]:
    """Blank-line separated blocks of (key, value, line number, line)."""
    blocks: list[list[tuple[str, str, int, str]]] = [[]]
    for number, line in enumerate(text_lines(text), start=1):
        if not line.strip():
            if blocks[-1]:
                blocks.append([])
            continue
        match = _LINE_RE.match(line)
        if match is None or not match.group(1).strip():
            raise ParseError("expected `key<TAB>: value`, as /proc/cpuinfo prints it",
                             source=src, line_number=number, line=line)
        blocks[-1].append((match.group(1).strip(), match.group(2).strip(), number, line))
    return [block for block in blocks if block]


def parse_cpuinfo(text: str, *, source: str | None = None) -> CpuInfo:
    src = source
    shared: dict[str, str] = {}
    per_core: list[tuple[int, dict[str, str], int, str]] = []
    for block in _key_values(text, src):
        current: dict[str, str] | None = None
        for key, value, number, line in block:
            if key == "processor":  # lower case: a core; `Processor` is the shared model line
                index = parse_int(value, what="processor index", source=src,
                                  line_number=number, line=line)
                if index < 0 or any(index == seen for seen, _, _, _ in per_core):
                    raise ParseError(f"processor {index} is listed twice or is negative",
                                     source=src, line_number=number, line=line)
                current = {}
                per_core.append((index, current, number, line))
            elif current is not None and key not in _SHARED_ONLY:
                if key in current:
                    raise ParseError(f"{key!r} appears twice for one processor",
                                     source=src, line_number=number, line=line)
                current[key] = value
            else:
                shared[key] = value
    if not per_core:
        # Uniprocessor ARM kernels print no `processor` line at all: one CPU, described by
        # the shared block. Anything without CPU identification is not /proc/cpuinfo.
        if not ({"CPU implementer", "CPU part"} <= shared.keys()
                or ("Processor" in shared and "BogoMIPS" in shared)):
            raise ParseError("no `processor : N` entries and no CPU identification lines; "
                             "expected the content of /proc/cpuinfo", source=src)
        per_core.append((0, {}, 0, ""))
    cores = tuple(_core(index, fields, shared, src, number, line)
                  for index, fields, number, line in per_core)
    return CpuInfo(cores=cores, core_count=len(cores), hardware=shared.get("Hardware"),
                   processor=shared.get("Processor"), revision=shared.get("Revision"),
                   serial=shared.get("Serial"), instruction_set=_instruction_set(cores, shared),
                   shared_fields=shared)


def _core(index: int, fields: dict[str, str], shared: dict[str, str], src: str | None,
          number: int, line: str) -> CpuCore:
    def get(*keys: str) -> str | None:
        for key in keys:  # per-core value first, then the block shared by all cores
            if key in fields:
                return fields[key]
        for key in keys:
            if key in shared:
                return shared[key]
        return None

    def as_id(key: str) -> int | None:
        value = get(key)
        if value is None or value == "":
            return None
        return parse_int_or_hex(value, what=f"processor {index} {key}", source=src,
                                line_number=number or None, line=line or None)

    def as_float(*keys: str) -> float | None:
        value = get(*keys)
        if value is None or value == "":
            return None
        return parse_float(value, what=f"processor {index} {keys[0]}", source=src,
                           line_number=number or None, line=line or None)

    implementer, part = as_id("CPU implementer"), as_id("CPU part")
    name = core_name(implementer, part)
    features = get("Features", "flags")
    return CpuCore(
        index=index, model_name=get("model name") or get("Processor"),
        implementer=implementer, implementer_name=implementer_name(implementer),
        architecture=get("CPU architecture"), variant=as_id("CPU variant"), part=part,
        revision=as_id("CPU revision"), core_name=name.name if name else None,
        core_based_on=name.based_on if name else None,
        features=tuple(features.split()) if features else (),
        bogomips=as_float("BogoMIPS", "bogomips"), cpu_mhz=as_float("cpu MHz"),
        vendor_id=get("vendor_id"), fields=fields)


def _instruction_set(cores: tuple[CpuCore, ...], shared: dict[str, str]) -> str | None:
    """What the kernel runs as, from its own words; a 64-bit CPU under a 32-bit kernel is arm32."""
    if any(c.vendor_id for c in cores) or any("x86" in (c.model_name or "") for c in cores):
        return "x86"
    names = " ".join(filter(None, [shared.get("Processor")] + [c.model_name for c in cores]))
    features = set(cores[0].features) if cores else set()
    if "(aarch64)" in names or "AArch64" in names or "asimd" in features:
        return "arm64"
    if re.search(r"\(v[5-8]l\)", names) or features & {"thumb", "vfp", "neon", "half"}:
        return "arm32"
    return None


def sniff_cpuinfo(text: str, file_name: str) -> int:
    lines = sniff_sample(text)
    keys = set()
    for line in lines:
        match = _LINE_RE.match(line)
        if match:
            keys.add(match.group(1).strip())
    hint = NAME_HINT_SCORE if sysfs_name_hint(file_name) == "proc_cpuinfo" else 0
    identification = {"CPU implementer", "CPU part", "BogoMIPS", "bogomips", "model name",
                      "vendor_id", "flags", "Features"}
    if ("processor" in keys or "Processor" in keys) and keys & identification:
        return 95
    return hint
