"""driver.sh with a policy table (EDGEBENCH_POLICY, driver 1.3.0) under dash, mksh+toybox and bash: before
each segment it reads the battery level, charging and thermal status as an app would (sysfs, else
`dumpsys battery`; `dumpsys thermalservice`), runs the row's model and records the choice in policy.txt.

`dumpsys` cannot exist on this host: a stand-in script prints what a phone's prints (CRLF, indented
lines, as some vendors' builds do) for the state of the segment under way (the count of lines the driver
has written to policy.txt picks the state)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import DRIVER, QUICK, REAL_MODELS
from .test_driver import SHELLS, make_sysroot, shell_command, toybox_path  # noqa: F401 - toybox_path: a fixture

ADD = REAL_MODELS / "tflm_simple_add_model.tflite"
HELLO = REAL_MODELS / "tflm_hello_world_float.tflite"
# Bands 0-30 and 30-101 %, discharging or charging, thermal 0..6: ADD unless battery < 30 % or thermal >= 2.
TABLE_ROWS = [(low, high, charging, thermal) for low, high in ((0, 30), (30, 101)) for charging in (0, 1)
              for thermal in range(7)]


def _table(path: Path, models: dict[str, Path], charging_rows: tuple[int, ...]) -> Path:
    lines = ["# min_pct max_pct charging thermal_status model (edgebench policy run)"]
    for low, high, charging, thermal in TABLE_ROWS:
        if charging not in charging_rows:
            continue
        model = models["slow"] if low == 30 and thermal < 2 else models["fast"]
        lines.append(f"{low} {high} {charging} {thermal} {model}")
    path.write_text("\n".join(lines) + "\n")
    return path


FAKE_DUMPSYS = """#!/bin/sh
# The state of the segment under way: line (segments recorded so far + 1) of $FAKE_STATES.
k=$(cat "$FAKE_OUT/policy.txt" 2>/dev/null | wc -l)
set -- "$1" $(sed -n "$((k + 1))p" "$FAKE_STATES")
case $1 in
  battery) printf 'Current Battery Service state:\\r\\n  AC powered: false\\r\\n  status: %s\\r\\n  level: %s\\r\\n  scale: 100\\r\\n' "$3" "$2" ;;
  thermalservice) printf 'IsStatusOverride: false\\r\\nThermal Status: %s\\r\\n' "$4" ;;
esac
"""


def _run(shell: str, toybox: Path, tmp_path: Path, *, segments: int, states: list[str] | None,
         extra_args: tuple[str, ...] = (), host_build=None, lib: Path | None = None,
         drop_capacity: bool = False, charging_rows: tuple[int, ...] = (0, 1)) -> tuple[int, Path, str]:
    cmd, env = shell_command(shell, toybox)
    sysroot = make_sysroot(tmp_path / "sysroot")
    if drop_capacity:  # a phone whose shell user may not read the gauge's nodes: dumpsys battery it is
        (sysroot / "sys/class/power_supply/battery/capacity").unlink()
        (sysroot / "sys/class/power_supply/battery/status").unlink()
    run_dir = tmp_path / "run"
    if states is not None:
        fake = tmp_path / "fake-bin"
        fake.mkdir()
        (fake / "dumpsys").write_text(FAKE_DUMPSYS)
        (fake / "dumpsys").chmod(0o755)
        (tmp_path / "states.txt").write_text("\n".join(states) + "\n")
        env.update(PATH=f"{env['PATH']}:{fake}", FAKE_STATES=str(tmp_path / "states.txt"),
                   FAKE_OUT=str(run_dir / "out"))
    table = _table(tmp_path / "policy_table.txt", {"slow": ADD, "fast": HELLO}, charging_rows)
    env.update(EDGEBENCH_SYSROOT=str(sysroot), EDGEBENCH_SAMPLE_MS="20",
               EDGEBENCH_BIN_DIR=str(host_build.runner_path.parent), EDGEBENCH_POLICY=str(table),
               EDGEBENCH_POLICY_SEGMENTS=str(segments))
    proc = subprocess.run([*cmd, str(DRIVER), str(run_dir), "--", "--lib", str(lib), *QUICK, *extra_args],
                          env=env, capture_output=True, text=True, timeout=180)
    return proc.returncode, run_dir / "out", proc.stderr


def _choices(out: Path) -> list[list[str]]:
    return [line.split("\t") for line in (out / "policy.txt").read_text().splitlines()]


@pytest.mark.parametrize("shell", SHELLS)
def test_each_segment_runs_the_model_of_the_state_read_before_it(shell, toybox_path, host_build,  # noqa: F811
                                                                  litert_lib, tmp_path):
    # dumpsys battery: status 3 = discharging, 2 = charging (BatteryManager numbers); thermal status last.
    states = ["80 3 0", "80 3 2", "25 2 0", "31 3 1"]
    code, out, err = _run(shell, toybox_path, tmp_path, segments=4, states=states, host_build=host_build,
                          lib=litert_lib, drop_capacity=True)
    assert code == 0, err
    rows = _choices(out)
    assert [r[0] for r in rows] == ["0", "1", "2", "3"]
    assert [(r[2], r[3], r[4]) for r in rows] == [("80", "0", "0"), ("80", "0", "2"), ("25", "1", "0"),
                                                  ("31", "0", "1")]
    assert {r[5] for r in rows} == {"dumpsys"} and {r[6] for r in rows} == {"dumpsys"}
    assert [Path(r[7]).name for r in rows] == [ADD.name, HELLO.name, HELLO.name, ADD.name]
    for index, row in enumerate(rows):  # the runner really ran the chosen file
        lines = [json.loads(x) for x in (out / f"runner.{index}.jsonl").read_text().splitlines()]
        setup = next(x for x in lines if x["type"] == "setup")
        assert Path(setup["model_path"]).name == Path(row[7]).name
        assert lines[-1] == {**lines[-1], "type": "end", "status": "ok"}
    phases = dict(line.split() for line in (out / "phases.txt").read_text().splitlines())
    assert float(phases["segment_0_start"]) <= float(phases["segment_0_end"]) <= float(phases["segment_3_start"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["driver_version"] == "1.3.2" and manifest["policy_segments_run"] == 4
    # The state files take the status from the same dumpsys output (its line after a vendor line, CRLF).
    meta = dict(line.split("\t")[1:] for line in (out / "state_before.txt").read_text().splitlines()
                if line.startswith("meta\t"))
    assert meta["thermal_status"].strip() == "0"
    assert manifest["files"]["runner.3.jsonl"]["nonempty"] and manifest["files"]["policy.txt"]["nonempty"]
    assert "runner.jsonl" not in manifest["files"]


def test_sysfs_battery_and_no_thermal_service_read_as_status_0_and_say_so(toybox_path, host_build,  # noqa: F811
                                                                          litert_lib, tmp_path):
    code, out, err = _run("mksh+toybox", toybox_path, tmp_path, segments=1, states=None, host_build=host_build,
                          lib=litert_lib)
    assert code == 0, err
    ((segment, _t, level, charging, thermal, battery_source, thermal_source, model),) = _choices(out)
    assert (level, charging, thermal, battery_source, thermal_source) == ("87", "0", "0", "sysfs", "none")
    assert Path(model).name == ADD.name


def test_a_state_without_a_row_stops_with_the_state_named(toybox_path, host_build, litert_lib,  # noqa: F811
                                                          tmp_path):
    # Thermal status 7 is no Android status: not read (source none, status 0). A charging state has no
    # row in a table of discharging rows: the driver stops before running anything, and says which state.
    code, out, err = _run("dash", toybox_path, tmp_path, segments=2, states=["80 3 7", "80 2 0", "80 2 0"],
                          host_build=host_build, lib=litert_lib, drop_capacity=True, charging_rows=(0,))
    assert code == 2 and "has no row for battery 80 %, charging 1, thermal status 0" in err, err
    ((_s, _t, level, charging, thermal, _b, thermal_source, _m),) = _choices(out)
    assert (level, charging, thermal, thermal_source) == ("80", "0", "0", "none")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["policy_segments_run"] == 1 and "has no row" in manifest["driver_error"]


def test_the_table_and_the_runner_args_are_checked_before_anything_runs(toybox_path, host_build, litert_lib,  # noqa: F811
                                                                        tmp_path):
    code, out, err = _run("dash", toybox_path, tmp_path, segments=1, states=None, host_build=host_build,
                          lib=litert_lib, extra_args=("--model", str(ADD)))
    assert code == 2 and "do not pass --model with EDGEBENCH_POLICY" in err
    bad = tmp_path / "bad"
    bad.mkdir()
    cmd, env = shell_command("dash", toybox_path)
    (bad / "t.txt").write_text("0 fifty 0 0 /nonexistent.tflite\n")
    env.update(EDGEBENCH_POLICY=str(bad / "t.txt"), EDGEBENCH_BIN_DIR=str(host_build.runner_path.parent))
    proc = subprocess.run([*cmd, str(DRIVER), str(bad / "run"), "--", "--lib", str(litert_lib)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "line 1: expected 'MIN_PCT MAX_PCT CHARGING THERMAL MODEL'" in proc.stderr
