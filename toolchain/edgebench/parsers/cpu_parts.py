"""ARM CPU implementer / part numbers to core names (public facts: ARM TRMs, Linux cputype.h).

Vendor cores that derive from an ARM design (Qualcomm Kryo 2xx-4xx, HiSilicon's A76 id) also
name the ARM core they are built on, because that is what predicts NN kernel speed.
"""
from __future__ import annotations

from dataclasses import dataclass

IMPLEMENTERS: dict[int, str] = {
    0x41: "ARM", 0x42: "Broadcom", 0x43: "Cavium", 0x44: "DEC", 0x46: "Fujitsu",
    0x48: "HiSilicon", 0x49: "Infineon", 0x4D: "Motorola/Freescale", 0x4E: "NVIDIA",
    0x50: "APM", 0x51: "Qualcomm", 0x53: "Samsung", 0x56: "Marvell", 0x61: "Apple",
    0x66: "Faraday", 0x69: "Intel", 0x70: "Phytium", 0xC0: "Ampere",
}

_ARM: dict[int, str] = {
    0xB02: "ARM11 MPCore", 0xB36: "ARM1136", 0xB56: "ARM1156", 0xB76: "ARM1176",
    0xC05: "Cortex-A5", 0xC07: "Cortex-A7", 0xC08: "Cortex-A8", 0xC09: "Cortex-A9",
    0xC0D: "Cortex-A12/A17", 0xC0E: "Cortex-A17", 0xC0F: "Cortex-A15",
    0xC14: "Cortex-R4", 0xC15: "Cortex-R5", 0xC17: "Cortex-R7", 0xC18: "Cortex-R8",
    0xD01: "Cortex-A32", 0xD02: "Cortex-A34", 0xD03: "Cortex-A53", 0xD04: "Cortex-A35",
    0xD05: "Cortex-A55", 0xD06: "Cortex-A65", 0xD07: "Cortex-A57", 0xD08: "Cortex-A72",
    0xD09: "Cortex-A73", 0xD0A: "Cortex-A75", 0xD0B: "Cortex-A76", 0xD0C: "Neoverse-N1",
    0xD0D: "Cortex-A77", 0xD0E: "Cortex-A76AE", 0xD40: "Neoverse-V1", 0xD41: "Cortex-A78",
    0xD42: "Cortex-A78AE", 0xD43: "Cortex-A65AE", 0xD44: "Cortex-X1", 0xD46: "Cortex-A510",
    0xD47: "Cortex-A710", 0xD48: "Cortex-X2", 0xD49: "Neoverse-N2", 0xD4A: "Neoverse-E1",
    0xD4B: "Cortex-A78C", 0xD4C: "Cortex-X1C", 0xD4D: "Cortex-A715", 0xD4E: "Cortex-X3",
    0xD4F: "Neoverse-V2", 0xD80: "Cortex-A520", 0xD81: "Cortex-A720", 0xD82: "Cortex-X4",
    0xD84: "Neoverse-V3", 0xD85: "Cortex-X925", 0xD87: "Cortex-A725", 0xD8E: "Neoverse-N3",
}

# Qualcomm: (name, ARM core it is built on or None for custom designs).
_QUALCOMM: dict[int, tuple[str, str | None]] = {
    0x00F: ("Scorpion", None), 0x02D: ("Scorpion", None),
    0x04D: ("Krait", None), 0x06F: ("Krait", None),
    0x201: ("Kryo", None), 0x205: ("Kryo", None), 0x211: ("Kryo", None),
    0x800: ("Kryo 2xx Gold", "Cortex-A73"), 0x801: ("Kryo 2xx Silver", "Cortex-A53"),
    0x802: ("Kryo 3xx Gold", "Cortex-A75"), 0x803: ("Kryo 3xx Silver", "Cortex-A55"),
    0x804: ("Kryo 4xx Gold", "Cortex-A76"), 0x805: ("Kryo 4xx Silver", "Cortex-A55"),
    0xC00: ("Falkor", None), 0xC01: ("Saphira", None),
    0x001: ("Oryon", None),
}

_OTHERS: dict[int, dict[int, tuple[str, str | None]]] = {
    0x48: {0xD01: ("TaiShan v110", None), 0xD40: ("Cortex-A76", "Cortex-A76")},
    0x53: {0x001: ("Exynos M1", None), 0x002: ("Exynos M3", None), 0x003: ("Exynos M4", None),
           0x004: ("Exynos M5", None)},
    0x4E: {0x000: ("Denver", None), 0x003: ("Denver 2", None), 0x004: ("Carmel", None)},
    0x42: {0x00F: ("Brahma-B15", None), 0x100: ("Brahma-B53", None)},
    0x56: {0x581: ("PJ4/PJ4b", None), 0x584: ("PJ4B-MP", None)},
}


@dataclass(frozen=True)
class CoreName:
    name: str
    based_on: str | None  # the ARM design a vendor core derives from, when public


def core_name(implementer: int | None, part: int | None) -> CoreName | None:
    """Name of the core with this MIDR implementer/part, or None when not in the table."""
    if implementer is None or part is None:
        return None
    if implementer == 0x41:
        name = _ARM.get(part)
        return CoreName(name, name) if name else None
    if implementer == 0x51:
        entry = _QUALCOMM.get(part)
    else:
        entry = _OTHERS.get(implementer, {}).get(part)
    return CoreName(entry[0], entry[1]) if entry else None


def implementer_name(implementer: int | None) -> str | None:
    return None if implementer is None else IMPLEMENTERS.get(implementer)
