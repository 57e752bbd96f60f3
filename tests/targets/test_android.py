"""The Android layer's typed methods against a virtual phone (pixel-8-like: fuel gauge, thermal HAL,
ODPM rails) behind a private adb server: each returns what the device's own commands say, and every
change it makes is undone here."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from edgebench.devices.adb import AdbServer
from edgebench.errors import DeviceError
from edgebench.parsers import DumpsysBattery, ThermalServiceDump
from edgebench.targets import LocalTarget
from edgebench.targets.adb import DEVICE_ROOT, AdbTarget
from edgebench.targets.android import AndroidDevice
from tests.virtual.helpers import cli_lab


@pytest.fixture(scope="module")
def phone(tmp_path_factory: pytest.TempPathFactory, harness_cache: Path) -> Iterator[AdbTarget]:
    workspace = tmp_path_factory.mktemp("android")
    with cli_lab(workspace, harness_cache, "--profile", "pixel-8-like", "--battery-level", "80") as (_adb, serials):
        yield AdbTarget(AdbServer().device(serials[0]))


@pytest.fixture
def android(phone: AdbTarget) -> AndroidDevice:
    return phone.android


def test_battery_dump_is_the_parsed_record(android: AndroidDevice):
    battery = android.battery.dump()
    assert isinstance(battery, DumpsysBattery)
    assert battery.level_pct == 80.0 and battery.present is True and battery.temperature_c is not None


def test_battery_requests_are_accepted_or_refused_and_reset(android: AndroidDevice):
    assert android.battery.request("unplug") is True
    assert android.battery.dump().updates_stopped is True
    assert android.battery.request("no-such-subcommand") is False
    assert android.battery.reset().ok
    assert android.battery.dump().updates_stopped is False


def test_thermal_dump_and_status(android: AndroidDevice):
    dump = android.thermal.dump()
    assert isinstance(dump, ThermalServiceDump) and dump.thermal_status == 0
    assert android.thermal.status() == 0


def test_settings_get_put_delete(android: AndroidDevice):
    before = android.settings.get("global", "edgebench_test_key")
    assert before == "null"  # unset
    assert android.settings.put("global", "edgebench_test_key", "a b")
    assert android.settings.get("global", "edgebench_test_key") == "a b"
    assert android.settings.delete("global", "edgebench_test_key")
    assert android.settings.get("global", "edgebench_test_key") == "null"


def test_doze_disable_and_enable_each_mode(android: AndroidDevice):
    before = android.doze.enabled()
    assert set(before) == {"deep", "light"} and None not in before.values()
    assert android.doze.disable().ok
    assert android.doze.enabled() == {"deep": False, "light": False}
    for mode in ("deep", "light"):
        assert android.doze.enable(mode).ok
    assert android.doze.enabled() == {"deep": True, "light": True}
    assert android.doze.state("deep")  # e.g. ACTIVE: a non-empty answer


def test_screen_keys_change_wakefulness(android: AndroidDevice):
    assert android.screen.wakefulness() == "Awake"
    assert android.screen.press_key("223").ok
    assert android.screen.wakefulness() == "Asleep"
    android.screen.press_key("224")
    assert android.screen.wakefulness() == "Awake"


def test_properties(android: AndroidDevice, phone: AdbTarget):
    props = android.props.all()
    assert props.is_virtual and android.props.get("ro.product.model") == props.model
    assert android.props.set("debug.edgebench.android_test", "it's set")
    assert android.props.get("debug.edgebench.android_test") == "it's set"
    assert android.props.read("debug.edgebench.android_test") == "it's set"
    assert android.props.set("debug.edgebench.android_test", "")


def test_power_supply_nodes(android: AndroidDevice):
    battery_dir = android.power_supply.battery_dir()
    assert battery_dir.startswith("/sys/class/power_supply/")
    assert android.power_supply.read_node(battery_dir, "capacity").text == "80"
    assert android.power_supply.status(battery_dir) in ("Charging", "Discharging", "Full", "Not charging")
    temperature = android.power_supply.temperature_c(battery_dir)
    assert temperature is not None and 10.0 < temperature < 50.0
    online = android.power_supply.chargers_online(battery_dir)
    assert all(path.endswith("/online") and value != "0" for path, value in online.items())
    assert battery_dir + "/online" not in online


def test_rails_are_listed_and_readable(android: AndroidDevice):
    assert android.rails.listing().ok and "ChannelId" in android.rails.listing().stdout
    files = android.rails.energy_files()
    assert files and all(f.endswith("/energy_value") for f in files)
    assert android.rails.read(files[0]).ok


def test_files_round_trip_and_errors_name_the_device(android: AndroidDevice, phone: AdbTarget):
    path = f"{DEVICE_ROOT}/android-test/journal.json"
    android.files.write_atomic(path, '{"a": "it\'s $HOME"}')
    assert android.files.read(path).text == '{"a": "it\'s $HOME"}'
    assert android.files.remove(path).ok and not android.files.read(path).ok
    free = android.files.free_bytes(DEVICE_ROOT.rsplit("/", 1)[0])
    assert free is not None and free > 0
    with pytest.raises(DeviceError) as raised:
        android.files.write_atomic("/proc/edgebench-nope/x.json", "{}")
    assert phone.name in str(raised.value) and "printf" in str(raised.value)
    assert android.has_exit_codes() in (True, False)


def test_restore_pending_changes_undoes_a_crashed_sessions_journal(android: AndroidDevice, phone: AdbTarget):
    import json

    from edgebench.targets.device_state import RESTORE_MARKER

    android.props.set("debug.edgebench.android_test", "left by a crash")
    android.files.write_atomic(RESTORE_MARKER, json.dumps({"props": {"debug.edgebench.android_test": "before"}}))
    assert phone.restore_pending_changes() == ["setprop debug.edgebench.android_test before"]
    assert android.props.get("debug.edgebench.android_test") == "before"
    assert phone.restore_pending_changes() == []  # the marker is gone


def test_a_target_without_a_journal_has_nothing_to_restore(tmp_path: Path):
    local = LocalTarget(tmp_path)
    assert local.android is None and local.restore_pending_changes() == []
