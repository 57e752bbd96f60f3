"""Formats `edgebench inspect` can read, and how one is chosen for a file.

A format is a name, a `sniff` that scores how sure it is that some text is its kind, and a pure
`parse` that returns a frozen dataclass record (or raises ParseError). Text formats register in
`edgebench.inspect.formats`; binary `.tflite` files are handled separately.
"""
from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Any, Callable

# sniff(text, file_name) -> confidence: 0 = not mine, 100 = certainly mine. Content beats name:
# name-based hints (e.g. a sysfs file name inside the file name) should score at most 40.
Sniffer = Callable[[str, str], int]
Parser = Callable[[str], Any]


@dataclass(frozen=True)
class TextFormat:
    name: str
    description: str
    sniff: Sniffer
    parse: Parser


def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums, tuples and dicts to plain JSON types, keeping field names (units in them)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value
