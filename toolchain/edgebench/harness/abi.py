"""The ABIs the harness is built for, and the names each is also known by.

Its own module because both the build (harness/build.py) and the runtime finder (harness/litert_lib.py)
name ABIs, and the build also re-exports the finder.
"""
from __future__ import annotations

from edgebench.errors import HarnessError

ANDROID_ABIS = ("arm64-v8a", "armeabi-v7a", "x86_64", "x86")
_ALIASES = {"host": "host", "aarch64-linux": "aarch64-linux", "arm64-v8a-linux": "aarch64-linux",
            "aarch64-linux-gnu": "aarch64-linux", **{abi: abi for abi in ANDROID_ABIS}}


def canonical_abi(abi: str) -> str:
    """The canonical name of an ABI, or HarnessError listing the known ones."""
    try:
        return _ALIASES[abi]
    except KeyError:
        known = ", ".join(sorted(_ALIASES))
        raise HarnessError(f"unknown harness ABI {abi!r}; expected one of: {known} "
                           "(\"host\" builds for this machine with gcc)") from None
