"""`edgebench virtual-device start|stop|list|fault|energy-truth`: adb-speaking virtual phones on this host.

Each device is a detached process listening on 127.0.0.1:PORT with its own sandboxed root folder
in the workspace (`virtual-devices/<serial>/`), connected to your current adb server with
`adb connect`. Results measured on one are marked virtual/simulated (ro.edgebench.virtual=1).
`fault` injects lab faults and power conditions (edgebench/virtual/faults.py); `energy-truth`
prints the host-only true energy of the measured windows (edgebench/virtual/energy_truth.py).
"""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgebench.errors import UsageError

if TYPE_CHECKING:  # the virtual device package loads when a command runs, not for --help
    from edgebench.virtual.device import DeviceConfig
    from edgebench.virtual.faults import FaultRequest

HELP = "Start, stop and list virtual adb devices (sandboxed, profile-driven phones on this host)."


def add_fault_flags(parser: argparse.ArgumentParser, *, one_shot: bool) -> None:
    """Fault and power-condition flags (shared by `start` and `fault`)."""
    g = parser.add_argument_group("faults (see edgebench/virtual/faults.py)")
    g.add_argument("--drop-after-bytes", type=int, metavar="N",
                   help="cut every adb connection once N more bytes crossed the link (0 = now)")
    g.add_argument("--drop-after-seconds", type=float, metavar="S", help="cut every adb connection S seconds from now")
    g.add_argument("--come-back-after", type=float, metavar="T",
                   help="after a drop (or --reboot) keep the port closed T seconds, then listen again (default 0)")
    space = g.add_mutually_exclusive_group()
    space.add_argument("--no-space", dest="no_space", action="store_const", const=True, default=None,
                       help="/data/local and /storage/emulated are full: pushes and shell writes fail with ENOSPC")
    space.add_argument("--space", dest="no_space", action="store_const", const=False, help="undo --no-space")
    g.add_argument("--slow-link", type=float, metavar="KBPS", dest="slow_link_kbps",
                   help="limit the adb link to KBPS kilobytes (1000 bytes) per second each way (0 = full speed)")
    g.add_argument("--state", choices=("device", "unauthorized", "offline"),
                   help="how the adb server sees the device: unauthorized (AUTH refused), offline (CNXN unanswered)")
    stale = g.add_mutually_exclusive_group()
    stale.add_argument("--stale-gauge", dest="stale_gauge", action="store_const", const=True, default=None,
                       help="the fuel gauge's sysfs values stop updating")
    stale.add_argument("--live-gauge", dest="stale_gauge", action="store_const", const=False, help="undo --stale-gauge")
    g.add_argument("--throttle", type=int, metavar="LEVEL",
                   help="thermal throttling at status LEVEL 1..6 (raised zone temps, cooling devices, lower "
                        "scaling_cur_freq, dumpsys thermalservice status); 0 = none")
    g.add_argument("--usb-power", choices=("on", "off"),
                   help="VBUS on or cut (a switchable hub): off stops charging for real, unlike `dumpsys battery unplug`")
    g.add_argument("--weak-charger", type=float, metavar="MA", dest="weak_charger_ma",
                   help="USB on, but the charger supplies at most MA mA: above that load the battery discharges "
                        "while usb/online reads 1 (0 = a full charger again)")
    g.add_argument("--battery-level", type=float, metavar="PCT", help="set the battery's charge to PCT percent")
    if one_shot:
        g.add_argument("--kill-harness", action="store_true",
                       help="SIGKILL the device's edgebench_runner and edgebench_sampler processes")
        g.add_argument("--reboot", action="store_true",
                       help="reboot the device AND wipe /data/local/tmp (adb reboot keeps it)")
        g.add_argument("--clear", action="store_true", help="undo every fault and power condition")


def fault_request(args: argparse.Namespace) -> FaultRequest | None:
    """The FaultRequest the flags ask for, or None when no fault flag was given."""
    from edgebench.virtual.faults import FaultRequest

    request = FaultRequest(
        clear=getattr(args, "clear", False), drop_after_bytes=args.drop_after_bytes,
        drop_after_seconds=args.drop_after_seconds, come_back_after=args.come_back_after,
        no_space=args.no_space, slow_link_kbps=args.slow_link_kbps, state=args.state,
        kill_harness=getattr(args, "kill_harness", False), reboot=getattr(args, "reboot", False),
        stale_gauge=args.stale_gauge, throttle=args.throttle,
        usb_power=None if args.usb_power is None else args.usb_power == "on",
        weak_charger_ma=args.weak_charger_ma, battery_level=args.battery_level)
    request.validate()
    return request if request.to_json() else None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    adb_help = "adb server as HOST:PORT (default: $ADB_SERVER_SOCKET, $ANDROID_ADB_SERVER_PORT or 5037)"

    start = sub.add_parser("start", help="start virtual devices and `adb connect` them")
    start.add_argument("--profile", default=None,
                       help="device profile name (edgebench/virtual/device_profiles/*.json) or path to a profile JSON "
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
    start.add_argument("--auth", action="store_true",
                       help="require adb's RSA authentication: an unknown host key leaves the device "
                            "'unauthorized' until allowed with `fault SERIAL --state device`, then it is remembered")
    start.add_argument("--adb", default=None, help=adb_help)
    start.add_argument("--no-connect", action="store_true", help="do not `adb connect` the devices")
    start.add_argument("--start-adb-server", action="store_true",
                       help="if no adb server answers, start one (never touches a server that answers)")
    add_fault_flags(start, one_shot=False)

    stop = sub.add_parser("stop", help="stop virtual devices (their folders and identities are kept)")
    stop.add_argument("serials", nargs="*", metavar="SERIAL",
                      help="ro.serialno, adb serial (127.0.0.1:PORT) or port of each device to stop")
    stop.add_argument("--all", action="store_true", help="stop every running virtual device of the workspace")
    stop.add_argument("--adb", default=None, help=adb_help)

    sub.add_parser("list", help="list the workspace's virtual devices")

    fault = sub.add_parser("fault", help="inject faults into a running virtual device (no flag: show its faults)")
    fault.add_argument("serial", metavar="SERIAL", help="ro.serialno, adb serial (127.0.0.1:PORT) or port")
    fault.add_argument("--json", action="store_true", help="print the device's fault state as JSON")
    add_fault_flags(fault, one_shot=True)

    truth = sub.add_parser("energy-truth", help="the host-only true energy per inference of each measured window")
    truth.add_argument("serial", metavar="SERIAL", help="ro.serialno, adb serial (127.0.0.1:PORT) or port")
    truth.add_argument("--run-id", default=None, help="only this run_id")
    truth.add_argument("--json", action="store_true", help="print a JSON list of records")


def run(args: argparse.Namespace) -> int:
    from edgebench.workspace import Workspace
    from edgebench.virtual import registry

    root = registry.registry_root(Workspace.resolve(args.workspace).root)
    if args.action == "start":
        return _start(args, root)
    if args.action == "stop":
        return _stop(args, root)
    if args.action == "fault":
        return _fault(args, root)
    if args.action == "energy-truth":
        return _energy_truth(args, root)
    return _list(root)


def _print_status(status: dict[str, Any], as_json: bool) -> None:
    import json

    if as_json:
        print(json.dumps(status, indent=1, sort_keys=True))
        return
    for key in sorted(status):
        print(f"{key}: {json.dumps(status[key]) if isinstance(status[key], dict) else status[key]}")


def _fault(args: argparse.Namespace, root: Path) -> int:
    from edgebench.virtual import control, registry

    state = registry.find_device(root, args.serial)
    request = fault_request(args)
    message = {"op": "status"} if request is None else {"op": "fault", "request": request.to_json()}
    _print_status(control.request(state.layout.folder, message), args.json)
    return 0


def _energy_truth(args: argparse.Namespace, root: Path) -> int:
    import json

    from edgebench.virtual import registry
    from edgebench.virtual.energy_truth import read_truth

    state = registry.find_device(root, args.serial)
    records = [r for r in read_truth(state.layout.folder) if args.run_id in (None, r.get("run_id"))]
    if args.json:
        print(json.dumps(records, indent=1, sort_keys=True))
        return 0
    if not records:
        print(f"no measured windows recorded for {state.config.serial} (markers: setprop debug.edgebench.window)")
        return 0
    print("RUN_ID                          STATUS         INFERENCES  WINDOW_S   ENERGY/INF_MJ")
    for r in records:
        per = r.get("energy_per_inference_mj")
        print(f"{r['run_id']:<31} {r['status']:<14} {str(r.get('inferences')):>10}  "
              f"{str(r.get('window_s')):>8}   {'-' if per is None else f'{per:.6f}'}")
    return 0


def _start(args: argparse.Namespace, root: Path) -> int:
    from edgebench.devices.adb import AdbServer, AdbServerAddress, AdbServerError, server_answers, start_server
    from edgebench.virtual import registry
    from edgebench.virtual.device import DeviceConfig
    from edgebench.virtual.profiles import DEFAULT_PROFILE, load_profile

    if args.count < 1:
        raise UsageError(f"--count must be at least 1. Received: {args.count}.")
    faults = fault_request(args)  # refuse bad fault flags before starting anything
    address = None
    if not args.no_connect:
        address = AdbServerAddress.resolve(args.adb)
        if not server_answers(address):
            if not args.start_adb_server:
                raise AdbServerError(
                    f"no adb server answers at {address}, so the devices could not be connected. Start one "
                    f"(`adb -P {address.port} start-server`), pass --start-adb-server to let edgebench start it, "
                    "or pass --no-connect.")
            start_server(address)
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
                config = DeviceConfig.new(profile_ref, abi, port, args.cpuinfo, auth=args.auth)
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
            layouts.append(registry.create_device(root, DeviceConfig.new(profile_ref, abi, port, args.cpuinfo, auth=args.auth)))

    failures = 0
    for layout in layouts:
        config = layout.load_config()
        if config.auth != args.auth:  # --auth is a property of this start, not of the identity
            layout.save_config(dataclasses.replace(config, auth=args.auth))
        try:
            state = registry.start_device(layout)
        except registry.VirtualDeviceError as exc:
            print(f"error: {exc}")
            failures += 1
            continue
        config = state.config
        line = f"{config.serial}  {config.adb_serial}  {config.profile}  {config.abi}  {layout.folder}"
        if faults is not None:
            from edgebench.virtual import control

            control.request(layout.folder, {"op": "fault", "request": faults.to_json()})
            line += f"  (faults: {', '.join(sorted(faults.to_json()))})"
        if address is not None:
            try:
                answer = AdbServer(address).connect(config.adb_serial)
                if answer.startswith("connected") or answer.startswith("already connected"):
                    line += "  (connected)"
                elif args.auth and "authenticate" in answer:  # an unknown host key: the dialog is up
                    line += (f"  (unauthorized: allow this host with `edgebench virtual-device fault "
                             f"{config.serial} --state device`)")
                else:  # e.g. "failed to authenticate to ..." when started --state unauthorized
                    line += f"  (adb connect: {answer.strip()})"
                    if faults is None or faults.state in (None, "device"):  # not what was asked for
                        failures += 1
            except Exception as exc:  # the device runs; say why adb did not take it
                line += f"  (adb connect failed: {exc})"
                failures += 1
        print(line)
    return 1 if failures else 0


def _same_kind(config: DeviceConfig, profile_ref: str, profile_name: str, abi: str) -> bool:
    return config.abi == abi and config.profile in (profile_ref, profile_name)


def _check_same(config: DeviceConfig, args: argparse.Namespace, profile_name: str) -> None:
    if args.profile and config.profile not in (args.profile, profile_name):
        raise UsageError(f"port {config.port} belongs to virtual device {config.serial} (profile {config.profile}); "
                         f"--profile {args.profile} cannot change it. Choose another --port.")
    if args.abi and config.abi != args.abi:
        raise UsageError(f"port {config.port} belongs to virtual device {config.serial} (abi {config.abi}); "
                         f"--abi {args.abi} cannot change it. Choose another --port.")


def _stop(args: argparse.Namespace, root: Path) -> int:
    from edgebench.devices.adb import AdbServer, AdbServerAddress, server_answers
    from edgebench.virtual import registry

    if args.all == bool(args.serials):
        raise UsageError("name the devices to stop (SERIAL ...) or pass --all, not both")
    states = [s for s in registry.list_devices(root) if s.running] if args.all else \
        [registry.find_device(root, ref) for ref in args.serials]
    address = AdbServerAddress.resolve(args.adb)
    connected = server_answers(address)
    for state in states:
        if connected:
            AdbServer(address).disconnect(state.config.adb_serial)
        stopped = registry.stop_device(state)
        print(f"{state.config.serial}  {state.config.adb_serial}  {'stopped' if stopped else 'was not running'}")
    if not states:
        print("no running virtual devices")
    return 0


def _list(root: Path) -> int:
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
