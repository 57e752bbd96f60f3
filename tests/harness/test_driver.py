"""driver.sh under dash, mksh with toybox first on PATH (as on Android), and bash, against a fake
sysfs/procfs tree: state files, sampler output, manifest and exit codes (PROTOCOL.md)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from edgebench.harness.samples import read_samples, telemetry_from
from edgebench.harness.state import read_state

from .conftest import DRIVER, REAL_MODELS

ADD = REAL_MODELS / "tflm_simple_add_model.tflite"
STATUSES = {"meta", "ok", "err", "missing"}


def make_sysroot(root: Path) -> Path:
    """A phone-like tree: a battery and a USB supply, two thermal zones (one unreadable), a
    cooling device, four CPUs of which cpu1 has no cpufreq folder."""
    def put(rel: str, text: str) -> None:
        path = root / rel.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    bat = "/sys/class/power_supply/battery"
    for name, value in {"type": "Battery", "status": "Discharging", "capacity": "87", "voltage_now": "3950000",
                        "current_now": "-251000", "temp": "281", "health": "Good"}.items():
        put(f"{bat}/{name}", value + "\n")
    put("/sys/class/power_supply/usb/type", "USB\n")
    put("/sys/class/power_supply/usb/online", "0\n")
    put("/sys/class/thermal/thermal_zone0/type", "cpu-thermal\n")
    put("/sys/class/thermal/thermal_zone0/temp", "41000\n")
    put("/sys/class/thermal/thermal_zone1/type", "battery\n")
    (root / "sys/class/thermal/thermal_zone1/temp").mkdir(parents=True)  # exists, cannot be read
    put("/sys/class/thermal/cooling_device0/type", "thermal-cpufreq-0\n")
    put("/sys/class/thermal/cooling_device0/cur_state", "0\n")
    put("/sys/class/thermal/cooling_device0/max_state", "7\n")
    for cpu in range(4):
        put(f"/sys/devices/system/cpu/cpu{cpu}/online", "1\n")
        if cpu != 1:
            put(f"/sys/devices/system/cpu/cpu{cpu}/cpufreq/scaling_cur_freq", f"{1800000 + cpu}\n")
            put(f"/sys/devices/system/cpu/cpu{cpu}/cpufreq/scaling_governor", "schedutil\n")
            put(f"/sys/devices/system/cpu/cpu{cpu}/cpufreq/cpuinfo_max_freq", "2400000")  # no newline
    # Only cpu2 has a ceiling node: the sampler lists what exists.
    put("/sys/devices/system/cpu/cpu2/cpufreq/scaling_max_freq", "2000000\n")
    put("/proc/uptime", "12345.67 20000.00\n")
    put("/proc/loadavg", "0.50 0.40 0.30 1/123 4567\n")
    return root


@pytest.fixture(scope="module")
def toybox_path(tmp_path_factory) -> Path:
    """A PATH folder where every toybox applet comes first, like /system/bin on Android."""
    toybox = shutil.which("toybox")
    if toybox is None:
        pytest.skip("toybox is not installed (Debian package 'toybox', listed in .ci/apt-packages.txt)")
    folder = tmp_path_factory.mktemp("toybox-bin")
    applets = subprocess.run([toybox], capture_output=True, text=True).stdout.split()
    for applet in applets:
        (folder / applet).symlink_to(toybox)
    return folder


SHELLS = ["dash", "mksh+toybox", "bash"]


def shell_command(shell: str, toybox_path: Path) -> tuple[list[str], dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDGEBENCH_")}
    name = shell.split("+")[0]
    exe = shutil.which(name)
    if exe is None:
        pytest.skip(f"{name} is not installed (listed in .ci/apt-packages.txt)")
    if shell.endswith("+toybox"):
        env["PATH"] = f"{toybox_path}:{env.get('PATH', '/usr/bin:/bin')}"
    return [exe], env


@pytest.fixture(params=SHELLS)
def run_driver(request, host_build, litert_lib, toybox_path, tmp_path):
    shell = request.param

    def run(runner_args: list[str], *, mask: str | None = None, sample_ms: int = 20,
            during=None) -> tuple[int, Path, str]:
        cmd, env = shell_command(shell, toybox_path)
        sysroot = make_sysroot(tmp_path / "sysroot")
        env.update(EDGEBENCH_SYSROOT=str(sysroot), EDGEBENCH_SAMPLE_MS=str(sample_ms),
                   EDGEBENCH_BIN_DIR=str(host_build.runner_path.parent))
        if mask is not None:
            env["EDGEBENCH_CPU_MASK"] = mask
        run_dir = tmp_path / "run"
        proc = subprocess.Popen([*cmd, str(DRIVER), str(run_dir), "--", *runner_args], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if during is not None:
            threading.Timer(0.15, during, args=(sysroot,)).start()
        _, err = proc.communicate(timeout=180)
        return proc.returncode, run_dir / "out", err

    run.shell = shell
    run.lib = litert_lib
    return run


def state_records(path: Path) -> list[tuple[str, str, str]]:
    records = []
    for line in path.read_text().splitlines():
        status, node, value = line.split("\t", 2)
        assert status in STATUSES, line
        records.append((status, node, value))
    return records


def test_full_run_writes_state_samples_and_manifest(run_driver):
    def discharge(sysroot: Path) -> None:
        (sysroot / "sys/class/power_supply/battery/capacity").write_text("86\n")

    code, out, err = run_driver(["--model", str(ADD), "--lib", str(run_driver.lib), "--runs", "5",
                                 "--min-seconds", "0.5"], mask="0x5", during=discharge)
    assert code == 0, err
    # -- state files
    before, after = state_records(out / "state_before.txt"), state_records(out / "state_after.txt")
    meta = {node: value for status, node, value in before if status == "meta"}
    assert meta["format"] == "1" and meta["phase"] == "before" and meta["cpu_mask"] == "0x5"
    assert meta["cpus_selected"] == "0 2"
    nodes = {node: (status, value) for status, node, value in before if status != "meta"}
    assert nodes["/proc/uptime"] == ("ok", "12345.67 20000.00")
    assert nodes["/sys/class/power_supply/battery/capacity"] == ("ok", "87")
    assert nodes["/sys/class/power_supply/battery/current_now"] == ("ok", "-251000")
    assert nodes["/sys/class/power_supply/usb/online"] == ("ok", "0")
    assert nodes["/sys/class/thermal/thermal_zone0/temp"] == ("ok", "41000")
    assert nodes["/sys/class/thermal/thermal_zone1/temp"] == ("err", "")
    assert nodes["/sys/class/thermal/cooling_device0/max_state"] == ("ok", "7")
    assert nodes["/sys/devices/system/cpu/cpu2/cpufreq/scaling_cur_freq"] == ("ok", "1800002")
    assert nodes["/sys/devices/system/cpu/cpu2/cpufreq/cpuinfo_max_freq"] == ("ok", "2400000")
    assert not any("/cpu1/" in n or "/cpu3/" in n for n in nodes)  # not in the mask
    assert {n: v for s, n, v in after if s == "meta"}["phase"] == "after"
    assert ("ok", "/sys/class/power_supply/battery/capacity", "86") in after
    # -- sampler
    sampled = (out / "sampled_nodes.txt").read_text().split()
    assert sampled == ["/sys/class/power_supply/battery/status", "/sys/class/power_supply/battery/capacity",
                       "/sys/class/power_supply/battery/voltage_now", "/sys/class/power_supply/battery/current_now",
                       "/sys/class/power_supply/battery/temp", "/sys/class/power_supply/usb/online",
                       "/sys/class/thermal/thermal_zone0/temp", "/sys/class/thermal/thermal_zone1/temp",
                       "/sys/class/thermal/cooling_device0/cur_state",
                       "/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq",
                       "/sys/devices/system/cpu/cpu2/cpufreq/scaling_cur_freq",
                       "/sys/devices/system/cpu/cpu2/cpufreq/scaling_max_freq"]
    lines = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert lines[0]["files"] == sampled and lines[0]["root"].endswith("sysroot")
    assert lines[-1]["type"] == "sampler_note" and lines[-1]["event"] == "end"
    capacity = [s["values"][1] for s in lines if s["type"] == "sample"]
    assert capacity[0] == "87" and capacity[-1] == "86" and len(capacity) >= 10
    assert all(s["values"][7] is None for s in lines if s["type"] == "sample")  # unreadable zone
    telemetry = telemetry_from(read_samples(out / "samples.jsonl"), read_state(out / "state_before.txt"))
    assert telemetry.has_battery and telemetry.battery_level_pct == 86.0
    cores = {c.cpu: c for c in telemetry.cores}
    assert sorted(cores) == [0, 2] and cores[2].hardware_max_khz == 2400000 and cores[2].governor == "schedutil"
    assert {s.ceiling_khz for s in cores[2].samples} == {2000000} and {s.cur_khz for s in cores[2].samples} == {1800002}
    assert {s.ceiling_khz for s in cores[0].samples} == {None}
    # -- runner, pinned by taskset
    runner = [json.loads(line) for line in (out / "runner.jsonl").read_text().splitlines()]
    assert runner[0]["cpu_affinity"] == [0] and runner[-1]["status"] == "ok"  # mask 0x5 on this host
    run_starts = [r["start_ns"] for r in runner if r["type"] == "run"]
    assert lines[0]["start_ns"] < run_starts[0] and run_starts[-1] < lines[-1]["t_ns"]
    # -- manifest
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runner_exit_code"] == 0 and manifest["sampler_exit_code"] == 0
    assert manifest["taskset_used"] is True and manifest["cpu_mask"] == "0x5"
    assert manifest["start_uptime_s"] == 12345.67 and manifest["driver_error"] is None
    assert manifest["shell"] == {"dash": "sh", "mksh+toybox": "ksh", "bash": "bash"}[run_driver.shell]
    assert manifest["sysroot"].endswith("sysroot") and manifest["sample_ms"] == 20
    assert all(f["exists"] for f in manifest["files"].values())
    assert manifest["files"]["runner.jsonl"]["nonempty"] and not manifest["files"]["runner.stdout"]["nonempty"]


def test_runner_failure_is_the_driver_exit_code(run_driver, tmp_path):
    code, out, _ = run_driver(["--model", str(tmp_path / "missing.tflite"), "--lib", str(run_driver.lib)])
    assert code == 4
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runner_exit_code"] == 4 and manifest["taskset_used"] is False
    runner = [json.loads(line) for line in (out / "runner.jsonl").read_text().splitlines()]
    assert runner[-2]["code"] == "model_missing" and runner[-1]["exit_code"] == 4
    meta = {n: v for s, n, v in state_records(out / "state_before.txt") if s == "meta"}
    assert meta["cpus_selected"] == "0 1 2 3"  # no mask: every CPU
    missing = [r for r in state_records(out / "state_before.txt") if r[0] == "missing"]
    assert missing == [("missing", "/sys/devices/system/cpu/cpu1/cpufreq/scaling_cur_freq", "")]


@pytest.mark.parametrize("args, env_mask, needle", [
    (["--model", "m", "--out", "x"], None, "do not pass --out"),
    (["--model", "m"], "zz", "hex mask"),
    (["--model", "m"], "0", "selects no CPU"),
])
def test_driver_usage_errors_exit_2(run_driver, args, env_mask, needle):
    code, out, err = run_driver(args, mask=env_mask)
    assert code == 2 and needle in err
    assert not (out / "runner.jsonl").exists()


def test_driver_needs_a_separator(host_build, tmp_path):
    proc = subprocess.run(["dash", str(DRIVER), str(tmp_path), "--model", "x"], capture_output=True, text=True)
    assert proc.returncode == 2 and "expected --" in proc.stderr


def test_no_per_sample_subshells_in_the_driver():
    # Per-node reads must be shell builtins: $(cat ...) costs milliseconds of CPU on a phone.
    text = DRIVER.read_text()
    assert "$(cat" not in text and "`cat" not in text


def test_sampler_is_stopped_even_for_instant_failures(run_driver):
    start = time.monotonic()
    code, out, _ = run_driver(["--bogus-flag"], sample_ms=1000)
    assert code == 2 and time.monotonic() - start < 10
    lines = (out / "samples.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["event"] == "end"
