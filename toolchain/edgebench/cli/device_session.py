"""What the commands that hold one phone for a battery session share (`profile-battery`, `policy run`): the
adb target they need, and running the session with its stage on a status line, SIGTERM treated as Ctrl-C
(so the device is restored either way) and the results store closed afterwards."""
from __future__ import annotations

import signal
from typing import TYPE_CHECKING, Any, Callable, TypeVar

if TYPE_CHECKING:
    from edgebench.targets.adb import AdbTarget
    from edgebench.workspace import Workspace

T = TypeVar("T")


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
