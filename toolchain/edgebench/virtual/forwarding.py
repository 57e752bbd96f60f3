"""`adb forward` and `adb reverse`, device side, inside the device's own network namespace.

Written from AOSP's SERVICES.TXT and adbd's documented behaviour:
- forward: the adb server OPENs `tcp:PORT` (or `tcp:PORT:HOST`, `localabstract:NAME`) for each
  connection to its host listener; the device connects to that socket in its namespace and answers
  OKAY once connected, CLSE when nothing listens. Data then flows both ways until either side closes.
- reverse: the server opens `reverse:forward:[norebind:]LOCAL;REMOTE`, `reverse:killforward:LOCAL`,
  `reverse:killforward-all` or `reverse:list-forward`. The device listens on LOCAL (127.0.0.1 of the
  device, as adbd listens on loopback only) and, for each connection a device process makes, OPENs
  REMOTE towards the host. Replies are adbd's: "OKAY" (plus the port as a length-prefixed string when
  `tcp:0` was resolved), "FAIL" + length-prefixed reason, or the listing "<transport> <local>
  <remote>\\n" per listener as one length-prefixed string. Listeners belong to the connection that
  made them and close with it (a reboot or `adb disconnect` removes them, as on a phone).

Not emulated: `local:`/`localfilesystem:`/`localreserved:` (filesystem sockets), `jdwp:`, `vsock:`,
`udp:`; such OPENs are refused with CLSE and such reverse listeners with FAIL.
"""
from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import dataclass
from typing import Callable

from edgebench.virtual.adb_protocol import AdbTransport, Connecting, ServiceHandler, Stream, StreamClosed
from edgebench.virtual.netns_sockets import DeviceSockets

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class SocketSpec:
    family: int
    address: tuple[str, int] | bytes  # (host, port), or an abstract name with its leading NUL
    text: str


class SpecError(ValueError):
    """Not a socket spec this device serves; the message is adbd's reason."""


def parse_spec(text: str) -> SocketSpec:
    kind, _, rest = text.partition(":")
    if kind == "tcp":
        port_text, _, host = rest.partition(":")
        if not port_text.isdigit() or int(port_text) > 65535:
            raise SpecError(f"bad port number '{port_text}'")
        return SocketSpec(socket.AF_INET, (host or "127.0.0.1", int(port_text)), text)
    if kind == "localabstract" and rest:
        return SocketSpec(socket.AF_UNIX, b"\0" + rest.encode(), text)
    raise SpecError(f"unknown socket specification '{text}'")


async def pump(stream: Stream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Carry data both ways until either end closes; adb has no half-close, so the first EOF ends both."""
    async def to_host() -> None:
        while data := await reader.read(stream.max_payload):
            await stream.write(data)

    async def to_socket() -> None:
        while (data := await stream.read()) is not None:
            writer.write(data)
            await writer.drain()

    directions = {asyncio.ensure_future(to_host()), asyncio.ensure_future(to_socket())}
    try:
        await asyncio.wait(directions, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in directions:
            task.cancel()
        for task in directions:
            try:
                await task
            except (asyncio.CancelledError, StreamClosed, ConnectionError):
                pass
        writer.close()
        await stream.close()


def _protocol_string(text: str) -> bytes:
    data = text.encode()
    return f"{len(data):04x}".encode() + data


def _fail(reason: str) -> bytes:
    return b"FAIL" + _protocol_string(reason)


@dataclass
class _Listener:
    local: str
    remote: str
    transport: AdbTransport
    server: asyncio.base_events.Server | None = None


class Forwarding:
    """The forward services and reverse listeners of one device; `sockets()` is its namespace's
    socket helper (None while the device is down)."""

    def __init__(self, sockets: Callable[[], DeviceSockets | None]) -> None:
        self.sockets = sockets
        self.listeners: dict[str, _Listener] = {}
        self._names: dict[int, str] = {}

    def open_service(self, name: str) -> ServiceHandler | Connecting | None:
        if name.startswith("reverse:"):
            command = name[len("reverse:"):]
            return lambda stream: self._reverse(stream, command)
        if not name.startswith(("tcp:", "localabstract:")):
            return None
        try:
            spec = parse_spec(name)
        except SpecError as exc:
            log.info("refusing %r: %s", name, exc)
            return None
        return Connecting(lambda: self._connect(spec))

    async def _socket(self, family: int) -> socket.socket:
        sockets = self.sockets()
        if sockets is None:
            raise OSError("the device is not running")
        # In a thread: the first call starts the helper, which must not stall the device's event loop.
        return await asyncio.get_running_loop().run_in_executor(None, sockets.socket, family)

    async def _connect(self, spec: SocketSpec) -> ServiceHandler | None:
        try:
            sock = await self._socket(spec.family)
            try:
                await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, spec.address), CONNECT_TIMEOUT_S)
            except BaseException:
                sock.close()
                raise
        except (OSError, asyncio.TimeoutError) as exc:
            log.info("forward to %s: cannot connect (%s)", spec.text, exc)
            return None
        if spec.family == socket.AF_UNIX:
            reader, writer = await asyncio.open_unix_connection(sock=sock)
        else:
            reader, writer = await asyncio.open_connection(sock=sock)
        return lambda stream: pump(stream, reader, writer)

    # --- reverse ---

    async def _reverse(self, stream: Stream, command: str) -> None:
        await stream.write(await self._reverse_answer(stream.transport, command))

    async def _reverse_answer(self, transport: AdbTransport, command: str) -> bytes:
        if command == "list-forward":
            return _protocol_string("".join(f"{self._name(item.transport)} {item.local} {item.remote}\n"
                                            for item in self.listeners.values()))
        if command == "killforward-all":
            for local in [local for local, item in self.listeners.items() if item.transport is transport]:
                self._remove(local)
            return b"OKAY"
        if command.startswith("killforward:"):
            local = command[len("killforward:"):]
            if local not in self.listeners:
                return _fail(f"listener '{local}' not found")
            self._remove(local)
            return b"OKAY"
        if not command.startswith("forward:"):
            return _fail("unknown reverse service")
        pieces = command[len("forward:"):]
        no_rebind = pieces.startswith("norebind:")
        if no_rebind:
            pieces = pieces[len("norebind:"):]
        local, semicolon, remote = pieces.partition(";")
        if not semicolon or not local or not remote or remote.startswith("*") or ";" in remote:
            return _fail(f"bad forward: {pieces}")
        existing = self.listeners.get(local)
        if existing is not None:
            if no_rebind:
                return _fail("cannot rebind existing socket")
            existing.remote, existing.transport = remote, transport
            return b"OKAY"
        try:
            spec = parse_spec(local)
            listener = await self._listen(spec, remote, transport)
        except (SpecError, OSError) as exc:
            return _fail(f"cannot bind listener: {exc}")
        self.listeners[listener.local] = listener
        if spec.family == socket.AF_INET and isinstance(spec.address, tuple) and spec.address[1] == 0:
            return b"OKAY" + _protocol_string(listener.local.split(":")[1])
        return b"OKAY"

    async def _listen(self, spec: SocketSpec, remote: str, transport: AdbTransport) -> _Listener:
        sock = await self._socket(spec.family)
        try:
            if spec.family == socket.AF_INET:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                assert isinstance(spec.address, tuple)
                sock.bind(("127.0.0.1", spec.address[1]))  # adbd listens on the device's loopback only
                local = f"tcp:{sock.getsockname()[1]}"
            else:
                sock.bind(spec.address)
                local = spec.text
            sock.listen(16)
        except BaseException:
            sock.close()
            raise
        listener = _Listener(local, remote, transport)

        async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            stream = await listener.transport.open_stream(listener.remote)
            if stream is None:
                log.info("reverse %s: the host refused %s", listener.local, listener.remote)
                writer.close()
                return
            await pump(stream, reader, writer)

        if spec.family == socket.AF_UNIX:
            listener.server = await asyncio.start_unix_server(accepted, sock=sock)
        else:
            listener.server = await asyncio.start_server(accepted, sock=sock)
        return listener

    def _name(self, transport: AdbTransport) -> str:
        # adbd names a TCP host connection "host-<fd>"; a number per connection serves the same role.
        return self._names.setdefault(id(transport), f"host-{len(self._names) + 1}")

    def _remove(self, local: str) -> None:
        listener = self.listeners.pop(local, None)
        if listener is not None and listener.server is not None:
            listener.server.close()

    def drop(self, transport: AdbTransport) -> None:
        """The connection went away: its reverse listeners close with it."""
        for local in [local for local, item in self.listeners.items() if item.transport is transport]:
            self._remove(local)
        self._names.pop(id(transport), None)

    def close(self) -> None:
        for local in list(self.listeners):
            self._remove(local)
