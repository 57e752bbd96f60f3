"""`edgebench inspect`: read .tflite models and captured device/tool output into records.

`inspect_file(path, as_format=None)` picks the reader; TextFormat parsers register in
`edgebench.inspect.formats.TEXT_FORMATS`. Heavy readers are imported only when used.
"""
from __future__ import annotations

from edgebench.inspect.dispatch import InspectResult, inspect_file, known_formats

__all__ = ["InspectResult", "inspect_file", "known_formats"]
