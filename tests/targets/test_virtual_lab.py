"""Issue 3's promise with no phone: two virtual devices behind the real adb server, end to end."""
from __future__ import annotations

import json
import re
import sqlite3

from ..conftest import REAL_MODELS

MODELS = [REAL_MODELS / "tflm_simple_add_model.tflite", REAL_MODELS / "tflm_hello_world_float.tflite"]


def test_real_adb_client_reads_the_profile(lab):
    for serial in lab.serials:
        assert lab.adb.check("-s", serial, "shell", "getprop", "ro.product.model").strip() == "Pixel 8"
    assert len(lab.serials) == 2


def test_devices_lists_both_as_virtual(lab, capsys):
    assert lab.cli("devices", "--json") == 0
    reports = {r["serial"]: r for r in json.loads(capsys.readouterr().out)}
    for serial in lab.serials:
        r = reports[serial]
        assert r["state"] == "device" and r["device_kind"] == "virtual"
        assert r["model"] == "Pixel 8" and r["abi_list"][0] == "x86_64"
        assert r["android_release"] and r["sdk_int"]
        assert r["cpu_masks"]["little"] and r["cpu_masks"]["prime"]
        assert r["battery_level_pct"] is not None and r["run_folder_free_bytes"] > 0


def test_doctor_passes_on_both(lab, capsys):
    assert lab.cli("doctor", *lab.serials) == 0
    out = capsys.readouterr().out
    assert out.count("[ok] run_folder") == 2 and "FAIL" not in out


def test_push_and_run_all_stores_virtual_records(lab, capsys):
    code = lab.cli("push-and-run", *map(str, MODELS), "--target", "all", "--protocol", "smoke", "--json")
    records = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {r["target"] for r in records} == set(lab.serials)
    assert len(records) == 4
    for r in records:
        assert r["status"] == "ok", r
        assert r["device_kind"] == "virtual" and r["simulated"] is True
        assert r["latency_source"] == "measured" and r["latency_us"]["count"] >= 50
    # Device identity comes from ro.serialno + fingerprint, never the adb serial (which is host:port).
    assert len({r["device_id"] for r in records}) == 2
    assert all(not r["device_id"].endswith(r["target"]) for r in records)
    with sqlite3.connect(lab.workspace / "results.sqlite") as con:
        kinds = {row[0] for row in con.execute("select device_kind from runs")}
        assert kinds == {"virtual"}
    # Each run's log window (logcat since the driver started) is captured from the device's logcat.
    windows = sorted(lab.workspace.rglob("logcat.txt"))
    assert len(windows) >= 4, windows
    for window in windows:
        text = window.read_text()
        assert re.search(r"^\d\d-\d\d [\d:.]+ +\d+ +\d+ I edgebench-driver: workload start", text, re.M), text
        assert "I edgebench-driver: workload end: exit 0" in text


def test_second_push_skips_unchanged_files(lab, capsys):
    from edgebench.devices.adb import AdbServer
    from edgebench.targets.adb import MANIFEST, AdbTarget

    target = AdbTarget(AdbServer().device(lab.serials[0]))
    manifest_before = target.device.check_shell(["cat", MANIFEST])
    stat_before = target.device.check_shell(["ls", "-l", "--full-time", "/data/local/tmp/edgebench/lib/libLiteRt.so"])
    assert lab.cli("push-and-run", str(MODELS[0]), "--target", lab.serials[0], "--protocol", "smoke",
                   "--runs", "10") == 0
    capsys.readouterr()
    assert target.device.check_shell(["cat", MANIFEST]) == manifest_before
    assert target.device.check_shell(["ls", "-l", "--full-time",
                                      "/data/local/tmp/edgebench/lib/libLiteRt.so"]) == stat_before


def test_run_folders_are_removed_unless_kept(lab, capsys):
    from edgebench.devices.adb import AdbServer

    device = AdbServer().device(lab.serials[1])
    assert lab.cli("push-and-run", str(MODELS[0]), "--target", lab.serials[1], "--protocol", "smoke",
                   "--runs", "10") == 0
    capsys.readouterr()
    # A string command, so the device shell expands the glob.
    leftover = device.shell("ls -d /data/local/tmp/edgebench/runs/*/* 2>/dev/null").stdout.strip()
    assert leftover == ""
    assert lab.cli("push-and-run", str(MODELS[0]), "--target", lab.serials[1], "--protocol", "smoke",
                   "--runs", "10", "--keep", "--json") == 0
    (record,) = json.loads(capsys.readouterr().out)
    kept = device.check_shell(["ls", f"/data/local/tmp/edgebench/runs/{record['session']}/{record['run_id']}/out"])
    assert "runner.jsonl" in kept


def test_unknown_serial_is_a_clear_error(lab, capsys):
    assert lab.cli("push-and-run", str(MODELS[0]), "--target", "nosuchphone") != 0
    err = capsys.readouterr().err
    assert "<nosuchphone>" in err and "no such device" in err


def test_hostile_model_names_run_as_models_only_on_a_device(lab, tmp_path, capsys):
    from edgebench.devices.adb import AdbServer

    from ..bench.test_hostile_names import HOSTILE, hostile_copies, pwned_files

    models = hostile_copies(tmp_path / "models")
    serial = lab.serials[0]
    code = lab.cli("push-and-run", *map(str, models), "--target", serial, "--protocol", "smoke", "--runs", "10",
                   "--keep", "--json")
    records = json.loads(capsys.readouterr().out)
    assert code == 0 and sorted(r["model"] for r in records) == sorted(HOSTILE)
    assert all(r["status"] == "ok" for r in records)
    device = AdbServer().device(serial)
    assert device.shell("find / -name 'pwned*' 2>/dev/null").stdout.strip() == ""
    assert pwned_files(tmp_path, lab.workspace) == []
