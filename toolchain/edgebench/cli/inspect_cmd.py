"""`edgebench inspect FILE... [--as FORMAT] [--json]`: read models and captured outputs.

Each file is read on its own: one that fails prints its error (on stderr; inline as
{"file", "format": null, "error"} in a --json array) and the others still print. The exit code
is non-zero when any file failed (the largest of their error codes).
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help=".tflite model, benchmark_model output, harness output or captured "
                             "device output")
    parser.add_argument("--as", dest="as_format", metavar="FORMAT", default=None,
                        help="read every FILE as this format instead of recognising it "
                             "(see the list printed when a file is not recognised)")
    parser.add_argument("--json", action="store_true",
                        help='print {"format": ..., "data": {...}} (an array of them for several files)')


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from edgebench.errors import EdgebenchError, UsageError
    from edgebench.inspect import inspect_file, known_formats
    from edgebench.inspect.registry import to_jsonable
    from edgebench.inspect.render import render

    if args.as_format is not None and args.as_format not in known_formats():
        raise UsageError(f"unknown format {args.as_format!r} for --as; known formats: "
                         f"{', '.join(known_formats())}")
    console = Console(file=sys.stdout, highlight=False, soft_wrap=False)
    single = len(args.files) == 1
    outputs: list[dict[str, Any]] = []
    exit_code = 0
    for path in args.files:
        try:
            result = inspect_file(path, args.as_format)
        except EdgebenchError as exc:
            if args.debug:
                raise
            exit_code = max(exit_code, exc.exit_code)
            print(f"error: {exc}", file=sys.stderr)
            if args.json and not single:
                outputs.append({"file": path, "format": None, "error": str(exc)})
            continue
        if args.json:
            payload = {"format": result.format, "data": to_jsonable(result.data)}
            outputs.append(payload if single else {"file": path, **payload})
        else:
            render(console, path, result.format, result.data)
    if args.json and outputs:
        print(json.dumps(outputs[0] if single else outputs, indent=1, allow_nan=False))
    return exit_code
