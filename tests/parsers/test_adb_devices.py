from __future__ import annotations

import pytest

from edgebench.errors import ParseError
from edgebench.parsers import parse_adb_devices


def test_huawei_macos_capture(real):
    result = parse_adb_devices(real("e_", "adb_devices_l_huawei_mate10_alp-al00_macos_usb_locationid.txt"))
    assert result.header_present is True
    (device,) = result.devices
    assert device.serial == "UYT5T18414003349"
    assert device.state == "device"
    assert device.usb == "1114112X"  # macOS location id, trailing X kept
    assert (device.product, device.model, device.device) == ("ALP-AL00", "ALP_AL00", "HWALP")
    assert device.transport_id == 23
    assert device.connection_kind == "usb"
    assert device.extras == {}


def test_xiaomi_linux_single_line_capture(real):
    result = parse_adb_devices(real("e_", "adb_devices_l_xiaomi_alioth_linux_usb_path_single_line.txt"))
    assert result.header_present is False
    (device,) = result.devices
    assert device.serial == "n311r05e"
    assert device.usb == "0-1.5"
    assert (device.product, device.model, device.device) == ("alioth", "M2012K11AC", "alioth")
    assert device.transport_id == 58


LAB = """\
* daemon not running; starting now at tcp:5037
* daemon started successfully
List of devices attached
emulator-5554          device product:sdk_gphone64_x86_64 model:sdk_gphone64_x86_64 device:emu64xa transport_id:1
127.0.0.1:40001        device product:edgebench_virtual model:Virtual device:virt transport_id:2
adb-R58M12ABCDE-AbCdEf._adb-tls-connect._tcp device product:a52qnsxx model:SM_A525F device:a52q transport_id:3
R58M90000AA            unauthorized usb:1-4 transport_id:4
0123456789ABCDEF       no permissions (missing udev rules? user is in the plugdev group); see [http://developer.android.com/tools/device.html] usb:1-1.2 transport_id:5
ZY22XXXXXX             offline usb:1-3 transport_id:6
HT7A1B000000           recovery usb:2-1 product:sailfish model:Pixel device:sailfish transport_id:7
HT7A1B000001           sideload usb:2-2 transport_id:8
HT7A1B000002           bootloader usb:2-3 transport_id:9
192.168.1.20:5555      host transport_id:10

"""


def test_lab_listing_every_state_and_serial_kind():
    result = parse_adb_devices(LAB)
    assert result.noise_lines == ("* daemon not running; starting now at tcp:5037",
                                  "* daemon started successfully")
    by_serial = {d.serial: d for d in result.devices}
    assert [d.state for d in result.devices] == [
        "device", "device", "device", "unauthorized", "no permissions", "offline", "recovery",
        "sideload", "bootloader", "host"]
    assert by_serial["emulator-5554"].connection_kind == "emulator"
    assert by_serial["127.0.0.1:40001"].connection_kind == "tcp"
    mdns = by_serial["adb-R58M12ABCDE-AbCdEf._adb-tls-connect._tcp"]
    assert mdns.connection_kind == "mdns" and mdns.model == "SM_A525F" and mdns.usb is None
    noperm = by_serial["0123456789ABCDEF"]
    assert noperm.state_detail == ("(missing udev rules? user is in the plugdev group); see "
                                   "[http://developer.android.com/tools/device.html]")
    assert noperm.usb == "1-1.2" and noperm.transport_id == 5
    assert by_serial["R58M90000AA"].state_detail is None
    assert by_serial["192.168.1.20:5555"].transport_id == 10


def test_short_listing_tab_separated_and_old_no_permissions():
    result = parse_adb_devices("List of devices attached\nemulator-5556\tdevice\n"
                               "????????????\tno permissions\n\n")
    assert [(d.serial, d.state) for d in result.devices] == [
        ("emulator-5556", "device"), ("????????????", "no permissions")]
    assert result.devices[1].state_detail is None
    assert result.devices[0].transport_id is None


def test_no_serial_number_and_unknown_attribute_kept():
    result = parse_adb_devices("(no serial number)     device usb:1-1 features:shell_v2 transport_id:2\n")
    device = result.devices[0]
    assert device.serial == "(no serial number)"
    assert device.extras == {"features": "shell_v2"}


def test_header_only_means_no_devices_and_crlf():
    result = parse_adb_devices("List of devices attached\r\n\r\n")
    assert result.devices == () and result.header_present


@pytest.mark.parametrize("text, fragment", [
    ("", "no 'List of devices attached'"),
    ("List of devices attached\nSERIAL1 flying usb:1-1\n", "unknown device state"),
    ("List of devices attached\nSERIAL1 device usb:1-1 garbage\n", "key:value"),
    ("List of devices attached\nSERIAL1\n", "single word"),
    ("* failed to start daemon\nerror: cannot connect to daemon\n", "adb reported an error"),
    ("List of devices attached\nA device\nA device\n", "listed twice"),
    ("List of devices attached\nA device transport_id:x\n", "transport_id"),
    ("List of devices attached\nList of devices attached\n", "second"),
])
def test_malformed_input_raises_parse_error(text, fragment):
    with pytest.raises(ParseError) as info:
        parse_adb_devices(text)
    assert fragment in str(info.value)
