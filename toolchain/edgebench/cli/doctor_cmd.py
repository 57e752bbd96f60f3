"""`edgebench doctor [SERIAL]`: check everything a run needs, up front, and say what to fix."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edgebench.targets.base import Target


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("serials", nargs="*", metavar="SERIAL",
                        help="devices to check (default: every attached device, or this host)")
    parser.add_argument("--adb", default=None, metavar="HOST:PORT", help="adb server to ask")


def run(args: argparse.Namespace) -> int:
    from edgebench.devices.adb import AdbServer, AdbServerAddress, server_answers
    from edgebench.targets.doctor import diagnose
    from edgebench.targets import LocalTarget
    from edgebench.targets.adb import AdbTarget
    from edgebench.workspace import Workspace

    ws = Workspace.resolve(args.workspace)
    address = AdbServerAddress.resolve(args.adb)
    checks: list[tuple[str, Target, str]] = []  # serial, target, adb state
    wanted = list(args.serials)
    if wanted == ["local"] or (not wanted and not server_answers(address)):
        checks.append(("local", LocalTarget(ws.local_device_root), "device"))
    else:
        server = AdbServer(address)
        states = {e.serial: e.state for e in server.devices()}
        for serial in wanted or list(states) or []:
            if serial == "local":
                checks.append(("local", LocalTarget(ws.local_device_root), "device"))
                continue
            checks.append((serial, AdbTarget(server.device(serial)), states.get(serial, "not attached")))
        if not checks:
            checks.append(("local", LocalTarget(ws.local_device_root), "device"))
    failed = 0
    for serial, target, state in checks:
        print(f"{serial}:")
        for f in diagnose(target, harness_root=ws.harness_builds, state=state):
            print(f"  [{'ok' if f.ok else 'FAIL'}] {f.check}: {f.detail}")
            if not f.ok:
                failed += 1
                print(f"         fix: {f.fix}")
    print("all checks passed" if not failed else f"{failed} check(s) failed")
    return 0 if not failed else 1
