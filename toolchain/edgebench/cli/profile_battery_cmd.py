"""`edgebench profile-battery`: energy per inference from the device's fuel gauge, with a 95% CI,
and from its ODPM power rails (SoC: CPU, GPU, TPU/NPU) where the device has them."""
from __future__ import annotations

import argparse
from typing import Any, Callable


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from edgebench.cli.device_session import add_device_session_arguments

    parser.add_argument("models", nargs="+", metavar="MODEL", help=".tflite files to profile")
    add_device_session_arguments(parser)
    parser.add_argument("--protocol", default="battery", choices=("battery",), help="the battery preset (§4.1)")
    from edgebench.cli.push_and_run import add_input_shape_argument

    add_input_shape_argument(parser)
    parser.add_argument("--duration", type=float, default=None, metavar="S", help="measured seconds (preset 300)")
    parser.add_argument("--warmup", type=float, default=None, metavar="S", help="warm-up seconds (30)")
    parser.add_argument("--repeats", type=int, default=None, metavar="K", help="runs per model (5)")
    parser.add_argument("--cooldown", default=None, metavar="S|auto|none", help="between runs (auto, >= 300 s)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON record per model (power_rails: the ODPM SoC rail figure, or why not)")


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from edgebench.cli.device_session import adb_target, run_on_device
    from edgebench.profiling.protocol import resolve
    from edgebench.profiling.session import BatterySession
    from edgebench.workspace import Workspace

    protocol, shortened = resolve(duration=args.duration, idle=args.idle, warmup=args.warmup, repeats=args.repeats,
                                  cooldown=args.cooldown, sample_hz=args.rate, rate_hz=args.inference_rate,
                                  verify_discharging_s=args.verify_seconds, calibrate_s=args.calibrate_seconds)
    ws = Workspace.resolve(args.workspace)
    target = adb_target(args.target, ws, args.adb, needs="profile-battery measures a device's fuel gauge (this "
                        "host has no battery to read)")

    def measure(store: Any, on_stage: Callable[[str], None]) -> tuple[str, list[Any]]:
        session = BatterySession(ws, store, target, protocol, shortened, power_path=args.power_path,
                                 screen=args.screen, keep=args.keep, on_stage=on_stage, input_shapes=args.input_shapes)
        return session.run(args.models, command=" ".join(sys.argv))

    session_id, results = run_on_device(target, args.workspace, measure)
    if args.json:
        print(json.dumps([r.to_json() for r in results], indent=1))
    else:
        from rich.console import Console

        from edgebench.profiling.table import battery_table

        Console(stderr=True).print(battery_table(results, title=f"session {session_id}"), soft_wrap=False)
    return 0 if all(r.valid for r in results) else 1
