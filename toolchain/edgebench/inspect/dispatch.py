"""Pick the reader for a file: .tflite by its flatbuffer identifier, text by the best sniff score."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebench.errors import ModelError, ParseError, UsageError
from edgebench.user_files import MAX_MODEL_BYTES, MAX_TEXT_BYTES, read_bytes_bounded

TFLITE_FORMAT = "tflite"


@dataclass(frozen=True)
class InspectResult:
    format: str
    data: Any  # a frozen dataclass record


def known_formats() -> list[str]:
    from edgebench.inspect.formats import TEXT_FORMATS

    return [TFLITE_FORMAT] + [f.name for f in TEXT_FORMATS]


def _formats_hint() -> str:
    return f"known formats: {', '.join(known_formats())}"


def inspect_file(path: str | Path, as_format: str | None = None) -> InspectResult:
    """Read `path` as `as_format`, or as whatever it is recognised to be.

    Raises UsageError (missing file, unknown --as name), ModelError (bad model) or ParseError
    (text no format recognises, or that does not parse as the chosen format).
    """
    from edgebench.inspect.formats import TEXT_FORMATS
    from edgebench.inspect.tflite_model import is_tflite, parse_tflite

    path = Path(path)
    # Devices, FIFOs and folders are refused before any read, and no read is unbounded: a model
    # may be up to the flatbuffer limit, anything read as text up to MAX_TEXT_BYTES.
    as_model = as_format == TFLITE_FORMAT or (as_format is None and path.suffix.lower() == ".tflite")
    data = read_bytes_bounded(path, MAX_MODEL_BYTES, "a .tflite model or a captured text output",
                              lambda head: MAX_MODEL_BYTES if as_model or is_tflite(head) else MAX_TEXT_BYTES)
    if not data:
        empty = f"{path}: empty file (0 bytes); there is nothing to inspect. "
        if as_model or is_tflite(data):
            raise ModelError(empty + "Expected a .tflite flatbuffer: copy or export the model again.")
        raise ParseError(empty + "Expected a .tflite model or a captured text output: capture it again.")

    by_name = {f.name: f for f in TEXT_FORMATS}
    if as_format is not None:
        if as_format == TFLITE_FORMAT:
            return InspectResult(TFLITE_FORMAT, parse_tflite(data, source=str(path)))
        if as_format not in by_name:
            raise UsageError(f"unknown format {as_format!r} for --as; {_formats_hint()}")
        return InspectResult(as_format, _parse_text(by_name[as_format], _decode(data, path), path))

    # The identifier, not the extension, decides: a text file named .tflite is still text, and
    # parse_tflite then explains what it is.
    if is_tflite(data[:8]) or path.suffix.lower() == ".tflite":
        return InspectResult(TFLITE_FORMAT, parse_tflite(data, source=str(path)))
    text = _decode(data, path)
    scores = sorted(((f.sniff(text, path.name), f) for f in TEXT_FORMATS),
                    key=lambda sf: -sf[0])
    if not scores or scores[0][0] <= 0:
        raise ParseError(f"no reader recognises this file ({len(data)} bytes); {_formats_hint()}. "
                         "If you know what it is, say so with --as FORMAT.", source=str(path))
    best = scores[0][0]
    tied = [f.name for s, f in scores if s == best]
    if len(tied) > 1:
        raise ParseError(f"ambiguous: the formats {', '.join(tied)} all recognise this file "
                         f"equally (score {best}); choose one with --as FORMAT "
                         f"({_formats_hint()})", source=str(path))
    return InspectResult(scores[0][1].name, _parse_text(scores[0][1], text, path))


def _decode(data: bytes, path: Path) -> str:
    if b"\0" in data[:65536]:
        raise ParseError(f"binary file ({len(data)} bytes) that is not a .tflite model (no 'TFL3' "
                         f"identifier at bytes 4..8); {_formats_hint()}", source=str(path))
    # Device output is mostly ASCII; a stray non-UTF-8 byte must not hide the rest.
    return data.decode("utf-8", errors="replace")


def _parse_text(fmt: Any, text: str, path: Path) -> Any:
    try:
        return fmt.parse(text)
    except ParseError as exc:
        if exc.source:
            raise
        # Parsers see only text; put the file name in front so several files can be told apart.
        core = str(exc)
        if exc.line_number is not None and core.startswith(f":{exc.line_number}: "):
            core = core[len(f":{exc.line_number}: "):]
        if exc.line is not None and core.endswith(f"\n  line: {exc.line!r}"):
            core = core[:-len(f"\n  line: {exc.line!r}")]
        raise ParseError(f"(as {fmt.name}) {core}", source=str(path),
                         line_number=exc.line_number, line=exc.line) from None
