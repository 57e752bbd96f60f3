"""Keep TensorFlow's, LiteRT's and the converter's routine chatter out of edgebench's own output.

Those libraries write from C++ straight to file descriptor 2 (absl/glog lines such as oneDNN and
CUDA notices, the converter's `fully_quantize: ...` line, LiteRT's `INFO: Created ... delegate`), so
Python's logging levels cannot reach them. While a command that loads them runs, fd 2 goes through a
pipe: lines matching a known pattern of routine chatter are held back, everything else (real errors,
unknown lines) is passed on unchanged. Python's own `sys.stderr` (rich's progress bars, edgebench's
messages, tracebacks) writes to the real stderr directly, so a terminal still sees a terminal.
`--verbose` turns the filter off. If the command fails, the held-back lines are printed after it.
"""
from __future__ import annotations

import collections
import os
import re
import sys
import threading
from typing import IO

# Each pattern is one whole line of routine output seen from TensorFlow 2.21 / LiteRT 2.3 on a host.
NOISE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(re.compile(p) for p in (
    # absl's notice before logging is set up, then INFO/WARNING lines in glog format (oneDNN, cudart, ...)
    r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$",
    r"^[IW]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w.+-]+:\d+\] ",  # before InitializeLog: 00:00:<epoch seconds>
    # the ERROR lines a host without a GPU gets from TensorFlow's CUDA plugin (cuInit, factory registration)
    r"^E\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ cuda_[\w.]+:\d+\] ",
    # the MLIR converter's quantization summary and op count
    r"^fully_quantize: \d+, inference_type: \d+, input_inference_type: \w+, output_inference_type: \w+$",
    r"^Estimated count of arithmetic ops: ",
    # TFLite/LiteRT's own INFO lines (delegate creation, runtime init)
    r"^INFO: ",
    # absl's Python logging (e.g. "compiled metrics have yet to be built")
    r"^WARNING:absl:",
))


def is_noise(line: str) -> bool:
    return any(p.search(line) for p in NOISE_PATTERNS)


def _writes_to_fd2(stream: IO[str]) -> bool:
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        return False


class LibraryNoiseFilter:
    """Context manager: filters fd 2 as described above; `held_back` keeps the last `keep` hidden lines."""

    def __init__(self, keep: int = 200) -> None:
        self.held_back: collections.deque[str] = collections.deque(maxlen=keep)
        self.hidden_count = 0
        self._saved_fd = -1
        self._python_stderr: IO[str] | None = None
        self._reader: threading.Thread | None = None

    def __enter__(self) -> LibraryNoiseFilter:
        sys.stderr.flush()
        self._saved_fd = os.dup(2)
        read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 2)
        os.close(write_fd)
        self._python_stderr = sys.stderr
        if _writes_to_fd2(sys.stderr):  # (not when sys.stderr is already redirected, e.g. captured by a test)
            sys.stderr = open(self._saved_fd, "w", buffering=1, encoding=getattr(sys.stderr, "encoding", None) or "utf-8",
                              errors="backslashreplace", closefd=False)
        self._reader = threading.Thread(target=self._pump, args=(read_fd,), name="stderr-filter", daemon=True)
        self._reader.start()
        return self

    def _pump(self, read_fd: int) -> None:
        with open(read_fd, "rb") as pipe:
            for raw in pipe:
                line = raw.decode("utf-8", "backslashreplace")
                if is_noise(line.rstrip("\r\n")):
                    self.hidden_count += 1
                    self.held_back.append(line)
                else:
                    os.write(self._saved_fd, raw)

    def __exit__(self, *exc: object) -> None:
        sys.stderr.flush()
        assert self._python_stderr is not None and self._reader is not None
        if sys.stderr is not self._python_stderr:
            sys.stderr.close()  # closefd=False: the saved descriptor stays open until below
            sys.stderr = self._python_stderr
        os.dup2(self._saved_fd, 2)  # closes the pipe's last writer in this process: the reader sees EOF
        # A child that inherited the pipe and outlives the command keeps it open: do not wait for it,
        # and leave the reader its descriptor (closing it could let the number be reused under it).
        self._reader.join(timeout=2.0)
        if not self._reader.is_alive():
            os.close(self._saved_fd)

    def replay(self, stream: IO[str]) -> None:
        """Print the held-back lines (after a failure, so nothing that might explain it is lost)."""
        if not self.held_back:
            return
        shown = len(self.held_back)
        stream.write(f"library output hidden while the command ran ({self.hidden_count} line(s)"
                     + (f", last {shown} shown" if shown < self.hidden_count else "") + "; --verbose shows it live):\n")
        stream.writelines(self.held_back)
        stream.flush()
