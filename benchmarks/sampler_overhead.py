"""Battery profiling costs: the on-device sampler's CPU time, and the energy estimate's error.

1. CPU time of edgebench_sampler at 10 Hz over 60 s, reading the battery, thermal, cpufreq and ODPM
   rail nodes a phone profile has (a virtual device's sysfs tree): target <= 1% of one core.
2. Energy-estimate error on virtual devices across 5 models and 2 gauge profiles (µA with the kernel
   sign and ODPM rails, and mA with the inverted sign), inferences at up to 1000 Hz:
   |estimate - truth| / truth per model, target <= 10% (and the same for the SoC rail figure), the truth
   taken over the window the estimate measures (energy_truth.workload_energy_between). The
   devices run the SoC power model (virtual/power_soc.py: DVFS, tail, deep-idle wake-ups, gauge
   low-pass); the session puts them in airplane mode as it does any phone whose adb link is not Wi-Fi.
   The truth is the workload's MARGINAL energy (the device's minus that of the same device without the
   workload, from a second SoC model fed the sampler alone), what a net-of-idle estimate measures; under
   the earlier attributed truth µs models read 20-50 % low even on the noise-free rails, because the
   idle windows already hold background CPU and tail that the workload's share absorbed.

Run:  .venv/bin/python benchmarks/sampler_overhead.py [--sampler-seconds 60] [--duration 30] [--skip-energy]
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
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


def measured_window_truth(store: Path, truth: list[dict]) -> dict[str, float]:
    """Each run's true energy per inference over the window the estimate measures (first to last timed
    inference, from the stored run), not the marker window, which also holds the warm-up's process start
    and model load and the driver's line count at the end (measured: ~2 % of a µs model's truth at 1000 Hz
    over 30 s, not the gap the estimate shows for those models; see the module docstring)."""
    from edgebench.virtual.energy_truth import workload_energy_between

    out = {}
    with sqlite3.connect(store) as db:
        for t in truth:
            row = db.execute("SELECT MIN(start_ns), MAX(start_ns + latency_us * 1000), COUNT(*) FROM latency_samples"
                             " WHERE run_id = ? AND phase = 'timed'", (t["run_id"],)).fetchone()
            energy = workload_energy_between(t, row[0] / 1e9, row[1] / 1e9) if row and row[2] else None
            if energy is None:
                raise SystemExit(f"run {t['run_id']}: no truth over its measured window (trace {len(t.get('workload_trace') or [])} points)")
            out[t["run_id"]] = energy / row[2]
    return out


def _stats(label: str, errors: list[float], extra: str = "") -> None:
    finite = sorted(e for e in errors if e == e)
    if not finite:
        print(f"   {label}: no figures{extra}")
        return
    size = sorted(abs(e) for e in finite)
    print(f"   {label}: median |error| {size[len(size) // 2]:.1%}, worst {size[-1]:.1%}, median signed "
          f"{finite[len(finite) // 2]:+.1%} over {len(finite)}{extra}")


def energy_error(duration: float, idle: float) -> None:
    headline: list[float] = []  # per model: the session's figure (mean of the repeats) vs the mean truth
    per_run: list[float] = []  # per run: that run's estimate vs its own truth (the method, one run)
    rails_run: list[float] = []
    not_measured = 0
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
            true_by_run = measured_window_truth(ws / "results.sqlite", truth)
            with sqlite3.connect(ws / "results.sqlite") as db:
                stored = {run_id: (energy, json.loads(rails) if rails else None) for run_id, energy, rails in
                          db.execute("SELECT run_id, energy_per_inference_mj, rails_json FROM energy")}
            for rec in json.loads(result.stdout):
                est = rec["energy_per_inference_mj"]["value"]
                true = sum(true_by_run[r] for r in rec["run_ids"]) / len(rec["run_ids"])
                headline.append((est - true) / true if est is not None else float("nan"))
                runs = []
                for run_id in rec["run_ids"]:
                    energy, rails = stored.get(run_id, (None, None))
                    t = true_by_run[run_id]
                    if energy is None:
                        not_measured += 1
                        runs.append("not measured")
                    else:
                        per_run.append((energy - t) / t)
                        runs.append(f"{(energy - t) / t:+.1%}")
                    soc = (rails or {}).get("soc_energy_per_inference_mj")
                    if soc is not None:
                        rails_run.append((soc - t) / t)
                        runs[-1] += f" (rails {(soc - t) / t:+.1%})"
                shown = "withheld" if est is None else f"{est:.5f} mJ ({(est - true) / true:+.1%})"
                print(f"   {profile:22} {rec['model']:42} truth {true:.5f} mJ, estimate {shown}; "
                      f"per run {', '.join(runs)}", flush=True)
    print(f"2. energy per inference, {len(MODELS)} models x {len(PROFILES)} profiles x 2 repeats "
          "(target <= 10%):")
    _stats("per run (the method)", per_run, f"; {not_measured} runs not measured" if not_measured else "")
    withheld = sum(e != e for e in headline)
    _stats("per model (mean of 2 runs)", headline, f"; {withheld} withheld (interval reaches zero)"
           if withheld else "")
    _stats("ODPM SoC rails, per run", rails_run)


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
