"""Defensive access to a .tflite flatbuffer: every table, vector and string read is checked
against the file's end, so a truncated or damaged file is a ModelError, never a silently short
name or a loop over a garbage length. Generated reader classes come from the ai-edge-litert wheel.
"""
from __future__ import annotations

import struct
from typing import Any, SupportsIndex

from ai_edge_litert import schema_py_generated as schema

from edgebench.errors import ModelError

_BUILTINS: dict[int, str] = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
_CUSTOM: int = schema.BuiltinOperator.CUSTOM


def _builtin_code(code: schema.OperatorCode) -> int:
    # Schema rule: the real code is the larger of the two fields (the old one is capped at 127).
    codes: tuple[int, int] = (code.BuiltinCode(), code.DeprecatedBuiltinCode())
    return max(codes)


def is_custom(code: schema.OperatorCode) -> bool:
    return _builtin_code(code) == _CUSTOM


class StrictBytes(bytes):
    """Model bytes whose slices fail past the end: flatbuffers' string reader slices without
    checking, so a truncated file would otherwise yield silently shortened names."""

    def __getitem__(self, key: SupportsIndex | slice) -> Any:
        if isinstance(key, slice) and key.stop is not None and key.stop > len(self):
            raise IndexError(f"read past the end of the file (byte {key.stop} of {len(self)})")
        return super().__getitem__(key)


def check_table(obj: Any) -> None:
    """Check that a flatbuffer table's vtable and inline fields lie inside the file."""
    if obj is None:
        return
    tab = getattr(obj, "_tab", obj)
    size = len(tab.Bytes)
    vtable = tab.Pos - struct.unpack_from("<i", tab.Bytes, tab.Pos)[0]
    vt_size, obj_size = struct.unpack_from("<HH", tab.Bytes, vtable)
    if vtable < 0 or vtable + vt_size > size or tab.Pos + obj_size > size or vt_size < 4:
        raise ModelError(f"damaged or truncated .tflite: a table at byte {tab.Pos} runs past the "
                         f"end of the file ({size} bytes)")


def text(value: bytes | None) -> str:
    return value.decode("utf-8", errors="replace") if value is not None else ""


def count(n: int, data: bytes, what: str) -> int:
    # A damaged length field can claim billions of entries; refuse before looping over them.
    if n < 0 or 4 * n > len(data):  # every vector counted here holds 4-byte offsets
        raise ModelError(f"damaged .tflite: {what} count {n} exceeds the file size {len(data)}")
    return n


def op_name(code: schema.OperatorCode) -> str:
    check_table(code)
    builtin = _builtin_code(code)
    if builtin == _CUSTOM:
        return text(code.CustomCode()) or "CUSTOM"
    return _BUILTINS.get(builtin, f"BUILTIN_{builtin}")


def buffer_bytes(data: bytes, model: schema.Model, index: int) -> int:
    """Bytes of constant data held by buffer `index` (0 = none), checked against the file."""
    buf = model.Buffers(index)
    if buf is None:
        return 0
    check_table(buf)
    n: int = buf.DataLength()
    if n:
        buf.DataAsNumpy()  # raises ValueError when the vector runs past the end of the file
        return n
    offset: int = buf.Offset()
    size: int = buf.Size()
    if offset > 1 and size:  # >2 GB models keep data after the flatbuffer, at file offsets
        if offset + size > len(data):
            raise ModelError(f"truncated .tflite: buffer {index} ends at byte {offset + size}, "
                             f"the file has {len(data)}")
        return size
    return 0
