"""`adb forward` and `adb reverse`, device side, inside the device's own network namespace.

Written from AOSP's SERVICES.TXT and adbd's socket_spec.cpp / adb_listeners.cpp:
- socket specs: `tcp:PORT`, `tcp:HOST:PORT` (or `tcp:HOST`, port 5555; `tcp:[::1]:PORT`) and
  `localabstract:NAME`. adbd connects only to a local host (none, or `localhost`: 127.0.0.1, then ::1)
  and refuses any other ("adbd does not support arbitrary tcp connections"). It listens on INADDR_ANY
  for a bare port, on loopback for `localhost` or `::1`, and nowhere else.
- forward: the adb server OPENs a socket spec for each connection to its host listener; the device
  connects to that socket in its namespace and answers OKAY once connected, CLSE when nothing
  listens. Data then flows both ways until either side closes.
- reverse: the server opens `reverse:forward:[norebind:]LOCAL;REMOTE`, `reverse:killforward:LOCAL`,
  `reverse:killforward-all` or `reverse:list-forward`. The device listens on LOCAL (all of the
  device's own addresses for `tcp:PORT`: the sandbox's network namespace, never the host's) and, for
  each connection a device process makes, OPENs REMOTE towards the host. Replies are adbd's: "OKAY"
  (plus the port as a length-prefixed string when `tcp:0` was resolved), "FAIL" + length-prefixed
  reason, or the listing "<transport> <local> <remote>\\n" per listener as one length-prefixed string,
  <transport> being the connection's name (`host-<fd>`, as adbd names a TCP host). Listeners belong to
  the connection that made them and close with it (a reboot or `adb disconnect` removes them).

Not emulated: `local:`/`localfilesystem:`/`localreserved:` (filesystem sockets), `jdwp:`, `vsock:`,
`udp:`; such OPENs are refused with CLSE and such reverse listeners with FAIL.
"""
from __future__ import annotations

import asyncio
import logging
import re
import socket
from dataclasses import dataclass
from typing import Callable

from edgebench.virtual.adb_protocol import AdbTransport, Connected, Connecting, ServiceHandler, Stream, StreamClosed
from edgebench.virtual.netns_sockets import DeviceSockets

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_S = 10.0


ADB_DEFAULT_PORT = 5555  # adbd's DEFAULT_ADB_LOCAL_TRANSPORT_PORT: the port of a `tcp:HOST` without one
LOCAL_HOSTS = ("", "localhost")  # adbd's tcp_host_is_local


@dataclass(frozen=True)
class TcpSpec:
    host: str  # as written; "" for `tcp:PORT`
    port: int
    text: str


@dataclass(frozen=True)
class AbstractSpec:
    name: bytes  # with its leading NUL
    text: str


SocketSpec = TcpSpec | AbstractSpec
Address = tuple[int, tuple[str, int] | bytes]  # (family, address)


class SpecError(ValueError):
    """Not a socket spec this device serves; the message is adbd's reason."""


def parse_spec(text: str) -> SocketSpec:
    kind, _, rest = text.partition(":")
    if kind == "tcp":
        return _parse_tcp(rest, text)
    if kind == "localabstract" and rest:
        return AbstractSpec(b"\0" + rest.encode(), text)
    raise SpecError(f"unknown socket specification '{text}'")


def _parse_tcp(rest: str, text: str) -> TcpSpec:
    """`tcp:PORT`, else HOST[:PORT] as android::base::ParseNetAddress reads it (default port 5555)."""
    if re.fullmatch(r"\s*[+-]?\d+", rest):
        port = int(rest)
        if not 0 <= port <= 65535:
            raise SpecError(f"bad port number '{port}'")
        return TcpSpec("", port, text)
    port_text: str | None = None
    if rest.startswith("["):  # [::1]:123
        if "]:" not in rest:
            raise SpecError(f"bad IPv6 address '{rest}'")
        host, port_text = rest[1:rest.index("]:")], rest[rest.rindex("]:") + 2:]
    elif "." not in rest and 2 <= rest.count(":") <= 7:  # ::1, no port
        host = rest
    elif rest.count(":") <= 1:  # 1.2.3.4, localhost, with or without :PORT
        host, colon, port_text = rest.partition(":")
        port_text = port_text if colon else None
    else:
        host = ""
    if not host:
        raise SpecError(f"no host in '{rest}'")
    port = ADB_DEFAULT_PORT
    if port_text is not None:
        digits = re.match(r"\s*[+-]?\d+", port_text)  # sscanf("%d"): leading digits, the rest ignored
        port = int(digits.group()) if digits else 0
        if not 0 < port <= 65535:
            raise SpecError(f"bad port number '{port_text}' in '{rest}'")
    return TcpSpec(host, port, text)


def connect_addresses(spec: SocketSpec) -> list[Address]:
    """Where adbd's socket_spec_connect tries, in order; SpecError for a host adbd will not reach."""
    if isinstance(spec, AbstractSpec):
        return [(socket.AF_UNIX, spec.name)]
    if spec.host not in LOCAL_HOSTS:
        raise SpecError("adbd does not support arbitrary tcp connections")
    return [(socket.AF_INET, ("127.0.0.1", spec.port)), (socket.AF_INET6, ("::1", spec.port))]


def listen_address(spec: SocketSpec) -> Address:
    """Where adbd's socket_spec_listen binds: INADDR_ANY for a bare port (the device's own addresses)."""
    if isinstance(spec, AbstractSpec):
        return (socket.AF_UNIX, spec.name)
    if spec.host == "":
        return (socket.AF_INET, ("0.0.0.0", spec.port))
    if spec.host == "localhost":
        return (socket.AF_INET, ("127.0.0.1", spec.port))
    if spec.host == "::1":
        return (socket.AF_INET6, ("::1", spec.port))
    raise SpecError("listening on specified hostname currently unsupported")


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


def _close_made_socket(made: asyncio.Future[socket.socket]) -> None:
    if not made.cancelled() and made.exception() is None:
        made.result().close()


class Forwarding:
    """The forward services and reverse listeners of one device; `sockets()` is its namespace's
    socket helper (None while the device is down)."""

    def __init__(self, sockets: Callable[[], DeviceSockets | None]) -> None:
        self.sockets = sockets
        self.listeners: dict[str, _Listener] = {}

    def open_service(self, name: str) -> ServiceHandler | Connecting | None:
        if name.startswith("reverse:"):
            command = name[len("reverse:"):]
            return lambda stream: self._reverse(stream, command)
        if not name.startswith(("tcp:", "localabstract:")):
            return None
        try:
            spec = parse_spec(name)
            addresses = connect_addresses(spec)
        except SpecError as exc:
            log.info("refusing %r: %s", name, exc)
            return None
        return Connecting(lambda: self._connect(spec, addresses))

    async def _socket(self, family: int) -> socket.socket:
        sockets = self.sockets()
        if sockets is None:
            raise OSError("the device is not running")
        # In a thread: the first call starts the helper, which must not stall the device's event loop.
        made = asyncio.get_running_loop().run_in_executor(None, sockets.socket, family)
        try:
            return await asyncio.shield(made)
        except asyncio.CancelledError:
            made.add_done_callback(_close_made_socket)  # the helper still answers: close what it makes
            raise

    async def _connect(self, spec: SocketSpec, addresses: list[Address]) -> Connected | None:
        sock: socket.socket | None = None
        try:
            for family, address in addresses:  # adbd: 127.0.0.1 first, ::1 as the fallback
                sock = await self._socket(family)
                try:
                    await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, address), CONNECT_TIMEOUT_S)
                    break
                except (OSError, asyncio.TimeoutError) as exc:
                    log.info("forward to %s: cannot connect to %s (%s)", spec.text, address, exc)
                    sock.close()
                    sock = None
            if sock is None:
                return None
            if isinstance(spec, AbstractSpec):
                reader, writer = await asyncio.open_unix_connection(sock=sock)
            else:
                reader, writer = await asyncio.open_connection(sock=sock)
        except OSError as exc:
            log.info("forward to %s: no socket (%s)", spec.text, exc)
            if sock is not None:
                sock.close()
            return None
        except BaseException:  # cancelled: the host's connection went away while we connected
            if sock is not None:
                sock.close()
            raise
        return Connected(lambda stream: pump(stream, reader, writer), writer.close)

    # --- reverse ---

    async def _reverse(self, stream: Stream, command: str) -> None:
        transport = stream.transport
        assert isinstance(transport, AdbTransport)  # reverse listeners belong to the host connection itself
        await stream.write(await self._reverse_answer(transport, command))

    async def _reverse_answer(self, transport: AdbTransport, command: str) -> bytes:
        if command == "list-forward":
            return _protocol_string("".join(f"{item.transport.name} {item.local} {item.remote}\n"
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
        if isinstance(spec, TcpSpec) and spec.port == 0:
            return b"OKAY" + _protocol_string(listener.local.split(":")[1])
        return b"OKAY"

    async def _listen(self, spec: SocketSpec, remote: str, transport: AdbTransport) -> _Listener:
        family, address = listen_address(spec)
        sock = await self._socket(family)
        try:
            if isinstance(spec, TcpSpec):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            # adbd renames a TCP listener after the port it bound (`tcp:0` becomes `tcp:<picked>`).
            local = f"tcp:{sock.getsockname()[1]}" if isinstance(spec, TcpSpec) else spec.text
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

        if isinstance(spec, AbstractSpec):
            listener.server = await asyncio.start_unix_server(accepted, sock=sock)
        else:
            listener.server = await asyncio.start_server(accepted, sock=sock)
        return listener

    def _remove(self, local: str) -> None:
        listener = self.listeners.pop(local, None)
        if listener is not None and listener.server is not None:
            listener.server.close()

    def drop(self, transport: AdbTransport) -> None:
        """The connection went away: its reverse listeners close with it."""
        for local in [local for local, item in self.listeners.items() if item.transport is transport]:
            self._remove(local)

    def close(self) -> None:
        for local in list(self.listeners):
            self._remove(local)
