"""`edgebench profile-battery`: energy per inference from the device's fuel gauge, with a 95% CI,
and from its ODPM power rails (SoC: CPU, GPU, TPU/NPU) where the device has them."""
from __future__ import annotations

import argparse
from typing import Any, Callable


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("models", nargs="+", metavar="MODEL", help=".tflite files to profile")
    parser.add_argument("--target", required=True, help="the device's adb serial (phones, virtual devices)")
    parser.add_argument("--adb", default=None, metavar="HOST:PORT", help="adb server (default: $ADB_SERVER_SOCKET)")
    parser.add_argument("--protocol", default="battery", choices=("battery",), help="the battery preset (§4.1)")
    from edgebench.cli.push_and_run import add_input_shape_argument

    add_input_shape_argument(parser)
    parser.add_argument("--duration", type=float, default=None, metavar="S", help="measured seconds (preset 300)")
    parser.add_argument("--idle", type=float, default=None, metavar="S", help="idle baseline before and after (120)")
    parser.add_argument("--warmup", type=float, default=None, metavar="S", help="warm-up seconds (30)")
    parser.add_argument("--repeats", type=int, default=None, metavar="K", help="runs per model (5)")
    parser.add_argument("--cooldown", default=None, metavar="S|auto|none", help="between runs (auto, >= 300 s)")
    parser.add_argument("--rate", type=float, default=None, metavar="HZ", help="sampling rate of the gauge (10)")
    parser.add_argument("--inference-rate", type=float, default=None, metavar="HZ",
                        help="run inferences at this rate instead of back to back")
    parser.add_argument("--power-path", default="auto", choices=("auto", "suspend-input", "wifi-adb", "cable-cut"),
                        help="how the charger is kept out (auto: suspend input unless already discharging)")
    parser.add_argument("--screen", default="off", choices=("off", "on", "keep"),
                        help="screen during the session (default off, §4.1): off = `input keyevent 223` (SLEEP), "
                             "on = 224 (WAKEUP; it may still time out, which invalidates the run), keep = leave it; "
                             "checked with `dumpsys power` mWakefulness and restored at the end. With "
                             "--power-path wifi-adb a phone may suspend with the screen off: consider --screen on. "
                             "Doze is always disabled for the session (`dumpsys deviceidle disable`) and "
                             "re-enabled afterwards where it was enabled; what the device refuses is recorded")
    parser.add_argument("--verify-seconds", type=float, default=None, metavar="S",
                        help="how long Discharging must hold before measuring (30)")
    parser.add_argument("--calibrate-seconds", type=float, default=None, metavar="S",
                        help="idle recording that calibrates the gauge's unit and sign when the device has no "
                             "stored calibration (600; once per device)")
    parser.add_argument("--keep", action="store_true", help="keep run folders on the device")
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
