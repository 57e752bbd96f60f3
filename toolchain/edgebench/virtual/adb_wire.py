"""adb's wire format: the 24-byte message header, command constants, CNXN banner (asyncio reading).

Written from AOSP's protocol.txt: every message is a 24-byte little-endian header (command, arg0,
arg1, data_length, data_check, magic = command ^ 0xffffffff) plus up to max_payload bytes; from
version 0x01000001 on data_check may be 0 and is not checked.
"""
from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass

A_SYNC = 0x434E5953
A_CNXN = 0x4E584E43
A_AUTH = 0x48545541
A_OPEN = 0x4E45504F
A_OKAY = 0x59414B4F
A_CLSE = 0x45534C43
A_WRTE = 0x45545257
A_STLS = 0x534C5453
COMMAND_NAMES = {A_SYNC: "SYNC", A_CNXN: "CNXN", A_AUTH: "AUTH", A_OPEN: "OPEN", A_OKAY: "OKAY",
                 A_CLSE: "CLSE", A_WRTE: "WRTE", A_STLS: "STLS"}

ADB_AUTH_TOKEN, ADB_AUTH_SIGNATURE, ADB_AUTH_RSAPUBLICKEY = 1, 2, 3
TOKEN_SIZE = 20

A_VERSION_MIN = 0x01000000
A_VERSION_SKIP_CHECKSUM = 0x01000001  # from this version on data_check may be 0 and is not checked
A_VERSION = A_VERSION_SKIP_CHECKSUM
MAX_PAYLOAD = 1024 * 1024
MAX_PAYLOAD_V1 = 4 * 1024  # what a pre-2016 peer may announce; we never go above what the peer says

HEADER = struct.Struct("<6I")
# Features we implement; anything else (sendrecv_v2, cmd, abb, delayed_ack...) stays unadvertised.
FEATURES = ("shell_v2", "stat_v2", "ls_v2", "fixed_push_mkdir", "fixed_push_symlink_timestamp")


class ProtocolError(Exception):
    """The peer sent something that is not an adb packet; the connection is dropped."""


@dataclass(frozen=True)
class Packet:
    command: int
    arg0: int
    arg1: int
    payload: bytes = b""

    @property
    def name(self) -> str:
        return COMMAND_NAMES.get(self.command, f"{self.command:#010x}")


def checksum(payload: bytes) -> int:
    return sum(payload) & 0xFFFFFFFF


def encode(packet: Packet, *, with_checksum: bool = True) -> bytes:
    check = checksum(packet.payload) if with_checksum else 0
    return HEADER.pack(packet.command, packet.arg0, packet.arg1, len(packet.payload), check,
                       packet.command ^ 0xFFFFFFFF) + packet.payload


async def read_packet(reader: asyncio.StreamReader, *, max_payload: int, verify_checksum: bool) -> Packet:
    header = await reader.readexactly(HEADER.size)
    command, arg0, arg1, length, check, magic = HEADER.unpack(header)
    if magic != command ^ 0xFFFFFFFF:
        raise ProtocolError(f"bad magic {magic:#x} for command {command:#x}: not an adb peer")
    if length > max(max_payload, MAX_PAYLOAD):
        raise ProtocolError(f"{COMMAND_NAMES.get(command, hex(command))} carries {length} bytes, "
                            f"more than the {max_payload} agreed")
    payload = await reader.readexactly(length) if length else b""
    if verify_checksum and check and checksum(payload) != check:
        raise ProtocolError(f"checksum mismatch on {COMMAND_NAMES.get(command, hex(command))}")
    return Packet(command, arg0, arg1, payload)


def banner(props: dict[str, str], features: tuple[str, ...] = FEATURES) -> bytes:
    """CNXN identity: 'device::ro.product.name=..;ro.product.model=..;ro.product.device=..;features=..'."""
    parts = [f"{key}={props.get(key, '')}" for key in ("ro.product.name", "ro.product.model", "ro.product.device")]
    parts.append("features=" + ",".join(features))
    return ("device::" + ";".join(parts)).encode()
