"""Battery profiling costs: the on-device sampler's CPU time, and the energy estimate's error.

1. CPU time of edgebench_sampler at 10 Hz over 60 s, reading the battery, thermal, cpufreq and ODPM
   rail nodes a phone profile has (a virtual device's sysfs tree): target <= 1% of one core.
2. Energy-estimate error on virtual devices across 5 models and 2 gauge profiles (µA with the kernel
   sign and ODPM rails, and mA with the inverted sign), inferences at up to 1000 Hz:
   |estimate - truth| / truth per model, target <= 10% (and the same for the SoC rail figure).

Run:  .venv/bin/python benchmarks/sampler_overhead.py [--sampler-seconds 60] [--duration 30] [--skip-energy]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _lab import virtual_lab  # noqa: E402

from edgebench.cli.main import main as cli  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
REAL = REPO / "fixtures" / "real-device" / "g_tflite_models"
MODELS = [REAL / "tfls_mobilenet_v1_0.25_224_float.tflite", REAL / "tflm_simple_add_model.tflite",
          REAL / "tflm_hello_world_float.tflite", REPO / "fixtures" / "models" / "eb_lstm_unrolled.tflite",
          REPO / "fixtures" / "models" / "eb_uint8_image_mean.tflite"]
PROFILES = ["pixel-8-like", "huawei-mate-20-like"]


def sampler_cpu(seconds: float) -> None:
    from edgebench.harness.build import build_harness
    from edgebench.workspace import Workspace

    build = build_harness("host", out_root=Workspace.resolve(tempfile.mkdtemp()).harness_builds)
    with virtual_lab(1) as (ws, _serials, _port):
        root = next((ws / "virtual-devices").iterdir()) / "root"
        nodes = [str(p)[len(str(root)):] for pattern in ("sys/class/power_supply/*/*", "sys/class/thermal/*/temp",
                                                          "sys/class/thermal/*/cur_state",
                                                          "sys/devices/system/cpu/cpu*/cpufreq/scaling_cur_freq",
                                                          "sys/bus/iio/devices/*/energy_value")
                 for p in sorted(root.glob(pattern)) if p.is_file()]
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "samples.jsonl"
            proc = subprocess.Popen([str(build.sampler_path), "--interval-ms", "100", "--out", str(out),
                                     "--root", str(root), *nodes])
            time.sleep(seconds)
            with open(f"/proc/{proc.pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            ticks = os.sysconf("SC_CLK_TCK")
            cpu_s = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
            proc.terminate()
            proc.wait()
            samples = sum(1 for line in out.read_text().splitlines() if '"sample"' in line)
    print(f"1. sampler at 10 Hz, {len(nodes)} nodes, {seconds:.0f} s: {samples} samples, CPU {cpu_s * 1000:.0f} ms "
          f"= {cpu_s / seconds * 100:.3f}% of one core   (target <= 1%)")


def energy_error(duration: float, idle: float) -> None:
    errors: list[float] = []
    rail_errors: list[float] = []
    for profile in PROFILES:
        with virtual_lab(0) as (ws, _s, port):
            assert cli(["--workspace", str(ws), "virtual-device", "start", "--profile", profile,
                        "--battery-level", "80"]) == 0
            out = subprocess.run([sys.executable, "-m", "edgebench.cli.main", "--workspace", str(ws),
                                  "virtual-device", "list"], capture_output=True, text=True,
                                 env=dict(os.environ, ADB_SERVER_SOCKET=f"tcp:127.0.0.1:{port}")).stdout
            serial = next(line.split()[1] for line in out.splitlines()[1:] if profile in line)
            env = dict(os.environ, ADB_SERVER_SOCKET=f"tcp:127.0.0.1:{port}", EDGEBENCH_WORKSPACE=str(ws))
            result = subprocess.run([sys.executable, "-m", "edgebench.cli.main", "profile-battery",
                                     *map(str, MODELS), "--target", serial, "--duration", f"{duration:g}",
                                     "--idle", f"{idle:g}", "--warmup", "2", "--repeats", "2", "--cooldown", "none",
                                     # µs-fast models back to back would log millions of inferences
                                     "--inference-rate", "1000",
                                     "--verify-seconds", "2", "--calibrate-seconds", "75",
                                     # screen on: with it off, the mA profile's idle draw steps the
                                     # charge counter too rarely for a 75 s calibration
                                     "--screen", "on", "--json"],
                                    capture_output=True, text=True, env=env)
            if not result.stdout.strip():
                raise SystemExit(f"profile-battery failed on {profile}: {result.stderr[-2000:]}")
            truth = json.loads(subprocess.run([sys.executable, "-m", "edgebench.cli.main", "virtual-device",
                                               "energy-truth", serial, "--json"], capture_output=True, text=True,
                                              env=env).stdout)
            true_by_run = {t["run_id"]: t["energy_per_inference_mj"] for t in truth}
            for rec in json.loads(result.stdout):
                est = rec["energy_per_inference_mj"]["value"]
                true = sum(true_by_run[r] for r in rec["run_ids"]) / len(rec["run_ids"])
                err = abs(est - true) / true if est is not None else float("nan")
                errors.append(err)
                soc = (rec.get("power_rails") or {}).get("soc_energy_per_inference_mj") or {}
                rails = ""
                if soc.get("value") is not None:
                    rail_err = abs(soc["value"] - true) / true
                    rail_errors.append(rail_err)
                    rails = f", SoC rails {soc['value']:.5f} mJ (error {rail_err:.1%})"
                print(f"   {profile:22} {rec['model']:42} estimate {est if est is None else round(est, 5)} mJ, "
                      f"truth {true:.5f} mJ, error {err:.1%}{rails}, valid {rec['valid']}", flush=True)
    finite = [e for e in errors if e == e]
    print(f"2. energy per inference, {len(MODELS)} models x {len(PROFILES)} profiles: median error "
          f"{sorted(finite)[len(finite) // 2]:.1%}, worst {max(finite):.1%}   (target <= 10%)")
    if rail_errors:
        print(f"   ODPM SoC rails (profiles with rails), {len(rail_errors)} models: median error "
              f"{sorted(rail_errors)[len(rail_errors) // 2]:.1%}, worst {max(rail_errors):.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sampler-seconds", type=float, default=60)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--idle", type=float, default=10)
    parser.add_argument("--skip-energy", action="store_true")
    args = parser.parse_args()
    sampler_cpu(args.sampler_seconds)
    if not args.skip_energy:
        energy_error(args.duration, args.idle)


if __name__ == "__main__":
    main()
