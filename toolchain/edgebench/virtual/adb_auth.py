"""adb's RSA authentication, device side (`edgebench virtual-device start --auth`).

Written from AOSP's protocol.txt (AUTH) and the documented key format of libcrypto_utils'
android_pubkey: the host answers our AUTH TOKEN (20 random bytes) with AUTH SIGNATURE, an RSA
PKCS#1 v1.5 signature made as if the token were a SHA-1 digest; we check it against every key the
device has accepted. When no key matches, the host sends AUTH RSAPUBLICKEY ("<base64 key>
<user@host>\\0") and waits for the user: the device stays `unauthorized` until the user allows it
(here: `edgebench virtual-device fault SERIAL --state device`), and the key is then remembered,
so later connections from that host are accepted by signature alone ("Always allow").

A phone keeps accepted keys in /data/misc/adb/adb_keys; the virtual device keeps them in its
folder's `adb_keys` (same format: one "<base64 key> <comment>" per line), out of the device
shell's reach. Only 2048-bit keys with the android_pubkey layout are understood, as adbd does.
"""
from __future__ import annotations

import base64
import binascii
import logging
import os
import struct
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MODULUS_BYTES = 256  # android_pubkey: 2048-bit keys only
PUBKEY = struct.Struct(f"<II{MODULUS_BYTES}s{MODULUS_BYTES}sI")  # words, n0inv, n (LE), rr (LE), e
# DER prefix of a SHA-1 DigestInfo: what RSA_sign(NID_sha1, token) puts before the 20 token bytes.
SHA1_DIGEST_INFO = bytes.fromhex("3021300906052b0e03021a05000414")


@dataclass(frozen=True)
class PublicKey:
    modulus: int
    exponent: int
    text: str  # "<base64> <comment>", as stored in adb_keys


def parse_public_key(data: bytes | str) -> PublicKey:
    """One adb public key ("<base64 android_pubkey> [comment]", NUL-terminated or not)."""
    text = (data.decode("utf-8", "replace") if isinstance(data, bytes) else data).split("\0", 1)[0].strip()
    encoded = text.split(None, 1)[0] if text else ""
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not a base64 adb public key: {encoded[:20]!r}...") from exc
    if len(raw) != PUBKEY.size:
        raise ValueError(f"adb public key of {len(raw)} bytes; expected {PUBKEY.size} (a 2048-bit android_pubkey)")
    words, _, modulus, _, exponent = PUBKEY.unpack(raw)
    if words != MODULUS_BYTES // 4:
        raise ValueError(f"adb public key with a {words * 32}-bit modulus; expected 2048 bits")
    return PublicKey(int.from_bytes(modulus, "little"), exponent, text)


def signature_matches(key: PublicKey, token: bytes, signature: bytes) -> bool:
    """RSA PKCS#1 v1.5 verification of `signature` over `token` taken as a SHA-1 digest."""
    if len(signature) != MODULUS_BYTES:
        return False
    value = int.from_bytes(signature, "big")
    if value >= key.modulus:
        return False
    decoded = pow(value, key.exponent, key.modulus).to_bytes(MODULUS_BYTES, "big")
    suffix = SHA1_DIGEST_INFO + token
    expected = b"\x00\x01" + b"\xff" * (MODULUS_BYTES - 3 - len(suffix)) + b"\x00" + suffix
    return decoded == expected


class AdbKeys:
    """The device's accepted host keys (adb_protocol.AuthPolicy)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def keys(self) -> list[PublicKey]:
        try:
            lines = self.path.read_text().splitlines()
        except FileNotFoundError:
            return []
        found = []
        for line in lines:
            if line.strip():
                try:
                    found.append(parse_public_key(line))
                except ValueError as exc:
                    log.warning("%s: skipping a key: %s", self.path, exc)
        return found

    def verify(self, token: bytes, signature: bytes) -> bool:
        return any(signature_matches(key, token, signature) for key in self.keys())

    def remember(self, public_key: bytes) -> None:
        """The user allowed this host: keep its key (a malformed one is refused, as adbd does)."""
        try:
            key = parse_public_key(public_key)
        except ValueError as exc:
            log.warning("not remembering the offered key: %s", exc)
            return
        if any(known.modulus == key.modulus for known in self.keys()):
            return
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "a") as f:
            f.write(key.text + "\n")
