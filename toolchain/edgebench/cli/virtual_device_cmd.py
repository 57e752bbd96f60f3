"""`edgebench virtual-device start|stop|list`: adb-speaking virtual phones that run on this host.

Each device is a detached process listening on 127.0.0.1:PORT with its own sandboxed root folder
in the workspace (`virtual-devices/<serial>/`), connected to your current adb server with
`adb connect`. Results measured on one are marked virtual/simulated (ro.edgebench.virtual=1).
"""
from __future__ import annotations

import argparse

from edgebench.errors import UsageError

HELP = "Start, stop and list virtual adb devices (sandboxed, profile-driven phones on this host)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    adb_help = "adb server as HOST:PORT (default: $ADB_SERVER_SOCKET, $ANDROID_ADB_SERVER_PORT or 5037)"

    start = sub.add_parser("start", help="start virtual devices and `adb connect` them")
    start.add_argument("--profile", default=None,
                       help="device profile name (fixtures/profiles/*.json) or path to a profile JSON "
                            "(default: pixel-8-like; a restarted device keeps its own)")
    start.add_argument("--abi", choices=("x86_64", "arm64-v8a"), default=None,
                       help="ABI the device reports and runs (default x86_64: host speed; arm64-v8a runs "
                            "aarch64 programs under qemu-aarch64-static)")
    start.add_argument("--port", type=int, default=None,
                       help="first port to listen on (default: a free port in 16520-17519); a stopped "
                            "device registered on that port is started again with its folder and identity")
    start.add_argument("--count", type=int, default=1, help="how many devices (default 1)")
    start.add_argument("--cpuinfo", choices=("profile", "host"), default="profile",
                       help="/proc/cpuinfo of new devices: the profile's (default) or this host's")
    start.add_argument("--adb", default=None, help=adb_help)
    start.add_argument("--no-connect", action="store_true", help="do not `adb connect` the devices")
    start.add_argument("--start-adb-server", action="store_true",
                       help="if no adb server answers, start one (never touches a server that answers)")

    stop = sub.add_parser("stop", help="stop virtual devices (their folders and identities are kept)")
    stop.add_argument("serials", nargs="*", metavar="SERIAL",
                      help="ro.serialno, adb serial (127.0.0.1:PORT) or port of each device to stop")
    stop.add_argument("--all", action="store_true", help="stop every running virtual device of the workspace")
    stop.add_argument("--adb", default=None, help=adb_help)

    sub.add_parser("list", help="list the workspace's virtual devices")


def run(args: argparse.Namespace) -> int:
    from edgebench.workspace import Workspace
    from edgebench.virtual import registry

    root = registry.registry_root(Workspace.resolve(args.workspace).root)
    if args.action == "start":
        return _start(args, root)
    if args.action == "stop":
        return _stop(args, root)
    return _list(root)


def _start(args: argparse.Namespace, root) -> int:  # type: ignore[no-untyped-def]
    from edgebench.devices.adb import AdbServerError
    from edgebench.virtual import adb_link, registry
    from edgebench.virtual.device import DeviceConfig
    from edgebench.virtual.profiles import DEFAULT_PROFILE, load_profile

    if args.count < 1:
        raise UsageError(f"--count must be at least 1. Received: {args.count}.")
    address = None
    if not args.no_connect:
        address = adb_link.resolve(args.adb)
        if not adb_link.answers(address):
            if not args.start_adb_server:
                raise AdbServerError(
                    f"no adb server answers at {address}, so the devices could not be connected. Start one "
                    f"(`adb -P {address.port} start-server`), pass --start-adb-server to let edgebench start it, "
                    "or pass --no-connect.")
            adb_link.start_server(address)
            print(f"started an adb server at {address}")

    profile_ref = args.profile or DEFAULT_PROFILE
    profile = load_profile(profile_ref)  # fail on a bad profile before starting anything
    abi = args.abi or "x86_64"
    layouts = []
    reserved: set[int] = set()
    existing = registry.list_devices(root)
    if args.port is not None:
        for port in range(args.port, args.port + args.count):
            registry.check_port(port)
            match = next((s for s in existing if s.config.port == port), None)
            if match is None:
                config = DeviceConfig.new(profile_ref, abi, port, args.cpuinfo)
                layouts.append(registry.create_device(root, config))
                continue
            _check_same(match.config, args, profile.name)
            layouts.append(match.layout)
    else:
        # Restart stopped devices of the same kind first, so identities are reused.
        for state in existing:
            if len(layouts) == args.count:
                break
            if not state.running and _same_kind(state.config, profile_ref, profile.name, abi):
                layouts.append(state.layout)
        while len(layouts) < args.count:
            port = registry.allocate_port(root, reserved)
            reserved.add(port)
            layouts.append(registry.create_device(root, DeviceConfig.new(profile_ref, abi, port, args.cpuinfo)))

    failures = 0
    for layout in layouts:
        try:
            state = registry.start_device(layout)
        except registry.VirtualDeviceError as exc:
            print(f"error: {exc}")
            failures += 1
            continue
        config = state.config
        line = f"{config.serial}  {config.adb_serial}  {config.profile}  {config.abi}  {layout.folder}"
        if address is not None:
            try:
                adb_link.connect(address, config.adb_serial)
                line += "  (connected)"
            except Exception as exc:  # the device runs; say why adb did not take it
                line += f"  (adb connect failed: {exc})"
                failures += 1
        print(line)
    return 1 if failures else 0


def _same_kind(config, profile_ref: str, profile_name: str, abi: str) -> bool:  # type: ignore[no-untyped-def]
    return config.abi == abi and config.profile in (profile_ref, profile_name)


def _check_same(config, args: argparse.Namespace, profile_name: str) -> None:  # type: ignore[no-untyped-def]
    if args.profile and config.profile not in (args.profile, profile_name):
        raise UsageError(f"port {config.port} belongs to virtual device {config.serial} (profile {config.profile}); "
                         f"--profile {args.profile} cannot change it. Choose another --port.")
    if args.abi and config.abi != args.abi:
        raise UsageError(f"port {config.port} belongs to virtual device {config.serial} (abi {config.abi}); "
                         f"--abi {args.abi} cannot change it. Choose another --port.")


def _stop(args: argparse.Namespace, root) -> int:  # type: ignore[no-untyped-def]
    from edgebench.virtual import adb_link, registry

    if args.all == bool(args.serials):
        raise UsageError("name the devices to stop (SERIAL ...) or pass --all, not both")
    states = [s for s in registry.list_devices(root) if s.running] if args.all else \
        [registry.find_device(root, ref) for ref in args.serials]
    address = adb_link.resolve(args.adb)
    connected = adb_link.answers(address)
    for state in states:
        if connected:
            adb_link.disconnect(address, state.config.adb_serial)
        stopped = registry.stop_device(state)
        print(f"{state.config.serial}  {state.config.adb_serial}  {'stopped' if stopped else 'was not running'}")
    if not states:
        print("no running virtual devices")
    return 0


def _list(root) -> int:  # type: ignore[no-untyped-def]
    from edgebench.virtual import registry

    states = registry.list_devices(root)
    if not states:
        print(f"no virtual devices in {root}")
        return 0
    print("SERIAL          ADB SERIAL         STATE    PID      PROFILE          ABI        FOLDER")
    for s in states:
        c = s.config
        print(f"{c.serial:<15} {c.adb_serial:<18} {'running' if s.running else 'stopped':<8} "
              f"{s.pid or '-':<8} {c.profile:<16} {c.abi:<10} {s.layout.folder}")
    return 0
