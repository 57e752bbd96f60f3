"""The rich console the commands print through. Written to a log or CI rather than a terminal, rich would
fold tables and model names at 80 columns; there it is made at least `min_width` wide instead."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


def wide_console(*, stderr: bool = False, min_width: int = 160) -> Console:
    from rich.console import Console

    console = Console(stderr=stderr)
    if not console.is_terminal:
        console.width = max(console.width, min_width)
    return console
