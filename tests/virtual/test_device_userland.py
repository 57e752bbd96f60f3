"""The userland of a virtual device as phone tools use it: logcat and log, phone applets, services."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from edgebench.virtual import registry
from tests.virtual.helpers import PrivateAdb

pytestmark = pytest.mark.usefixtures("sandbox_available")
THREADTIME = re.compile(r"^\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} +\d+ +\d+ [VDIWEF] .{8,}: ")


@pytest.fixture(scope="module")
def adb(shared_adb: PrivateAdb, device: registry.DeviceState) -> PrivateAdb:
    assert "connected" in shared_adb.check("connect", device.config.adb_serial)
    return shared_adb


def sh(adb: PrivateAdb, device: registry.DeviceState, command: str):  # type: ignore[no-untyped-def]
    return adb.run("-s", device.config.adb_serial, "shell", command)


def test_the_devices_services_write_to_the_log_from_boot_on(adb: PrivateAdb, device: registry.DeviceState) -> None:
    # First in this module: the other tests clear the log.
    deadline = time.monotonic() + 10
    healthd = ""
    while "battery l=" not in healthd and time.monotonic() < deadline:  # healthd logs at its first reading
        healthd = adb.check("-s", device.config.adb_serial, "logcat", "-d", "-s", "healthd")
        time.sleep(0.1)
    from edgebench.parsers.healthd import parse_healthd_log

    samples = parse_healthd_log(healthd).samples
    assert samples and samples[0].level_pct is not None and samples[0].voltage_mv
    assert "booted (profile pixel-8-like)" in sh(adb, device, "logcat -d -s edgebench").stdout.decode()
    # A lab fault and the thermal throttling it sets are logged as they happen.
    from edgebench.virtual import control
    from edgebench.virtual.faults import FaultRequest

    control.request(device.layout.folder, {"op": "fault", "request": FaultRequest(throttle=2).to_json()})
    try:
        deadline = time.monotonic() + 10
        system = ""
        while "Thermal status changed to 2" not in system and time.monotonic() < deadline:
            system = sh(adb, device, "logcat -d -b system,main -s ThermalManagerService edgebench").stdout.decode()
            time.sleep(0.1)
        assert "W ThermalManagerService: Thermal status changed to 2" in system
        assert "W edgebench: lab fault injected: throttle=2" in system
    finally:
        control.request(device.layout.folder, {"op": "fault", "request": FaultRequest(throttle=0).to_json()})


def test_log_entries_come_back_in_threadtime_and_the_other_formats(adb: PrivateAdb, device: registry.DeviceState) -> None:
    serial = device.config.serial
    assert adb.run("-s", device.config.adb_serial, "logcat", "-c").returncode == 0
    assert sh(adb, device, "log -t EbTest -p w 'hello from the shell' && log -t Other quiet").returncode == 0
    out = adb.check("-s", device.config.adb_serial, "logcat", "-d", "-v", "threadtime", "EbTest:V", "*:S")
    lines = out.splitlines()
    assert lines[0] == "--------- beginning of main", out
    assert len(lines) == 2 and THREADTIME.match(lines[1]) and lines[1].endswith(" W EbTest  : hello from the shell")
    brief = sh(adb, device, "logcat -d -v brief -s EbTest").stdout.decode().splitlines()[-1]
    assert re.fullmatch(r"W/EbTest  \( *\d+\): hello from the shell", brief), brief
    timed = sh(adb, device, "logcat -d -v time -s Other:I").stdout.decode().splitlines()[-1]
    assert re.fullmatch(r"\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} I/Other   \( *\d+\): quiet", timed), timed
    assert serial  # the device under test


def test_logcat_tail_since_time_buffers_and_clear(adb: PrivateAdb, device: registry.DeviceState) -> None:
    for i in range(3):
        sh(adb, device, f"log -t Tail line{i}")
    last = sh(adb, device, "logcat -t 2 -s Tail").stdout.decode().splitlines()
    assert [line.rsplit(": ", 1)[1] for line in last if "Tail" in line] == ["line1", "line2"]
    marker = sh(adb, device, "date +%s").stdout.decode().strip()
    time.sleep(1.1)
    sh(adb, device, "log -t Tail after")
    since = sh(adb, device, f"logcat -d -T {marker}.999 -s Tail").stdout.decode()
    assert "after" in since and "line2" not in since
    sh(adb, device, "log -b system -t Sys system-entry; log -b crash -p f -t Crash boom")
    assert "system-entry" not in sh(adb, device, "logcat -d -b main").stdout.decode()
    everything = sh(adb, device, "logcat -d -b all").stdout.decode()
    assert "--------- beginning of crash" in everything and "F Crash   : boom" in everything
    assert sh(adb, device, "logcat -b system -c").returncode == 0
    assert "system-entry" not in sh(adb, device, "logcat -d -b all").stdout.decode()
    assert "after" in sh(adb, device, "logcat -d").stdout.decode()


def test_logcat_refuses_bad_input_with_a_reason(adb: PrivateAdb, device: registry.DeviceState) -> None:
    bad = sh(adb, device, "logcat -d -b nosuch")
    assert bad.returncode == 1 and b"unknown buffer 'nosuch'" in bad.stderr
    assert b"Invalid filter expression" in sh(adb, device, "logcat -d Tag:Z").stderr


def test_logcat_follows_new_entries(adb: PrivateAdb, device: registry.DeviceState) -> None:
    import subprocess

    follower = subprocess.Popen([adb.binary, "-s", device.config.adb_serial, "logcat", "-v", "threadtime", "-T", "1",
                                 "Follow:V", "*:S"], env=adb.env, stdout=subprocess.PIPE)
    try:
        time.sleep(0.5)
        sh(adb, device, "log -t Follow live-entry")
        assert follower.stdout is not None
        seen = b""
        deadline = time.monotonic() + 10
        while b"live-entry" not in seen and time.monotonic() < deadline:
            seen += follower.stdout.readline()
        assert b"I Follow  : live-entry" in seen
    finally:
        follower.terminate()
        follower.wait(10)


def test_uptime_and_boot_id_are_the_devices_own(adb: PrivateAdb, device: registry.DeviceState) -> None:
    uptime_s = float(sh(adb, device, "cat /proc/uptime").stdout.split()[0])
    host_uptime_s = float(Path("/proc/uptime").read_text().split()[0])
    assert uptime_s < 300 < host_uptime_s or uptime_s < host_uptime_s - 5  # counted from the device's boot
    boot_id = sh(adb, device, "cat /proc/sys/kernel/random/boot_id").stdout.decode().strip()
    assert re.fullmatch(r"[0-9a-f-]{36}", boot_id) and boot_id != Path("/proc/sys/kernel/random/boot_id").read_text().strip()


def test_phone_applets_debian_toybox_lacks_run(adb: PrivateAdb, device: registry.DeviceState) -> None:
    script = ("echo abc | tr a-c x-z; expr 2 + 3; dd if=/dev/zero bs=4 count=1 2>/dev/null | wc -c; "
              "echo hi | gzip | gzip -d; getopt ab: -a -b 1; echo x > /data/local/tmp/d1; echo y > /data/local/tmp/d2; "
              "diff /data/local/tmp/d1 /data/local/tmp/d2 >/dev/null; echo diff=$?")
    out = sh(adb, device, script)
    assert out.stdout.decode().split("\n")[:6] == ["xyz", "5", "4", "hi", " -a -b 1 --", "diff=1"], out


def test_nproc_matches_the_profiles_cpus(adb: PrivateAdb, device: registry.DeviceState) -> None:
    online = sh(adb, device, "cat /sys/devices/system/cpu/online").stdout.decode().strip()
    expected = sum(int(r.split("-")[-1]) - int(r.split("-")[0]) + 1 for r in online.split(","))
    assert sh(adb, device, "nproc").stdout.decode().strip() == str(expected)
    assert sh(adb, device, "grep -c ^processor /proc/cpuinfo").stdout.decode().strip() == str(expected)


def test_pm_am_and_cmd_answer_as_a_phone_without_apps(adb: PrivateAdb, device: registry.DeviceState) -> None:
    listing = sh(adb, device, "pm list packages")
    assert listing.returncode == 0 and listing.stdout == b""
    assert sh(adb, device, "cmd package list packages").returncode == 0
    started = sh(adb, device, "am start -n com.example/.Main")
    assert started.returncode == 1 and b"unable to resolve Intent { cmp=com.example/.Main }" in started.stderr
    assert b"Broadcast completed: result=0" in sh(adb, device, "am broadcast -a x.y").stdout
    assert sh(adb, device, "am force-stop com.example").returncode == 0


def test_data_is_a_mount_point_and_wlan0_has_an_address_inside_the_device(adb: PrivateAdb,
                                                                          device: registry.DeviceState) -> None:
    df = sh(adb, device, "df /data/local/tmp").stdout.decode().splitlines()
    assert df[-1].split()[-1] == "/data", df
    wlan = sh(adb, device, "ip -4 addr show wlan0").stdout.decode()
    assert "inet 192.168.1.100/24" in wlan, wlan
    assert "inet addr:192.168.1.100" in sh(adb, device, "ifconfig wlan0").stdout.decode()
    # The device's network namespace is its own: the host has no such address.
    import socket

    with socket.socket() as probe, pytest.raises(OSError):
        probe.bind(("192.168.1.100", 0))


def test_batterystats_reset_and_charged_read_the_gauge_and_meminfo_the_kernel(adb: PrivateAdb,
                                                                              device: registry.DeviceState) -> None:
    from edgebench.parsers.batterystats import parse_dumpsys_batterystats

    assert sh(adb, device, "dumpsys batterystats --reset").stdout == b"Battery stats reset.\n"
    counter_before = int(sh(adb, device, "cat /sys/class/power_supply/battery/charge_counter").stdout)
    time.sleep(1.0)
    text = sh(adb, device, "dumpsys batterystats --charged").stdout.decode()
    counter_after = int(sh(adb, device, "cat /sys/class/power_supply/battery/charge_counter").stdout)
    period = parse_dumpsys_batterystats(text).periods[0]
    assert period.kind == "since_charged" and period.total_run_time_ms is not None
    assert 1000 <= period.total_run_time_ms < 30_000
    assert period.discharge_mah is not None
    # The gauge's own counter since the reset (it may move once more between the two reads).
    assert abs(period.discharge_mah - (counter_before - counter_after) / 1000) <= 1.0
    meminfo = sh(adb, device, "dumpsys meminfo").stdout.decode()
    total_kb = next(int(line.split()[1]) for line in sh(adb, device, "cat /proc/meminfo").stdout.decode().splitlines()
                    if line.startswith("MemTotal:"))
    assert f"Total RAM: {total_kb}K (status normal)" in meminfo
    assert "batterystats" in sh(adb, device, "dumpsys -l").stdout.decode()


def test_shell_errors_read_as_androids_mksh(adb: PrivateAdb, device: registry.DeviceState) -> None:
    missing = sh(adb, device, "no_such_command")
    assert missing.returncode == 127
    assert missing.stderr == b"/system/bin/sh: no_such_command: inaccessible or not found\n"
    assert sh(adb, device, "cd /no/such").stderr == b"/system/bin/sh: cd: /no/such: No such file or directory\n"
