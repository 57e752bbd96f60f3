"""The control socket of a running virtual device: `<device folder>/control.sock` (host only).

One JSON line in, one JSON line out:
    {"op": "fault", "request": {<faults.FaultRequest fields>}} -> {"ok": true, "status": {...}}
    {"op": "status"}                                            -> {"ok": true, "status": {...}}
    failures                                                    -> {"ok": false, "error": "..."}
The socket lives outside the device's `/`, so nothing inside the device can reach it. Paths are
passed as /proc/self/fd/N/control.sock, so a deep workspace does not hit the 108-byte limit of
socket paths.
"""
from __future__ import annotations

import asyncio
import json
import os
import socket
from pathlib import Path
from typing import Any, Awaitable, Callable

from edgebench.errors import EdgebenchError, UsageError

SOCKET_NAME = "control.sock"
TIMEOUT_S = 30.0


class ControlError(EdgebenchError):
    """The device's control socket did not answer (device not running?) or refused the request."""


Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


async def serve(folder: Path, handler: Handler) -> asyncio.base_events.Server:
    (folder / SOCKET_NAME).unlink(missing_ok=True)
    dir_fd = os.open(folder, os.O_PATH | os.O_DIRECTORY)
    try:
        server = await asyncio.start_unix_server(lambda r, w: _answer(r, w, handler),
                                                 path=f"/proc/self/fd/{dir_fd}/{SOCKET_NAME}")
    finally:
        os.close(dir_fd)
    os.chmod(folder / SOCKET_NAME, 0o600)
    return server


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, handler: Handler) -> None:
    try:
        line = await reader.readline()
        try:
            reply = await handler(json.loads(line))
        except EdgebenchError as exc:
            reply = {"ok": False, "error": str(exc)}
        except (json.JSONDecodeError, TypeError, ValueError) as exc:
            reply = {"ok": False, "error": f"bad control request: {exc}"}
        writer.write((json.dumps(reply) + "\n").encode())
        await writer.drain()
    finally:
        writer.close()


def request(folder: Path, message: dict[str, Any], *, timeout_s: float = TIMEOUT_S) -> dict[str, Any]:
    """Send one request to the device of `folder` and return its status (raises on failure)."""
    if not (folder / SOCKET_NAME).exists():
        raise ControlError(f"virtual device {folder.name} is not running (no {folder / SOCKET_NAME}); "
                           "start it with `edgebench virtual-device start`")
    dir_fd = os.open(folder, os.O_PATH | os.O_DIRECTORY)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout_s)
            try:
                sock.connect(f"/proc/self/fd/{dir_fd}/{SOCKET_NAME}")
                sock.sendall((json.dumps(message) + "\n").encode())
                data = b""
                while not data.endswith(b"\n"):
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except OSError as exc:
                raise ControlError(f"virtual device {folder.name}: control socket failed ({exc}); "
                                   "is the device running? (`edgebench virtual-device list`)") from exc
    finally:
        os.close(dir_fd)
    try:
        reply = json.loads(data)
    except json.JSONDecodeError as exc:
        raise ControlError(f"virtual device {folder.name}: unreadable control reply {data[:200]!r}") from exc
    if not reply.get("ok"):
        raise UsageError(f"virtual device {folder.name}: {reply.get('error', 'request refused')}")
    status: dict[str, Any] = reply["status"]
    return status
