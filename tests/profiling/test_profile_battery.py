"""profile-battery on a virtual phone whose gauge is in mA with the inverted sign: the estimate must
find its own units and land within 10% of the energy truth the device logs on the host."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time

import pytest

from ..conftest import REAL_MODELS

MOBILENET = REAL_MODELS / "tfls_mobilenet_v1_0.25_224_float.tflite"
# Seconds, not the preset's minutes. A 12 s window and 6 s idle hold ~120 and 2 x 60 gauge samples at
# 10 Hz (2 x 30 of them baseline, after the settling seconds): measured with them, the gauge's energy was
# +0.9 % off the (marginal) truth here and +3.9 % (rails +0.1 %) on the pixel, against the 10 % and 15 %
# allowed (-4.9 % and -0.7 %, rails -2.8 %, against the earlier attributed truth; the SoC model's gauge
# lag, tail and ramps are what the method meets). 20 s and 8 s took
# 20 s more per run for nothing the assertions need. In the fault tests the fault starts >= 6 s after the window mark (2 s warm-up, then
# 4 s measured) and holds to the window's end: >= 6 s, 3x the stale-gauge limit (10 x 175.8 ms); the 6 s
# idle after it leaves the fault CLI time to clear the throttle before the run's closing thermal read.
SHORT = ["--duration", "12", "--idle", "6", "--warmup", "2", "--cooldown", "none", "--verify-seconds", "2",
         "--calibrate-seconds", "75"]
# Re-checking a stored calibration needs charge-counter steps (0.5 mAh each) spread over the run: the
# stale-calibration test keeps the longer run (38 s) whose counter could judge it.
RECHECK = ["--duration", "20", "--idle", "8", *SHORT[4:]]

pytestmark = pytest.mark.slow


def _device_state(phone) -> dict[str, str]:
    return {"suspended": phone.shell("getprop power.battery_input.suspended").strip(),
            "airplane": phone.shell("settings get global airplane_mode_on").strip(),
            # Not `status`: with the charger restored it reads Charging, Full, or Discharging whenever the
            # device's load exceeds what USB supplies (gauge.py), so it follows the host's load, not the restore.
            "battery": "\n".join(l for l in phone.shell("dumpsys battery").splitlines()
                                 if l.strip().split(":")[0] in ("AC powered", "USB powered")),
            "wakefulness": phone.shell("dumpsys power | grep -m1 mWakefulness=").strip(),
            "doze": phone.shell("dumpsys deviceidle enabled deep; dumpsys deviceidle enabled light").split(),
            "marker": phone.shell("ls /data/local/tmp/edgebench/.restore.json 2>/dev/null; true").strip()}


def test_energy_per_inference_within_10_percent_of_truth_and_device_restored(phone, capsys):
    # The session puts the phone in airplane mode (a virtual device's HOST:PORT serial is no Wi-Fi adb
    # link): with the radio on, its own wake-ups (~0.56 W for 1.5 s every ~30 s, not the workload's)
    # would land in 6-12 s windows. It is off again afterwards (the device state is compared below).
    before = _device_state(phone)
    # --screen on: this test calibrates the gauge in 75 s, and with the screen off (the default) the
    # idle current is so low that the counter steps only every ~19 s. The other tests run screen off.
    code = phone.cli("profile-battery", str(MOBILENET), "--target", phone.serial, "--repeats", "2", *SHORT,
                     "--screen", "on", "--json")
    (result,) = json.loads(capsys.readouterr().out)
    assert code == 0 and result["valid"], result["check_reasons"]
    assert any(n.startswith("screen on: already on") for n in result["notes"])
    assert any(n.startswith("doze disabled: dumpsys deviceidle disable") for n in result["notes"])
    assert result["device_kind"] == "virtual" and result["energy_source"] == "simulated" and result["simulated"]
    assert len(result["run_ids"]) == 2 and result["inferences"] > 0
    energy = result["energy_per_inference_mj"]
    # Two repeats give a wide t-interval (t = 12.7): runs more than ~16 % apart (host load moves a virtual
    # phone's runs that much) reach zero, and then the headline is withheld, as it should be, with the mean kept.
    assert energy["ci_low"] <= energy["mean"] <= energy["ci_high"] and energy["ci_level"] == 0.95
    assert energy["resolved"] is (energy["ci_low"] > 0)
    assert energy["value"] == (energy["mean"] if energy["resolved"] else None)
    assert result["checks"]["shortened"] == "fail"  # recorded, run still valid
    # Re-checked on each run's own counter, not a hard-coded pass (a 28 s run may be too short: not_checked).
    assert result["checks"]["calibration"] in ("pass", "not_checked"), result["check_reasons"]
    assert result["checks"]["thermal"] == "pass" and result["checks"]["battery_level_start"] == "pass"
    assert result["checks"]["charger_online"] == "not_checked"  # input suspended: online says nothing
    assert phone.cli("virtual-device", "energy-truth", phone.serial, "--json") == 0
    truth = {t["run_id"]: t["energy_per_inference_mj"] for t in json.loads(capsys.readouterr().out)}
    true_mean = sum(truth[r] for r in result["run_ids"]) / 2
    print(f"\ngauge vs truth {(energy['mean'] - true_mean) / true_mean:+.1%} "
          f"(truth {true_mean:.4g} mJ, gauge {energy['mean']:.4g} mJ)")
    assert abs(energy["mean"] - true_mean) / true_mean < 0.10, (energy, true_mean)
    # The calibration found the gauge's units (mA) and sign (discharging positive) by itself.
    profiles = list((phone.workspace / "device-profiles").glob("*.json"))
    calibration = json.loads(profiles[0].read_text())["calibration"]
    assert calibration["scale_to_ua"] == 1000 and calibration["discharge_sign"] == 1
    assert list((phone.workspace / "sessions").rglob("trace.png"))
    assert list((phone.workspace / "sessions").rglob("energy_per_inference.png"))
    # No rails on this phone: said so, with the reason, and no number.
    rails = result["power_rails"]
    assert not rails["available"] and "powerstats" in rails["reason"] and rails["soc_energy_per_inference_mj"] is None
    assert _device_state(phone) == before


def _act(phone, action: str) -> None:
    """A device shell command, or `fault ...`: the virtual-device CLI in its own process (its output
    must not mix with the JSON the test reads)."""
    if action.startswith("fault "):
        subprocess.run([sys.executable, "-m", "edgebench.cli.main", *action.split()[1:]], env=phone.env(),
                       check=True, capture_output=True)
    else:
        phone.shell(action)


def _inject_during_measured_window(phone, run_index: int, inject: str, clear: str) -> threading.Thread:
    """Watch the window markers; once run `run_index` has run 6 s, inject; clear at its end."""
    def body() -> None:
        seen = 0
        last = ""
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            mark = phone.shell("getprop debug.edgebench.window").strip()
            if mark != last and mark.endswith(" start"):
                seen += 1
                if seen == run_index + 1:
                    time.sleep(6)
                    _act(phone, inject)
                    while not phone.shell("getprop debug.edgebench.window").strip().startswith(
                            mark.split()[0] + " end"):
                        time.sleep(0.5)
                    _act(phone, clear)
                    return
            last = mark
            time.sleep(0.3)
    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("inject, clear, checks", [
    ("setprop power.battery_input.suspended false", "setprop power.battery_input.suspended true",
     ("current_direction",)),
    # Throttling only inside the measured window: thermal status reads 0 at the run's start and end,
    # so `thermal` must see the cooling devices sampled in the window (it used to read only the ends).
    ("fault virtual-device fault SERIAL --throttle 2", "fault virtual-device fault SERIAL --throttle 0",
     ("cooling", "thermal")),
    ("fault virtual-device fault SERIAL --stale-gauge", "fault virtual-device fault SERIAL --live-gauge",
     ("stale_gauge",)),
])
def test_injected_faults_invalidate_the_run_with_a_reason(phone, capsys, inject, clear, checks):
    inject, clear = inject.replace("SERIAL", phone.serial), clear.replace("SERIAL", phone.serial)
    thread = _inject_during_measured_window(phone, 0, inject, clear)
    code = phone.cli("profile-battery", str(MOBILENET), "--target", phone.serial, "--repeats", "1", *SHORT, "--json")
    thread.join(timeout=60)
    (result,) = json.loads(capsys.readouterr().out)
    assert code == 1 and not result["valid"]
    for check in checks:
        assert result["checks"][check] == "fail", result["checks"]
        assert result["check_reasons"][check]
    if "thermal" in checks:
        assert "inside the measured window" in result["check_reasons"]["thermal"]


def test_a_stale_calibration_fails_the_run(phone, capsys):
    # The stored calibration says µA; this gauge prints mA (as after an OS update that changed the
    # driver). The calibration used to be recorded as a hard-coded pass.
    (profile,) = (phone.workspace / "device-profiles").glob("*.json")
    saved = profile.read_text()
    data = json.loads(saved)
    data["calibration"]["scale_to_ua"] = 1.0
    profile.write_text(json.dumps(data))
    try:
        code = phone.cli("profile-battery", str(MOBILENET), "--target", phone.serial, "--repeats", "1", *RECHECK,
                         "--screen", "on", "--json")
    finally:
        profile.write_text(saved)
    (result,) = json.loads(capsys.readouterr().out)
    assert code == 1 and not result["valid"]
    assert result["checks"]["calibration"] == "fail", result["check_reasons"].get("calibration")
    assert "stale calibration" in result["check_reasons"]["calibration"]


def test_a_crashed_host_leaves_a_marker_that_the_next_connect_undoes(phone, capsys):
    before = _device_state(phone)
    proc = subprocess.Popen([sys.executable, "-m", "edgebench.cli.main", "profile-battery", str(MOBILENET),
                             "--target", phone.serial, "--repeats", "1", *SHORT], env=phone.env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    # Charger suspended, Doze disabled, then the screen put to sleep: crash once all are set.
    while (phone.shell("getprop power.battery_input.suspended").strip() != "true"
           or "Asleep" not in phone.shell("dumpsys power | grep -m1 mWakefulness=")):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)  # no finally, no restore: like a host crash
    proc.wait()
    crashed = _device_state(phone)
    assert crashed["suspended"] == "true" and crashed["marker"]
    assert "Asleep" in crashed["wakefulness"] and crashed["doze"] == ["0", "0"]
    assert before["wakefulness"] == "mWakefulness=Awake" and before["doze"] == ["1", "1"]
    # The next edgebench that connects (here a push-and-run) finds the marker and undoes it.
    assert phone.cli("push-and-run", str(REAL_MODELS / "tflm_simple_add_model.tflite"), "--target", phone.serial,
                     "--protocol", "smoke", "--runs", "10") == 0
    capsys.readouterr()
    assert _device_state(phone) == before


def _fault(phone, *flags: str) -> None:
    _act(phone, " ".join(("fault virtual-device fault", phone.serial, *flags)))


def test_a_weak_charger_refuses_a_cable_cut_session_naming_usb_online(phone, capsys):
    before = _device_state(phone)
    _fault(phone, "--weak-charger", "50")  # USB online, the battery still discharging
    try:
        code = phone.cli("profile-battery", str(MOBILENET), "--target", phone.serial, "--repeats", "1", *SHORT,
                         "--power-path", "cable-cut", "--json")
    finally:
        _fault(phone, "--clear")
    err = capsys.readouterr().err
    assert code != 0 and "/sys/class/power_supply/usb/online = 1" in err and "weak charger" in err, err
    assert _device_state(phone) == before


def test_a_charger_coming_online_mid_run_invalidates_it(phone, capsys):
    # VBUS cut: auto takes the cut (this serial is HOST:PORT, so wifi-adb) and suspends nothing; then a
    # weak charger is plugged in during the measured window. It supplies part of the load while the
    # battery may still read Discharging: the sampled usb/online must invalidate the run.
    _fault(phone, "--usb-power", "off")
    thread = _inject_during_measured_window(phone, 0, f"fault virtual-device fault {phone.serial} --weak-charger 50",
                                            f"fault virtual-device fault {phone.serial} --usb-power off")
    try:
        code = phone.cli("profile-battery", str(MOBILENET), "--target", phone.serial, "--repeats", "1", *SHORT,
                         "--json")
        thread.join(timeout=60)
    finally:
        _fault(phone, "--clear")
    (result,) = json.loads(capsys.readouterr().out)
    assert code == 1 and not result["valid"]
    assert result["checks"]["charger_online"] == "fail", result["check_reasons"]
    assert "/sys/class/power_supply/usb/online read 1" in result["check_reasons"]["charger_online"]
