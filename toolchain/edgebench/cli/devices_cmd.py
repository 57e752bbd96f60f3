"""`edgebench devices`: the targets edgebench can run on now. Never imports TensorFlow."""
from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON array")


def run(args: argparse.Namespace) -> int:
    from edgebench.targets import LocalTarget
    from edgebench.workspace import Workspace

    ws = Workspace.resolve(args.workspace)
    infos = [LocalTarget(ws.local_device_root).describe()]
    if args.json:
        print(json.dumps([i.to_json() for i in infos], indent=1))
        return 0
    for info in infos:
        print(f"{info.target:24} {info.device_kind:8} {info.model or '?'}  {info.abi}  {info.os_version or ''}  "
              f"{info.cpu_count} CPUs")
    return 0
