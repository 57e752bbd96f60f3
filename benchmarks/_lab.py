"""A throwaway lab for benchmarks: a private adb server and virtual devices, all torn down after."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import adbutils

from edgebench.cli.main import main

ADB = str(Path(adbutils.__file__).parent / "binaries" / "adb")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def virtual_lab(count: int, *start_args: str, workspace: Path | None = None) -> Iterator[tuple[Path, list[str], int]]:
    """(workspace, adb serials, adb server port) with `count` virtual devices (`start_args` go to `virtual-device
    start`, e.g. --abi arm64-v8a --port P); in a throwaway workspace unless `workspace` is given, where the
    devices' folders stay, so a rerun starts the same devices again."""
    port = free_port()
    env = dict(os.environ, ADB_SERVER_SOCKET=f"tcp:localhost:{port}")
    subprocess.run([ADB, "start-server"], env=env, check=True, capture_output=True)
    saved = os.environ.get("ADB_SERVER_SOCKET")
    os.environ["ADB_SERVER_SOCKET"] = f"tcp:127.0.0.1:{port}"
    with contextlib.ExitStack() as stack:
        ws = workspace if workspace is not None else Path(stack.enter_context(tempfile.TemporaryDirectory()))
        try:
            if count and main(["--workspace", str(ws), "virtual-device", "start", "--count", str(count),
                               *start_args]) != 0:
                raise SystemExit("could not start virtual devices")
            out = subprocess.run([ADB, "devices"], env=env, check=True, capture_output=True, text=True).stdout
            serials = [line.split()[0] for line in out.splitlines()[1:] if line.strip()]
            yield ws, serials, port
        finally:
            main(["--workspace", str(ws), "virtual-device", "stop", "--all"])
            subprocess.run([ADB, "kill-server"], env=env, capture_output=True)
            if saved is None:
                os.environ.pop("ADB_SERVER_SOCKET", None)
            else:
                os.environ["ADB_SERVER_SOCKET"] = saved
