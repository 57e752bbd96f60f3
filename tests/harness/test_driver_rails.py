"""driver.sh samples every ODPM meter's energy_value (two iio devices, as on Pixel 6+) under dash,
mksh+toybox and bash; the sampler keeps each file's whole multi-line text, null where unreadable."""
from __future__ import annotations

import json
import subprocess

import pytest

from edgebench.harness.samples import read_samples
from edgebench.parsers import parse_odpm_energy_value

from .conftest import DRIVER
from .test_driver import ADD, SHELLS, make_sysroot, shell_command, toybox_path  # noqa: F401 (fixture)

IIO0 = "t=358356\nCH0(T=358356)[S10M_VDD_TPU], 3598924\nCH1(T=358356)[S4M_VDD_CPUCL0], 91234567\n"
IIO1 = "t=358360\nCH0(T=358360)[S2S_VDD_G3D], 50000\n"


@pytest.mark.parametrize("shell", SHELLS)
def test_every_iio_energy_value_is_sampled_whole(shell, toybox_path, host_build, litert_lib, tmp_path):  # noqa: F811
    sysroot = make_sysroot(tmp_path / "sysroot")
    for name, text in (("iio:device0", IIO0), ("iio:device1", IIO1)):
        folder = sysroot / "sys/bus/iio/devices" / name
        folder.mkdir(parents=True)
        (folder / "energy_value").write_text(text)
        (folder / "name").write_text("s2mpg10-odpm\n")
    (sysroot / "sys/bus/iio/devices/iio:device2").mkdir()  # an iio device that is no power meter
    (sysroot / "sys/bus/iio/devices/iio:device3/energy_value").mkdir(parents=True)  # exists, unreadable
    cmd, env = shell_command(shell, toybox_path)
    env.update(EDGEBENCH_SYSROOT=str(sysroot), EDGEBENCH_SAMPLE_MS="20",
               EDGEBENCH_BIN_DIR=str(host_build.runner_path.parent))
    run_dir = tmp_path / "run"
    proc = subprocess.run([*cmd, str(DRIVER), str(run_dir), "--", "--model", str(ADD), "--lib", str(litert_lib),
                           "--runs", "5", "--min-seconds", "0.2"], env=env, capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stderr
    out = run_dir / "out"
    sampled = (out / "sampled_nodes.txt").read_text().split()
    meters = [f"/sys/bus/iio/devices/iio:device{n}/energy_value" for n in (0, 1, 3)]
    assert sampled[-3:] == meters
    samples = read_samples(out / "samples.jsonl")
    by_channel = {m: [s.value_text for s in samples if s.channel == m] for m in meters}
    assert by_channel[meters[0]] and all(v == IIO0.strip() for v in by_channel[meters[0]])
    assert parse_odpm_energy_value(by_channel[meters[1]][0]).rails[0].name == "S2S_VDD_G3D"
    assert all(v is None for v in by_channel[meters[2]])
    assert json.loads((out / "manifest.json").read_text())["driver_version"] == "1.3.2"
