"""`edgebench devices`: the targets edgebench can run on now. Never imports TensorFlow."""
from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--adb", default=None, metavar="HOST:PORT",
                        help="adb server to ask (default: $ADB_SERVER_SOCKET, else 127.0.0.1:5037)")
    parser.add_argument("--json", action="store_true", help="print a JSON array")


def collect(workspace: str | None, adb: str | None) -> tuple[list, str | None]:  # type: ignore[type-arg]
    """Reports for this host and every device on the adb server; a note when no server answers."""
    from edgebench.devices.adb import AdbServer, AdbServerAddress, server_answers
    from edgebench.targets.inventory import report_adb, report_local
    from edgebench.targets import LocalTarget
    from edgebench.targets.adb import AdbTarget
    from edgebench.workspace import Workspace

    ws = Workspace.resolve(workspace)
    reports = [report_local(LocalTarget(ws.local_device_root))]
    address = AdbServerAddress.resolve(adb)
    if not server_answers(address):
        return reports, f"no adb server answers at {address}: only this host is listed (start one with `adb start-server`)"
    server = AdbServer(address)
    for entry in server.devices():
        reports.append(report_adb(AdbTarget(server.device(entry.serial)), entry.state))
    return reports, None


def run(args: argparse.Namespace) -> int:
    import sys

    reports, note = collect(args.workspace, args.adb)
    if args.json:
        print(json.dumps([r.to_json() for r in reports], indent=1))
    else:
        from edgebench.cli.console import wide_console
        from rich.table import Table

        table = Table(title="targets", title_justify="left")
        for col in ("serial", "state", "kind", "model", "SoC", "ABIs", "Android", "CPU masks", "battery",
                    "thermal", "free"):
            table.add_column(col, overflow="fold")
        for r in reports:
            battery = (f"{r.battery_level_pct:g}% {r.battery_status or ''} {r.battery_temperature_c or ''}°C"
                       if r.battery_level_pct is not None else "—")
            masks = " ".join(f"{k}={v}" for k, v in r.cpu_masks.items() if k != "all") or "—"
            table.add_row(r.serial, r.state, r.device_kind or "?", r.model or "?", r.soc or "?",
                          ",".join(r.abi_list) or "?",
                          f"{r.android_release} (SDK {r.sdk_int})" if r.android_release else "—", masks, battery,
                          str(r.thermal_status) if r.thermal_status is not None else "—",
                          f"{r.run_folder_free_bytes / 2**30:.1f} GB" if r.run_folder_free_bytes else "—")
        console = wide_console()
        console.print(table)
        for r in reports:
            for problem in r.problems:
                console.print(f"[yellow]{r.serial}:[/] {problem}")
    if note:
        print(note, file=sys.stderr)
    return 0
