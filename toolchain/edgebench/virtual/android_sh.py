"""The device's /system/bin/sh: Debian's mksh, with its messages in Android's form.

Debian's mksh (R59c) writes "E: " before every error and "W: " before every warning
(`E: /system/bin/sh: x: inaccessible or not found`); a phone's mksh prints
`/system/bin/sh: x: inaccessible or not found`. No option turns the prefixes off, so the device
gets a copy of the host's mksh in which the one x86-64 call that writes each 3-byte prefix
(`mov $3, %esi; lea PREFIX(%rip), %rdi; call shf_write`) writes 0 bytes instead. The patch is made
only when each prefix string and its call are found exactly once; any other mksh build (another
version, another architecture) is used unchanged, and keeps its own messages.
"""
from __future__ import annotations

import os
import struct
from pathlib import Path

HOST_MKSH = Path("/usr/bin/mksh")
PREFIXES = (b"\0E: \0", b"\0W: \0")
_MOV_ESI_3 = b"\xbe\x03\x00\x00\x00"
_MOV_ESI_0 = b"\xbe\x00\x00\x00\x00"
_LEA_RDI_RIP = b"\x48\x8d\x3d"
_ELF_X86_64 = (b"\x7fELF\x02\x01", 62)  # 64-bit little-endian, EM_X86_64


def _load_segments(elf: bytes) -> list[tuple[int, int, int]]:
    """(file offset, virtual address, size in file) of each PT_LOAD segment."""
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    segments = []
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from("<IIQQQQ", elf, phoff + i * phentsize)
        if p_type == 1:
            segments.append((p_offset, p_vaddr, p_filesz))
    return segments


def _vaddr(segments: list[tuple[int, int, int]], offset: int) -> int | None:
    for start, vaddr, size in segments:
        if start <= offset < start + size:
            return vaddr + offset - start
    return None


def without_prefixes(elf: bytes) -> bytes | None:
    """The mksh binary with both prefix writes emptied, or None when it is not the expected build."""
    if elf[:6] != _ELF_X86_64[0] or struct.unpack_from("<H", elf, 0x12)[0] != _ELF_X86_64[1]:
        return None
    segments = _load_segments(elf)
    patched = bytearray(elf)
    for prefix in PREFIXES:
        if elf.count(prefix) != 1:
            return None
        target = _vaddr(segments, elf.index(prefix) + 1)
        calls = []
        at = elf.find(_MOV_ESI_3 + _LEA_RDI_RIP)
        while at != -1:
            lea = at + len(_MOV_ESI_3)
            rel, = struct.unpack_from("<i", elf, lea + 3)
            end = _vaddr(segments, lea + 7)
            if end is not None and end + rel == target:
                calls.append(at)
            at = elf.find(_MOV_ESI_3 + _LEA_RDI_RIP, at + 1)
        if len(calls) != 1:
            return None
        patched[calls[0]:calls[0] + len(_MOV_ESI_0)] = _MOV_ESI_0
    return bytes(patched)


def install_sh(dest: Path, mksh: Path = HOST_MKSH) -> bool:
    """Write the device's sh at `dest`; True if it is the patched copy, False for a symlink to mksh."""
    patched = without_prefixes(mksh.read_bytes())
    if patched is None:
        os.symlink(str(mksh), dest)
        return False
    dest.write_bytes(patched)
    dest.chmod(0o755)
    return True
