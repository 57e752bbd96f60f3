"""What the commands that hold one phone for a battery session share (`profile-battery`, `policy run`): the
adb target they need, and running the session with its stage on a status line, SIGTERM treated as Ctrl-C
(so the device is restored either way) and the results store closed afterwards."""
from __future__ import annotations

import argparse
import signal
from typing import TYPE_CHECKING, Any, Callable, TypeVar

if TYPE_CHECKING:
    from edgebench.targets.adb import AdbTarget
    from edgebench.workspace import Workspace

T = TypeVar("T")


def add_device_session_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of a battery session on one device: which device, how its gauge is sampled and the idle
    baseline, how the charger is kept out, the screen, and the discharging and calibration windows."""
    from edgebench.profiling.power_path import POWER_PATHS

    parser.add_argument("--target", required=True, help="the device's adb serial (phones, virtual devices)")
    parser.add_argument("--adb", default=None, metavar="HOST:PORT", help="adb server (default: $ADB_SERVER_SOCKET)")
    parser.add_argument("--idle", type=float, default=None, metavar="S", help="idle baseline before and after (120)")
    parser.add_argument("--rate", type=float, default=None, metavar="HZ", help="sampling rate of the gauge (10)")
    parser.add_argument("--inference-rate", type=float, default=None, metavar="HZ",
                        help="run inferences at this rate instead of back to back")
    parser.add_argument("--power-path", default="auto", choices=POWER_PATHS,
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


def adb_target(text: str, ws: Workspace, adb: str | None, *, needs: str) -> AdbTarget:
    """The one device `--target` names; a UsageError saying what the command `needs` a phone for otherwise."""
    from edgebench.errors import UsageError
    from edgebench.targets import resolve_targets
    from edgebench.targets.adb import AdbTarget

    (target,) = resolve_targets(text, ws, adb=adb)[:1]
    if not isinstance(target, AdbTarget):
        raise UsageError(f"{needs}: give a phone's or virtual device's adb serial with --target. Received: {text!r}.")
    return target


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_on_device(target: AdbTarget, workspace: str | None, body: Callable[[Any, Callable[[str], None]], T]) -> T:
    """`body(store, on_stage)` with the store open, `on_stage` showing "<device>: <stage>" on stderr."""
    from rich.console import Console

    from edgebench.api import open_store

    store = open_store(workspace)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        with Console(stderr=True).status(f"{target.name}: starting") as status:
            return body(store, lambda stage: status.update(f"{target.name}: {stage}"))
    finally:
        signal.signal(signal.SIGTERM, previous)
        store.close()
