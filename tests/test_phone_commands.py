"""Every command sent to a phone lives in one of three places: the adb transport (devices/adb.py),
the adb target (targets/adb.py and its parts, targets/adb_*.py) and the Android layer
(targets/android/). Anywhere else, a `shell(` / `check_shell(` call or a reach-through to a target's
transport (`target.device.…`, `hasattr(target, "device")`) fails this test: add a typed method to
targets/android/ instead."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "toolchain" / "edgebench"
ALLOWED = ("devices/adb.py", "targets/adb.py", "targets/adb_", "targets/android/")
# Temporary exceptions, each with its reason. Remove a line when its module is switched.
EXCEPTIONS: dict[str, str] = {}
# The virtual device is the phone's side of the link: its `.device` is the emulated device object.
DEVICE_SIDE = ("virtual/",)
SHELL_METHODS = {"shell", "check_shell"}


def _is_target(node: ast.expr) -> bool:
    """`target`, `self.target`, `adb_target`, ...: an expression that names a target."""
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return name == "target" or name.endswith("_target")


def violations_in(source: str, where: str) -> list[str]:
    """`where:line what` for each phone command or transport reach-through in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SHELL_METHODS:
            found.append(f"{where}:{node.lineno} .{node.func.attr}(...) call")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "hasattr"
              and len(node.args) == 2 and isinstance(node.args[1], ast.Constant) and node.args[1].value == "device"):
            found.append(f"{where}:{node.lineno} hasattr(..., \"device\")")
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
              and node.value.attr == "device"):
            found.append(f"{where}:{node.lineno} .device.{node.attr} reach-through")
        elif isinstance(node, ast.Attribute) and node.attr == "device" and _is_target(node.value):
            found.append(f"{where}:{node.lineno} target.device reach-through")
    return found


def _scan() -> tuple[list[str], set[str]]:
    found, excepted = [], set()
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(ALLOWED + DEVICE_SIDE):
            continue
        hits = violations_in(path.read_text(), relative)
        if relative in EXCEPTIONS:
            excepted.add(relative) if hits else None
            continue
        found.extend(hits)
    return found, excepted


def test_phone_commands_only_in_the_transport_the_adb_target_and_the_android_layer():
    found, _ = _scan()
    assert not found, "phone commands outside devices/adb.py, targets/adb*.py, targets/android/:\n" + "\n".join(found)


def test_every_exception_is_still_needed():
    _, excepted = _scan()
    stale = set(EXCEPTIONS) - excepted
    assert not stale, f"no phone commands left in {sorted(stale)}: remove them from EXCEPTIONS"


def test_the_scan_sees_each_kind_of_violation():
    source = ("def f(target, device):\n"
              "    target.device.shell(['ls'])\n"
              "    device.check_shell('ls')\n"
              "    transport = self.target.device\n"
              "    if hasattr(target, 'device'):\n"
              "        return target.device.features()\n")
    kinds = [v.split(" ", 1)[1] for v in violations_in(source, "x.py")]
    assert kinds.count(".shell(...) call") == 1 and kinds.count(".check_shell(...) call") == 1
    assert kinds.count('hasattr(..., "device")') == 1
    assert ".device.shell reach-through" in kinds and ".device.features reach-through" in kinds
    assert kinds.count("target.device reach-through") == 3  # target.device twice, self.target.device once
