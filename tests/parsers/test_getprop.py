from __future__ import annotations

import pytest

from edgebench.errors import ParseError
from edgebench.parsers import parse_getprop


def test_lg_v60_capture(real):
    result = parse_getprop(real("e_", "getprop_lg_v60_timelm_android11.txt"))
    assert result.manufacturer == "LGE"
    assert result.model == "LM-V600"
    assert result.device == "timelm"
    assert result.brand == "lge"
    assert result.android_release == "11"
    assert result.sdk_int == 30
    assert result.abi_list == ("arm64-v8a", "armeabi-v7a", "armeabi")
    # No ro.soc.model before Android 12: the board platform names the SoC family.
    assert result.soc_model == "kona"
    assert result.soc_model_source == "ro.board.platform"
    assert result.hardware == "timelm"
    assert result.build_fingerprint == (
        "lge/timelm/timelm:11/RKQ1.201105.002/2120114401c44:user/release-keys")
    assert result.serialno == "LMV600TM128a3837"
    assert result.is_emulator is False and result.is_virtual is False
    # 1160 lines, one value spans three of them.
    assert len(result.props) == 1158
    assert result["persist.sys.boot.reason.history"] == (
        "reboot,atd,1626759463\nreboot,factory_reset,1626759434\ncold,1626759378")
    assert result.get("gsm.operator.alpha") == ""
    assert result.get("no.such.prop") is None


def test_oneplus_nord_n10_capture(real):
    result = parse_getprop(real("e_", "getprop_oneplus_nord_n10_tmo_android11.txt"))
    assert (result.manufacturer, result.model, result.device) == ("OnePlus", "BE2028",
                                                                  "OnePlusN10TMO")
    assert result.sdk_int == 30 and result.android_release == "11"
    assert result.soc_model == "lito"
    assert result.hardware == "qcom"
    assert result.serialno == "90241ad3"
    assert result.build_fingerprint.startswith("OnePlus/OnePlusN10TMO/OnePlusN10TMO:11/")
    assert result["persist.sys.boot.reason.history"].splitlines() == [
        "reboot,ota,1691858645", "reboot,unattended,ota_update,1691858601",
        "reboot,ota,1691857091"]
    assert len(result) == 1120


def test_crlf_and_empty_values():
    text = "[ro.product.model]: [Pixel 8]\r\n[gsm.operator.alpha]: []\r\n[ro.build.version.sdk]: [34]\r\n"
    result = parse_getprop(text)
    assert result.model == "Pixel 8"
    assert result["gsm.operator.alpha"] == ""
    assert result.sdk_int == 34


def test_multiline_value_with_crlf():
    text = "[a.b]: [one\r\ntwo\r\nthree]\r\n[c]: [d]\r\n"
    assert parse_getprop(text)["a.b"] == "one\ntwo\nthree"


def test_partition_fallbacks_and_soc_model_preference():
    text = "\n".join([
        "[ro.product.vendor.manufacturer]: [Google]",
        "[ro.product.system.model]: [Pixel 8]",
        "[ro.product.manufacturer]: []",
        "[ro.soc.model]: [Tensor G3]",
        "[ro.soc.manufacturer]: [Google]",
        "[ro.board.platform]: [zuma]",
        "[ro.product.cpu.abi]: [arm64-v8a]",
    ])
    result = parse_getprop(text)
    assert result.manufacturer == "Google"  # empty ro.product.manufacturer counts as absent
    assert result.model == "Pixel 8"
    assert result.soc_model == "Tensor G3" and result.soc_model_source == "ro.soc.model"
    assert result.soc_manufacturer == "Google"
    assert result.abi_list == ("arm64-v8a",)
    assert result.sdk_int is None and result.serialno is None


def test_old_android_abi_pair_and_boot_serial():
    result = parse_getprop("[ro.product.cpu.abi]: [armeabi-v7a]\n[ro.product.cpu.abi2]: [armeabi]\n"
                           "[ro.boot.serialno]: [ABC123]\n")
    assert result.abi_list == ("armeabi-v7a", "armeabi")
    assert result.serialno == "ABC123"


@pytest.mark.parametrize("prop", ["ro.kernel.qemu", "ro.boot.qemu"])
def test_emulator_flags(prop):
    assert parse_getprop(f"[{prop}]: [1]\n").is_emulator is True
    assert parse_getprop(f"[{prop}]: [0]\n").is_emulator is False


def test_virtual_device_flag():
    assert parse_getprop("[ro.edgebench.virtual]: [1]\n").is_virtual is True
    assert parse_getprop("[ro.hardware]: [qcom]\n").abi_list is None


@pytest.mark.parametrize("text, fragment", [
    ("", "no `[key]: [value]` entries"),
    ("   \n\n", "no `[key]: [value]` entries"),
    ("$ adb shell getprop\n[a]: [b]\n", "expected a getprop entry"),
    ("[a]: [b]\ngarbage\n", "expected a getprop entry"),
    ("[a]: [never closed\n[b]: [c]\n", "never closed"),
    ("[a]: [never closed\n", "never closed"),
    ("[a]: [1]\n[a]: [2]\n", "appears twice"),
    ("[ro.build.version.sdk]: [thirty]\n", "decimal integer"),
    ("[]: [x]\n", "expected a getprop entry"),
])
def test_malformed_input_raises_parse_error(text, fragment):
    with pytest.raises(ParseError, match=None) as info:
        parse_getprop(text)
    assert fragment in str(info.value)
