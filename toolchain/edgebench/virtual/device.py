"""One virtual device: its folder, identity, sandbox and the adb services it answers.

A device folder (`<workspace>/virtual-devices/<ro.serialno>/`) holds:
  device.json   identity and settings (serial, profile, ABI, port) - kept across restarts
  root/         the device's `/` (data/, storage/ and tmp/ persist; system/, vendor/, sys/ are rebuilt)
  overlay/      host-only files bound over the device's /proc (cpuinfo)
  server.pid    pid of the running device process (absent when stopped)
  status.json   written once the device listens: pid, port, init_pid
  server.log    the device process's log
  control.sock  the lab's control socket (faults, throttling, USB power; control.py)
  battery_state.json   the battery model's charge, kept across restarts (power_host.py)
  energy_truth.jsonl   host-only true energy per measured window (energy_truth.py)
  nospace/, .host-staging/   scratch of the no-space fault and of atomic sysfs writes
  adb_keys      host keys the user allowed (started --auth; adb_auth.py)
"""
from __future__ import annotations

import asyncio
import json
import logging
import secrets
import shutil
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from edgebench.errors import UsageError
from edgebench.virtual.adb_auth import AdbKeys
from edgebench.virtual.adb_protocol import AdbTransport, Connecting, ServiceHandler, Stream, banner
from edgebench.virtual.control import serve as serve_control
from edgebench.virtual.device_fs import DeviceFS
from edgebench.virtual.device_log import LogBuffers
from edgebench.virtual.device_procs import kill_by_name
from edgebench.virtual.fault_control import FaultController
from edgebench.virtual.faults import HARNESS_COMMS, FaultRequest, LinkFaults
from edgebench.virtual.forwarding import Forwarding
from edgebench.virtual.logd import LogDaemon
from edgebench.virtual.image import build_image, identity_properties, reset_boot_state, set_runtime_property
from edgebench.virtual.netns_sockets import DeviceSockets
from edgebench.virtual.profiles import ABIS, Profile, load_profile
from edgebench.virtual.power_host import Controls, PowerHost
from edgebench.virtual.sandbox import QEMU_AARCH64, Sandbox
from edgebench.virtual.service_log import log_boot
from edgebench.virtual.shell_service import parse_shell_service, run_shell
from edgebench.virtual.sync_service import run_sync

log = logging.getLogger(__name__)
CONFIG_VERSION = 1


@dataclass(frozen=True)
class DeviceConfig:
    serial: str  # ro.serialno: the identity, stable across restarts and ports
    profile: str  # profile name, or path to a profile JSON
    abi: str
    port: int
    cpuinfo: str = "profile"  # "profile": the profile's /proc/cpuinfo; "host": this machine's
    created_utc: str = ""
    version: int = CONFIG_VERSION
    auth: bool = False  # require adb's RSA authentication (adb_auth.py); set by each `start`

    @staticmethod
    def new(profile: str, abi: str, port: int, cpuinfo: str = "profile", *, auth: bool = False) -> DeviceConfig:
        if abi not in ABIS:
            raise UsageError(f"--abi must be one of {', '.join(ABIS)}. Received: {abi!r}.")
        if cpuinfo not in ("profile", "host"):
            raise UsageError(f"cpuinfo must be 'profile' or 'host'. Received: {cpuinfo!r}.")
        serial = "EBV" + secrets.token_hex(5).upper()  # 13 characters, like a phone's serial
        return DeviceConfig(serial, profile, abi, port, cpuinfo,
                            datetime.now(timezone.utc).isoformat(timespec="seconds"), auth=auth)

    def with_port(self, port: int) -> DeviceConfig:
        return replace(self, port=port)

    @property
    def adb_serial(self) -> str:
        return f"127.0.0.1:{self.port}"


@dataclass(frozen=True)
class DeviceLayout:
    folder: Path

    @property
    def config(self) -> Path:
        return self.folder / "device.json"

    @property
    def root(self) -> Path:
        return self.folder / "root"

    @property
    def overlay(self) -> Path:
        return self.folder / "overlay"

    @property
    def pid_file(self) -> Path:
        return self.folder / "server.pid"

    @property
    def status_file(self) -> Path:
        return self.folder / "status.json"

    @property
    def log_file(self) -> Path:
        return self.folder / "server.log"

    def load_config(self) -> DeviceConfig:
        try:
            data = json.loads(self.config.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise UsageError(f"{self.config}: not a readable virtual-device config ({exc})") from exc
        if data.get("version") != CONFIG_VERSION:
            raise UsageError(f"{self.config}: config version {data.get('version')!r}, expected {CONFIG_VERSION}")
        return DeviceConfig(**data)

    def save_config(self, config: DeviceConfig) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.config.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(config), indent=1) + "\n")
        tmp.replace(self.config)


class VirtualDevice:
    """Serves the adb protocol on 127.0.0.1:port for one device folder."""

    def __init__(self, layout: DeviceLayout, config: DeviceConfig, profile: Profile | None = None) -> None:
        self.layout = layout
        self.config = config
        self.profile = profile or load_profile(config.profile)
        self.props = identity_properties(self.profile, serial=config.serial, abi=config.abi, port=config.port)
        self.sandbox = Sandbox(layout.root, layout.overlay, abi=config.abi)
        self.fs: DeviceFS | None = None
        self.sockets: DeviceSockets | None = None  # sockets in the device's network namespace
        self.forwarding = Forwarding(lambda: self.sockets)
        self.server: asyncio.base_events.Server | None = None
        self.control_server: asyncio.base_events.Server | None = None
        self.transports: set[AdbTransport] = set()
        self._background: set[asyncio.Task[None]] = set()
        self.controls = Controls()
        self.faults = FaultController(self)
        self.link = LinkFaults(on_drop=self.faults.drop_now)
        # --auth: adb's RSA authentication against the keys the user allowed (kept in the device folder).
        self.auth = AdbKeys(layout.folder / "adb_keys") if config.auth else None
        self.power: PowerHost | None = None
        self.device_log = LogBuffers()  # what logd holds: forgotten on reboot
        self.logd = LogDaemon(self.device_log, layout.overlay)

    # ServiceHost
    def banner(self) -> bytes:
        return banner(self.props)

    def open_service(self, name: str) -> ServiceHandler | Connecting | None:
        forwarded = self.forwarding.open_service(name)
        if forwarded is not None:
            return forwarded
        request = parse_shell_service(name)
        if request is not None:
            return lambda stream: run_shell(stream, request, self.sandbox)
        if name.startswith("sync:"):
            return self._sync
        if name.startswith("reboot:"):
            return self._reboot
        if name in ("root:", "unroot:"):
            return self._no_root
        return None

    async def _sync(self, stream: Stream) -> None:
        assert self.fs is not None
        await run_sync(stream, self.fs)

    async def _no_root(self, stream: Stream) -> None:
        await stream.write(b"adbd cannot run as root in production builds\n")

    async def _reboot(self, stream: Stream) -> None:
        # A reboot ends every device process and what a boot forgets; the adb server sees the
        # connection drop and reconnects (as with a phone rebooting over Wi-Fi adb). Like adbd,
        # the stream never closes on its own: it ends with the link, so `adb reboot` returns
        # only after the server has lost the old connection and `wait-for-device` waits for the
        # new one (closing first let `wait-for-device` return on the dying link).
        task = asyncio.get_running_loop().create_task(self.reboot())
        self._background.add(task)  # keep a reference until it is done
        task.add_done_callback(self._background.discard)
        await asyncio.Event().wait()  # cancelled when the dropped link tears this stream down

    async def reboot(self, *, wipe_tmp: bool = False, down_s: float = 0.0) -> None:
        """A reboot: every device process ends, boot state is forgotten. `wipe_tmp` (the reboot
        fault only) also empties /data/local/tmp; `down_s` keeps the port closed that long."""
        if down_s > 0:
            await self.unlisten()
        self.drop_connections()
        await self._stop_sandbox()
        reset_boot_state(self.layout.root)
        self.device_log.clear()
        if wipe_tmp:
            tmp = self.layout.root / "data/local/tmp"
            for entry in list(tmp.iterdir()) if tmp.is_dir() else []:
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
        await self._start_sandbox()
        log_boot(self.device_log, serial=self.config.serial, profile=self.profile.name)
        if self.power is not None:
            self.power.boottime_offset_s = self.sandbox.boottime_offset_s
            self.power.rebooted()
        await self.faults.reapply_after_boot()
        if down_s > 0:
            task = asyncio.get_running_loop().create_task(self._listen_later(down_s))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    # Link faults.
    @property
    def listening(self) -> bool:
        return self.server is not None

    async def listen(self) -> None:
        if self.server is None:
            self.server = await asyncio.start_server(self._connection, "127.0.0.1", self.config.port)

    async def unlisten(self) -> None:
        if self.server is not None:
            server, self.server = self.server, None
            server.close()
            await server.wait_closed()

    def drop_connections(self) -> None:
        for transport in list(self.transports):
            sock = transport.writer.transport
            sock.abort()  # a cut link: no orderly close

    async def _listen_later(self, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        await self.listen()

    async def go_down(self, down_s: float) -> None:
        """The link drops: connections are cut and the port stays closed for `down_s` seconds."""
        await self.unlisten()
        self.drop_connections()
        if down_s > 0:
            await asyncio.sleep(down_s)
        await self.listen()

    def set_link_state(self, state: str) -> None:
        previous, self.link.state = self.link.state, state
        if state == "device":
            for transport in list(self.transports):
                transport.user_allows()  # the user accepted (remembering the key) / the device woke up
        elif previous == "device":
            for transport in list(self.transports):
                if transport.connected:  # the server must handshake again to notice
                    transport.writer.transport.abort()

    def kill_processes(self, names: tuple[str, ...] = HARNESS_COMMS) -> list[int]:
        """SIGKILL the device processes whose command name is one of `names`; their device pids."""
        init = self.sandbox.init_pid
        return [] if init is None else kill_by_name(init, names)

    async def _control(self, message: dict[str, Any]) -> dict[str, Any]:
        op = message.get("op")
        if op == "status":
            return {"ok": True, "status": self.faults.status()}
        if op == "fault":
            request = FaultRequest.from_json(message.get("request") or {})
            return {"ok": True, "status": await self.faults.apply(request)}
        raise UsageError(f"unknown control op {op!r}; expected 'fault' or 'status'")

    async def _start_sandbox(self) -> None:
        await self.sandbox.start()
        self.fs = DeviceFS(self.sandbox.root_dir_path(), as_shell=True)
        assert self.sandbox.init_pid is not None
        self.sockets = DeviceSockets(self.sandbox.init_pid)
        if self.sandbox.aarch64 == "exec-prefix":
            # No binfmt_misc for qemu here: aarch64 programs must be started through qemu. Say so
            # where a harness driver can see it (also exported as $EDGEBENCH_EXEC_PREFIX).
            log.warning("device %s: aarch64 programs need the prefix %s (no binfmt_misc for qemu)",
                        self.config.serial, QEMU_AARCH64)
            set_runtime_property(self.layout.root, "ro.edgebench.exec_prefix", QEMU_AARCH64)

    async def _stop_sandbox(self) -> None:
        self.forwarding.close()
        if self.sockets is not None:
            self.sockets.close()
            self.sockets = None
        if self.fs is not None:
            self.fs.close()
            self.fs = None
        await self.sandbox.stop()

    async def start(self) -> None:
        build_image(self.layout.root, self.layout.overlay, self.profile, serial=self.config.serial,
                    abi=self.config.abi, port=self.config.port, cpuinfo=self.config.cpuinfo)
        await self.logd.start()  # its socket folder is bound into the sandbox
        await self._start_sandbox()
        log_boot(self.device_log, serial=self.config.serial, profile=self.profile.name)
        try:
            await self.listen()
        except OSError:
            await self._stop_sandbox()
            raise
        self.power = PowerHost(self.layout.folder, self.layout.root, self.profile, self.config.serial,
                               lambda: self.sandbox.init_pid, self.controls)
        self.power.device_log = self.device_log
        self.power.boottime_offset_s = self.sandbox.boottime_offset_s
        self.power.start()
        self.control_server = await serve_control(self.layout.folder, self._control)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        transport = AdbTransport(reader, writer, self, self.link, self.auth)
        self.transports.add(transport)
        try:
            await transport.run()
        finally:
            self.transports.discard(transport)
            self.forwarding.drop(transport)

    async def stop(self) -> None:
        if self.control_server is not None:
            self.control_server.close()
            self.control_server = None
            (self.layout.folder / "control.sock").unlink(missing_ok=True)
        if self.server is not None:
            self.server.close()
            for transport in list(self.transports):
                transport.writer.close()
            await self.server.wait_closed()
            self.server = None
        if self.power is not None:
            self.power.stop()
            await asyncio.get_running_loop().run_in_executor(None, self.power.join, 5.0)
            self.power = None
        await self._stop_sandbox()
        await self.logd.stop()
