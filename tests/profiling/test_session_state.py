"""What profile-battery records when the device will not say: unreadable `dumpsys battery`, battery
level or thermal status are not_checked with their reason (never passed), and a failing
precondition refuses the session. Against a scripted device (the failures are the device's)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from edgebench.devices.adb import ShellResult
from edgebench.errors import DeviceError
from edgebench.profiling.phone_commands import observe_state
from edgebench.profiling.preparation import check_preconditions
from edgebench.profiling.run_evidence import charger_online, thermal_evidence
from edgebench.profiling.session import BatterySession
from edgebench.store import DeviceSample
from edgebench.targets.android import AndroidDevice

BATTERY = "/sys/class/power_supply/battery"
THERMAL_OK = "Thermal Status: 0\nCached temperatures:\nHAL Ready: true\n"


@dataclass
class ScriptedDevice:
    serial: str = "SCRIPTED01"
    answers: dict = field(default_factory=dict)  # command text -> ShellResult

    def shell(self, args, **_):
        text = args if isinstance(args, str) else " ".join(args)
        return self.answers.get(text, ShellResult(0, "", ""))

    def check_shell(self, args, **_):
        result = self.shell(args)
        if result.exit_code != 0:
            raise DeviceError(self.serial, f"command exited {result.exit_code}: {result.stderr}",
                              command=" ".join(args))
        return result.stdout


@dataclass
class ScriptedTarget:
    device: ScriptedDevice
    name: str = "SCRIPTED01"

    @property
    def android(self) -> AndroidDevice:
        return AndroidDevice(self.device, self.name)  # type: ignore[arg-type]  # the scripted device


def session(**answers: ShellResult) -> BatterySession:
    device = ScriptedDevice(answers={k.replace("_", " "): v for k, v in answers.items()})
    return BatterySession(workspace=None, store=None, target=ScriptedTarget(device), protocol=None,  # type: ignore
                          shortened=())


def ok(text: str) -> ShellResult:
    return ShellResult(0, text, "")


CAPACITY = f"cat {BATTERY}/capacity"


def test_unreadable_dumpsys_battery_leaves_updates_stopped_unknown() -> None:
    s = session(**{"dumpsys_thermalservice": ok(THERMAL_OK),
                   "dumpsys_battery": ShellResult(255, "", "Can't find service: battery")})
    assert observe_state(s.target).updates_stopped is None  # was False: the check then passed


def test_unreadable_preconditions_are_recorded_not_passed() -> None:
    s = session()
    s.target.device.answers = {CAPACITY: ShellResult(1, "", "cat: capacity: Permission denied"),
                               "dumpsys thermalservice": ShellResult(255, "", "Can't find service: thermalservice")}
    level, thermal = check_preconditions(s.target, BATTERY)
    assert level.outcome == "not_checked" and CAPACITY in level.reason
    assert thermal.outcome == "not_checked" and "dumpsys thermalservice` could not be read" in thermal.reason
    s.target.device.answers = {CAPACITY: ok("80\r\n"), "dumpsys thermalservice": ok("HAL Ready: true\n")}
    level, thermal = check_preconditions(s.target, BATTERY)
    assert level.outcome == "pass" and thermal.outcome == "not_checked"


@pytest.mark.parametrize("capacity,thermal,match", [
    ("95\n", THERMAL_OK, "battery at 95%"),
    ("70\n", THERMAL_OK.replace("Status: 0", "Status: 2"), "thermal status is 2"),
])
def test_a_failing_precondition_refuses_the_session(capacity: str, thermal: str, match: str) -> None:
    s = session()
    s.target.device.answers = {CAPACITY: ok(capacity), "dumpsys thermalservice": ok(thermal)}
    with pytest.raises(DeviceError, match=match):
        check_preconditions(s.target, BATTERY)


def _state_file(path: Path, status: str | None) -> None:
    lines = ["meta\tformat\t1", "ok\t/proc/uptime\t1000.00 900.00"]
    if status is not None:
        lines.insert(1, f"meta\tthermal_status\t{status}")
    path.write_text("\n".join(lines) + "\n")


def test_thermal_evidence_uses_the_run_state_files_and_the_measured_windows_samples(tmp_path: Path) -> None:
    _state_file(tmp_path / "state_before.txt", "0")
    _state_file(tmp_path / "state_after.txt", "0")
    cooling = "/sys/class/thermal/cooling_device1/cur_state"
    samples = [DeviceSample(int(t * 1e9), cooling, v) for t, v in
               ((5.0, "4"), (10.0, "0"), (12.0, "2"), (14.0, "0"), (25.0, "5"))]
    found = thermal_evidence(tmp_path, samples, (10.0, 20.0))
    # The idle windows' readings (t=5, t=25) are not the measured window's.
    assert (found.status_at_start, found.status_at_end) == (0, 0)
    assert found.cooling_samples_in_window == 3 and found.cooling_max_in_window == ("cooling_device1", 2, 12.0)
    _state_file(tmp_path / "state_after.txt", "")  # dumpsys printed nothing
    assert thermal_evidence(tmp_path, [], (10.0, 20.0)).status_at_end is None


def test_charger_online_readings_leave_out_the_battery_and_other_times() -> None:
    samples = [DeviceSample(11_000_000_000, "/sys/class/power_supply/usb/online", "1"),
               DeviceSample(30_000_000_000, "/sys/class/power_supply/usb/online", "0"),
               DeviceSample(11_000_000_000, "/sys/class/power_supply/battery/status", "Discharging")]
    found = charger_online(samples, BATTERY, (10.0, 20.0))
    assert found == {"/sys/class/power_supply/usb/online": [(11.0, "1")]}


class _Guard:
    def __init__(self, target: object) -> None:
        self.target, self.put = target, []

    def put_setting(self, namespace: str, key: str, value: str) -> bool:
        self.put.append(f"{namespace}/{key}={value}")
        return True


def _network_target(virtual: bool) -> object:
    from types import SimpleNamespace

    calls: list[bool] = []
    settings = SimpleNamespace(apply_airplane_mode=calls.append)
    return SimpleNamespace(name="127.0.0.1:41235", props=SimpleNamespace(is_virtual=virtual),
                           android=SimpleNamespace(settings=settings), radio_calls=calls)


def test_airplane_mode_is_left_alone_on_wifi_adb_but_set_on_a_virtual_devices_network_serial() -> None:
    from edgebench.profiling.preparation import _airplane_on

    phone = _network_target(virtual=False)  # HOST:PORT may be Wi-Fi adb: airplane mode would cut the link
    guard = _Guard(phone)
    assert _airplane_on(phone, guard, "auto") is False and guard.put == []  # type: ignore[arg-type]
    device = _network_target(virtual=True)  # the host's own socket, no radio in the link
    guard = _Guard(device)
    assert _airplane_on(device, guard, "auto") is True  # type: ignore[arg-type]
    assert guard.put == ["global/airplane_mode_on=1"] and device.radio_calls == [True]  # type: ignore[attr-defined]
    assert _airplane_on(device, _Guard(device), "wifi-adb") is False  # type: ignore[arg-type]
