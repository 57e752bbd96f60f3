"""A virtual device driven by REAL adb servers (adbutils' adb 36 and Debian's adb 29, each private)."""
from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path
from typing import BinaryIO, Iterator

import pytest

from edgebench.virtual import adb_protocol as p
from edgebench.virtual import registry
from tests.virtual.helpers import PrivateAdb, aarch64_exit_program, start_device

pytestmark = pytest.mark.usefixtures("sandbox_available")


@pytest.fixture(scope="module")
def adb(private_adb: PrivateAdb, device: registry.DeviceState) -> PrivateAdb:
    out = private_adb.check("connect", device.config.adb_serial)
    assert "connected" in out
    return private_adb


def shell(adb: PrivateAdb, device: registry.DeviceState, command: str, input: bytes | None = None):  # type: ignore[no-untyped-def]
    return adb.run("-s", device.config.adb_serial, "shell", command, input=input)


def test_adb_lists_the_device_with_the_profile_identity(adb: PrivateAdb, device: registry.DeviceState) -> None:
    line = next(l for l in adb.check("devices", "-l").splitlines() if l.startswith(device.config.adb_serial))
    assert "device product:shiba model:Pixel_8 device:shiba" in line


def test_getprop_answers_profile_and_identity_values(adb: PrivateAdb, device: registry.DeviceState) -> None:
    assert shell(adb, device, "getprop ro.product.model").stdout == b"Pixel 8\n"
    assert shell(adb, device, "getprop ro.serialno").stdout.decode().strip() == device.config.serial
    assert shell(adb, device, "getprop ro.edgebench.virtual").stdout == b"1\n"
    assert shell(adb, device, "getprop ro.product.cpu.abilist").stdout == b"x86_64\n"
    assert shell(adb, device, "getprop no.such.prop fallback").stdout == b"fallback\n"
    listing = shell(adb, device, "getprop").stdout.decode().splitlines()
    assert "[ro.soc.model]: [Tensor G3]" in listing
    assert listing == sorted(listing)


def test_setprop_changes_runtime_properties_but_not_read_only_ones(adb: PrivateAdb, device: registry.DeviceState) -> None:
    assert shell(adb, device, "setprop debug.edgebench.x 7 && getprop debug.edgebench.x").stdout == b"7\n"
    refused = shell(adb, device, "setprop ro.product.model Other")
    assert refused.returncode == 1 and b"Failed to set property" in refused.stderr
    assert shell(adb, device, "getprop ro.product.model").stdout == b"Pixel 8\n"


def test_shell_v2_reports_exit_codes_and_separates_stderr(adb: PrivateAdb, device: registry.DeviceState) -> None:
    assert shell(adb, device, "exit 3").returncode == 3
    result = shell(adb, device, "echo out; echo err >&2; kill -9 $$")
    assert (result.stdout, result.stderr, result.returncode) == (b"out\n", b"err\n", 128 + 9)


def test_stdin_is_piped_to_the_command(adb: PrivateAdb, device: registry.DeviceState) -> None:
    data = b"".join(b"line %d\n" % i for i in range(20000))
    result = shell(adb, device, "wc -l", input=data)
    assert result.returncode == 0
    assert result.stdout.split()[0] == b"20000"


def test_push_and_pull_5_mb_keep_every_byte(adb: PrivateAdb, device: registry.DeviceState, tmp_path: Path) -> None:
    data = os.urandom(5 * 1024 * 1024)
    src, back = tmp_path / "big.bin", tmp_path / "back.bin"
    src.write_bytes(data)
    adb.check("-s", device.config.adb_serial, "push", str(src), "/data/local/tmp/new/dir/big.bin")
    adb.check("-s", device.config.adb_serial, "pull", "/data/local/tmp/new/dir/big.bin", str(back))
    assert hashlib.sha256(back.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    on_device = shell(adb, device, "sha256sum /data/local/tmp/new/dir/big.bin").stdout.split()[0].decode()
    assert on_device == hashlib.sha256(data).hexdigest()
    # Pushed files belong to the shell user and land in the device folder.
    assert shell(adb, device, "stat -c '%s %U' /data/local/tmp/new/dir/big.bin").stdout == b"%d shell\n" % len(data)
    assert (device.layout.root / "data/local/tmp/new/dir/big.bin").stat().st_size == len(data)


def test_ls_and_sync_listing_show_pushed_files(adb: PrivateAdb, device: registry.DeviceState, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x")
    adb.check("-s", device.config.adb_serial, "push", str(tmp_path / "f.txt"), "/data/local/tmp/listed.txt")
    assert "listed.txt" in shell(adb, device, "ls /data/local/tmp").stdout.decode().split()
    sync_names = [line.split()[-1] for line in adb.check("-s", device.config.adb_serial, "ls", "/data/local/tmp").splitlines()]
    assert {".", "..", "listed.txt"} <= set(sync_names)


def test_device_paths_resolve_inside_the_device_folder(adb: PrivateAdb, device: registry.DeviceState) -> None:
    # The host has an /etc/hostname; the device (Android-like) has none.
    assert shell(adb, device, "cat /etc/hostname").returncode != 0
    marker = f"edgebench-{os.getpid()}-{device.config.port}"
    assert shell(adb, device, f"echo {marker} > /tmp/{marker}").returncode == 0
    assert (device.layout.root / "tmp" / marker).read_text() == marker + "\n"
    assert not Path("/tmp", marker).exists()
    ro = shell(adb, device, "echo x > /system/evil")
    assert ro.returncode != 0 and b"Read-only file system" in ro.stderr
    assert shell(adb, device, "touch /usr/evil").returncode != 0


def test_sync_cannot_escape_through_symlinks(adb: PrivateAdb, device: registry.DeviceState, tmp_path: Path) -> None:
    assert shell(adb, device, "ln -sfn / /data/local/tmp/to_root && ln -sfn /etc/hostname /data/local/tmp/host_name").returncode == 0
    # Through the links, paths are the device's: /etc/hostname does not exist there.
    pulled = adb.run("-s", device.config.adb_serial, "pull", "/data/local/tmp/host_name", str(tmp_path / "h"))
    assert pulled.returncode != 0 and not (tmp_path / "h").exists()
    (tmp_path / "p.txt").write_text("inside")
    adb.check("-s", device.config.adb_serial, "push", str(tmp_path / "p.txt"), "/data/local/tmp/to_root/tmp/p.txt")
    assert (device.layout.root / "tmp/p.txt").read_text() == "inside"


def test_processes_and_proc_are_the_devices_own(adb: PrivateAdb, device: registry.DeviceState) -> None:
    ps = shell(adb, device, "ps -A").stdout.decode().split("\n")
    assert ps[1].split()[0] == "1" and ps[1].split()[-1] == "init"
    assert len([line for line in ps if line.strip()]) < 10  # no host processes
    cpuinfo = shell(adb, device, "cat /proc/cpuinfo").stdout.decode()
    assert "CPU part\t: 0xd4e" in cpuinfo  # Pixel 8's Cortex-X3, from the profile
    assert shell(adb, device, "id -u").stdout == b"2000\n"


def test_sysfs_and_dumpsys_behave_like_a_phone(adb: PrivateAdb, device: registry.DeviceState) -> None:
    cap = shell(adb, device, "cat /sys/class/power_supply/battery/capacity").stdout
    assert cap == b"79\n"
    assert shell(adb, device, "cat /sys/devices/system/cpu/cpu8/cpufreq/cpuinfo_max_freq").stdout == b"2914000\n"
    dump = shell(adb, device, "dumpsys battery").stdout.decode()
    assert "  level: 79\n" in dump and "  USB powered: true\n" in dump and "UPDATES STOPPED" not in dump
    changed = shell(adb, device, "dumpsys battery unplug; dumpsys battery set level 42; dumpsys battery").stdout.decode()
    assert "  (UPDATES STOPPED -- use 'reset' to restart)\n" in changed
    assert "  level: 42\n" in changed and "  USB powered: false\n" in changed
    restored = shell(adb, device, "dumpsys battery reset; dumpsys battery").stdout.decode()
    assert "  level: 79\n" in restored and "UPDATES STOPPED" not in restored
    thermal = shell(adb, device, "dumpsys thermalservice").stdout.decode()
    assert "\tTemperature{mValue=27.8, mType=2, mName=battery, mStatus=0}\n" in thermal
    unknown = shell(adb, device, "dumpsys no_such_service")
    assert b"Can't find service: no_such_service" in unknown.stderr


def test_adbutils_shell2_sync_and_getprop(adb: PrivateAdb, device: registry.DeviceState) -> None:
    import adbutils

    client = adbutils.AdbClient(host="127.0.0.1", port=adb.port)
    dev = client.device(device.config.adb_serial)
    result = dev.shell2("echo o; echo e >&2; exit 5", v2=True)
    assert (result.returncode, result.stdout, result.stderr) == (5, "o\n", "e\n")
    payload = os.urandom(300_000)
    dev.sync.push(payload, "/data/local/tmp/adbutils.bin")
    assert dev.sync.read_bytes("/data/local/tmp/adbutils.bin") == payload
    assert dev.sync.stat("/data/local/tmp/adbutils.bin").size == len(payload)
    assert dev.getprop("ro.product.model") == "Pixel 8"


@pytest.fixture(scope="module")
def arm_device(virtual_root: Path, sandbox_available: None) -> Iterator[registry.DeviceState]:
    from edgebench.virtual.sandbox import probe

    reason = probe("arm64-v8a")
    if reason is not None:
        pytest.skip(f"arm64-v8a virtual devices cannot run here: {reason}")
    state = start_device(virtual_root, profile="galaxy-s9-like", abi="arm64-v8a")
    yield state
    registry.stop_device(registry.load_state(state.layout))


def test_arm64_device_reports_and_runs_aarch64(private_adb: PrivateAdb, arm_device: registry.DeviceState,
                                               tmp_path: Path) -> None:
    serial = arm_device.config.adb_serial
    private_adb.check("connect", serial)
    prog = tmp_path / "arm_prog"
    prog.write_bytes(aarch64_exit_program(42))
    private_adb.check("-s", serial, "push", str(prog), "/data/local/tmp/arm_prog")
    run = private_adb.run("-s", serial, "shell", "chmod 755 /data/local/tmp/arm_prog && /data/local/tmp/arm_prog")
    assert (run.returncode, run.stdout) == (42, b"arm\n")
    info = private_adb.run("-s", serial, "shell", "uname -m; getprop ro.product.cpu.abi; getprop ro.product.model")
    assert info.stdout == b"aarch64\narm64-v8a\nSM-G960U\n"
    private_adb.run("disconnect", serial)


def test_interactive_pty_shell(adb: PrivateAdb, device: registry.DeviceState) -> None:
    result = adb.run("-s", device.config.adb_serial, "shell", "-tt", input=b"echo sum=$((40+2)); tty\nexit 4\n")
    assert result.returncode == 4
    out = result.stdout.decode()
    assert "sum=42" in out and "/dev/pts/" in out and "$ " in out  # a prompt, a real controlling PTY


@pytest.fixture(scope="module")
def reboot_device(virtual_root: Path, sandbox_available: None) -> Iterator[registry.DeviceState]:
    state = start_device(virtual_root)
    yield state
    registry.stop_device(registry.load_state(state.layout))


def test_reboot_stream_ends_with_the_link_not_before_it(reboot_device: registry.DeviceState) -> None:
    # adbd's reboot service never closes its stream: the link dies under it. A CLSE first would let
    # `adb reboot` return while the server still holds the old connection, and `adb wait-for-device`
    # then returns on it and the next command meets "device offline".
    with socket.create_connection(("127.0.0.1", reboot_device.config.port), timeout=10) as sock:
        sock.sendall(p.encode(p.Packet(p.A_CNXN, 0x01000001, 4096, b"host::\0")))
        replies = sock.makefile("rb")
        assert _read_packet(replies).command == p.A_CNXN
        sock.sendall(p.encode(p.Packet(p.A_OPEN, 7, 0, b"reboot:\0")))
        assert _read_packet(replies).command == p.A_OKAY
        with pytest.raises((EOFError, ConnectionError)):
            while True:  # nothing but the link going down may follow: no WRTE, no CLSE
                packet = _read_packet(replies)
                assert packet.command not in (p.A_CLSE, p.A_WRTE), packet


def _read_packet(replies: BinaryIO) -> p.Packet:
    header = replies.read(p.HEADER.size)
    if len(header) < p.HEADER.size:
        raise EOFError("the device closed the connection")
    command, arg0, arg1, length, _check, _magic = p.HEADER.unpack(header)
    return p.Packet(command, arg0, arg1, replies.read(length))


def test_reboot_forgets_runtime_state_and_keeps_data(private_adb: PrivateAdb, reboot_device: registry.DeviceState) -> None:
    serial = reboot_device.config.adb_serial
    private_adb.check("connect", serial)
    private_adb.check("-s", serial, "shell", "setprop debug.r 1; setprop persist.r 2; echo d > /data/local/tmp/d; "
                                             "dumpsys battery set level 5; sleep 1000 > /dev/null 2>&1 &")
    private_adb.check("-s", serial, "reboot")
    private_adb.check("-s", serial, "wait-for-device")
    after = private_adb.check("-s", serial, "shell", "getprop debug.r; getprop persist.r; cat /data/local/tmp/d; "
                                                     "dumpsys battery get level; ps -A | grep -c sleep || true")
    assert after.split("\n")[:5] == ["", "2", "d", "79", "0"]
    private_adb.run("disconnect", serial)
