"""How often profile-battery's stated CI of energy per inference covers the virtual device's energy truth.

Repeated profile-battery sessions on one virtual device (host-side truth, `virtual-device energy-truth`)
for a µs-scale model (TFLM simple_add) and a ms-scale one (MobileNet v1 0.25): per model, the share of
sessions whose interval holds the truth (the mean true energy per inference over that session's runs),
the share reported unresolved (the interval reaches zero: no point value), and the estimate's error.
A CI across runs covers run-to-run noise only: a bias of the estimator (idle baseline, gauge
quantisation) shows here as coverage below the stated level, which is the point of measuring it.

Run:  .venv/bin/python benchmarks/energy_ci_coverage.py [--sessions 4] [--repeats 3] [--duration 8] [--idle 4]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _lab import virtual_lab  # noqa: E402

from edgebench.cli.main import main as cli  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
REAL = REPO / "fixtures" / "real-device" / "g_tflite_models"
MODELS = {"µs-scale": REAL / "tflm_simple_add_model.tflite",
          "ms-scale": REAL / "tfls_mobilenet_v1_0.25_224_float.tflite"}


def _edgebench(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "edgebench.cli.main", *argv], capture_output=True, text=True, env=env)


def coverage(sessions: int, repeats: int, duration: float, idle: float, profile: str, rate: float) -> None:
    rows: dict[str, list[dict[str, object]]] = {name: [] for name in MODELS}
    with virtual_lab(0) as (ws, _s, port):
        assert cli(["--workspace", str(ws), "virtual-device", "start", "--profile", profile,
                    "--battery-level", "80"]) == 0
        env = dict(os.environ, ADB_SERVER_SOCKET=f"tcp:127.0.0.1:{port}", EDGEBENCH_WORKSPACE=str(ws))
        serial = next(line.split()[1] for line in _edgebench(env, "virtual-device", "list").stdout.splitlines()[1:]
                      if profile in line)
        for session in range(sessions):
            started = time.monotonic()
            result = _edgebench(env, "profile-battery", *map(str, MODELS.values()), "--target", serial,
                                "--duration", f"{duration:g}", "--idle", f"{idle:g}", "--warmup", "1",
                                "--repeats", str(repeats), "--cooldown", "none", "--inference-rate", f"{rate:g}",
                                "--verify-seconds", "2", "--calibrate-seconds", "75", "--screen", "on", "--json")
            if not result.stdout.strip():
                raise SystemExit(f"profile-battery failed: {result.stderr[-2000:]}")
            truth = {t["run_id"]: t["energy_per_inference_mj"]
                     for t in json.loads(_edgebench(env, "virtual-device", "energy-truth", serial, "--json").stdout)}
            for name, path in MODELS.items():
                rec = next(r for r in json.loads(result.stdout) if r["model"] == path.name)
                e = rec["energy_per_inference_mj"]
                true = [truth[r] for r in rec["run_ids"] if truth.get(r) is not None]
                row = {"truth": sum(true) / len(true) if true else None, **e}
                rows[name].append(row)
                ci = "no CI" if e["ci_low"] is None else f"[{e['ci_low']:.5g}, {e['ci_high']:.5g}] ({e['ci_level']:.0%})"
                print(f"   session {session + 1} {name:8} mean {e['mean']} mJ, CI {ci}, truth {row['truth']}, "
                      f"resolved {e['resolved']}" + (f" (needs ≥ {e['repeats_to_resolve']} repeats or "
                                                     f"{e['measured_seconds_to_resolve']:.0f} s windows)"
                                                     if e["resolved"] is False and e["repeats_to_resolve"] else ""),
                      flush=True)
            print(f"   session {session + 1}: {time.monotonic() - started:.0f} s", flush=True)
    print(f"energy CI coverage on a virtual {profile}, {sessions} sessions x {repeats} repeats, "
          f"{duration:g} s windows, {rate:g} inferences/s:")
    for name, found in rows.items():
        with_ci = [r for r in found if r["ci_low"] is not None and r["truth"] is not None]
        covered = sum(1 for r in with_ci if r["ci_low"] <= r["truth"] <= r["ci_high"])
        unresolved = sum(1 for r in found if r["resolved"] is False)
        errors = sorted(abs(r["mean"] - r["truth"]) / r["truth"] for r in found  # type: ignore[operator]
                        if r["mean"] is not None and r["truth"])
        worst = f"{errors[-1]:.1%}" if errors else "n/a"
        print(f"   {name:8} {MODELS[name].name:42} CI covers truth in {covered}/{len(with_ci)} sessions "
              f"(stated {with_ci[0]['ci_level']:.0%})" if with_ci else f"   {name:8} no session gave a CI", end="")
        print(f"; unresolved in {unresolved}/{len(found)}; |mean - truth| / truth worst {worst}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--duration", type=float, default=8)
    parser.add_argument("--idle", type=float, default=4)
    parser.add_argument("--rate", type=float, default=1000, help="inferences per second (µs models back to back "
                        "would log millions of lines)")
    parser.add_argument("--profile", default="pixel-8-like")
    args = parser.parse_args()
    coverage(args.sessions, args.repeats, args.duration, args.idle, args.profile, args.rate)


if __name__ == "__main__":
    main()
