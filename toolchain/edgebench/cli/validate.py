"""Small validators of CLI values shared by subcommands."""
from __future__ import annotations

import re

from edgebench.errors import UsageError

_HEX = re.compile(r"^(0x)?[0-9a-fA-F]+$")


def validate_cpu_mask(text: str | None) -> str | None:
    if text is None:
        return None
    if not _HEX.match(text) or int(text, 16) == 0:
        raise UsageError(f"--cpu-mask takes a non-zero hex CPU mask such as f0 (CPUs 4-7). Received: {text!r}.")
    return text.lower().removeprefix("0x")
