"""Mobly's AndroidDevice controller (pinned in the test extra: mobly==1.13.1) accepts a virtual device.

What Mobly does with a phone when a test class calls `register_controller(android_device)`: list
devices, read build properties, check root, clear logcat and start its standing `adb logcat`
capture. Then a few device calls a Mobly test makes: shell, push/pull, logcat capture, reboot.
Snippets, screenshots and bug reports need apps or a screen: not tried here (see the skips).
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from edgebench.virtual import registry
from tests.virtual.helpers import PrivateAdb

pytestmark = pytest.mark.usefixtures("sandbox_available")
mobly = pytest.importorskip("mobly", reason="mobly is in the test extra (mobly==1.13.1)")


@pytest.fixture(scope="module")
def android_device(shared_adb: PrivateAdb, device: registry.DeviceState,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The device as Mobly's register_controller(android_device) hands it to a test."""
    from mobly import controller_manager
    from mobly.controllers import android_device as mobly_android_device
    from mobly.controllers.android_device_lib import adb as mobly_adb

    assert "connected" in shared_adb.check("connect", device.config.adb_serial)
    patch = pytest.MonkeyPatch()
    for key, value in shared_adb.env.items():
        if key.startswith(("ADB_", "ANDROID_ADB")):
            patch.setenv(key, value)
    patch.setattr(mobly_adb, "ADB", shared_adb.binary)
    patch.setattr(logging, "log_path", str(tmp_path_factory.mktemp("mobly-logs")), raising=False)
    manager = controller_manager.ControllerManager(
        "VirtualDeviceContract", {"AndroidDevice": [{"serial": device.config.adb_serial}]})
    try:
        ads = manager.register_controller(mobly_android_device)
        assert len(ads) == 1
        yield ads[0]
    finally:
        manager.unregister_controllers()
        patch.undo()


def test_register_controller_reads_the_build_and_starts_logcat(android_device: Any) -> None:
    assert android_device.build_info["build_product"] == "shiba"
    assert android_device.build_info["build_version_sdk"]
    assert android_device.is_adb_root is False
    assert android_device.services.logcat.is_alive


def test_shell_push_and_pull(android_device: Any, tmp_path: Path) -> None:
    assert android_device.adb.shell("echo mobly").strip() == b"mobly"
    local = tmp_path / "payload.bin"
    local.write_bytes(bytes(range(256)) * 100)
    android_device.adb.push([str(local), "/data/local/tmp/mobly.bin"])
    android_device.adb.pull(["/data/local/tmp/mobly.bin", str(tmp_path / "back.bin")])
    assert (tmp_path / "back.bin").read_bytes() == local.read_bytes()


def test_logcat_capture_records_new_entries(android_device: Any) -> None:
    android_device.adb.shell(["log", "-t", "MoblyContract", "captured-line"])
    capture = Path(android_device.services.logcat.adb_logcat_file_path)
    deadline = time.monotonic() + 10
    while "captured-line" not in capture.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert " I MoblyContract: captured-line" in capture.read_text()


def test_reboot_restores_the_device_and_its_logcat(android_device: Any) -> None:
    before = android_device.adb.shell("cat /proc/sys/kernel/random/boot_id").strip()
    android_device.reboot()
    assert android_device.services.logcat.is_alive
    assert android_device.adb.shell("getprop sys.boot_completed").strip() == b"1"
    assert android_device.adb.shell("cat /proc/sys/kernel/random/boot_id").strip() != before


@pytest.mark.skip(reason="snippets need an instrumented Android app (Mobly Bundled Snippets): the virtual device "
                         "has no Android framework to install or run apps")
def test_snippet_client() -> None:
    raise AssertionError("not run")


@pytest.mark.skip(reason="take_screenshot needs a screen (screencap) and bug reports need bugreportz: the virtual "
                         "device has neither")
def test_screenshot_and_bugreport() -> None:
    raise AssertionError("not run")
