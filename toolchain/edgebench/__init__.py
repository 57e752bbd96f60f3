"""edgebench: what a model costs on the device — latency and battery, measured honestly.

The public API is small and imports nothing heavy: TensorFlow is only loaded by training stages.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edgebench.version import __version__

__all__ = ["__version__", "push_and_run", "inspect_file", "open_store"]

if TYPE_CHECKING:
    from edgebench.api import inspect_file, open_store, push_and_run


def __getattr__(name: str) -> Any:
    # Lazy: `import edgebench` stays fast; the API module is loaded on first use.
    if name in ("push_and_run", "inspect_file", "open_store"):
        from edgebench import api
        return getattr(api, name)
    raise AttributeError(f"module 'edgebench' has no attribute {name!r}")
