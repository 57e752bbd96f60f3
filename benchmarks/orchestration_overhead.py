"""How much wall time does edgebench add around what the harness measures? (issue #17)

1. 10 models x 2 configs (1 and 2 threads) x 200 runs, on this host (local) and on one virtual device,
   in slices (the default) and with --no-batch (one device call per run, as before #17): total wall
   time of push-and-run / the time the harness itself measured (init + warm-up + timed runs), and the
   per-run fixed cost (wall - measured) / runs. Target <= 1.15.
2. The floor: 40 runs of a model whose invoke costs ~0 (a single ADD), smoke: per-run fixed cost, batched
   and not, against the physical floor per run = one `adb shell true` round trip per slice / runs per
   slice + the runner's process start on the device (a bare runner call's wall time minus what the
   runner itself timed); and the new files a run makes (its out/ on the device, their copy on the host)
   times what one new file costs in the workspace's file system.
3. Three virtual devices in parallel on a light, mostly sleeping workload (runs 50 ms apart): wall
   time / the same session on one device. Target <= 1.3.

The 10 models are small CNNs made here with TensorFlow (nothing is downloaded), sized so one run
takes milliseconds on this host. Everything shares this host's 2 cores with the virtual device.
Run:  .venv/bin/python benchmarks/orchestration_overhead.py
"""
from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _lab import virtual_lab  # noqa: E402

import edgebench  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ADD = REPO / "fixtures" / "real-device" / "g_tflite_models" / "tflm_simple_add_model.tflite"


def make_models(folder: Path, count: int = 10) -> list[Path]:
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    paths = []
    for i in range(count):
        width = 8 + 4 * i  # 10 different costs
        inputs = tf.keras.Input((160, 160, 3), batch_size=1)
        x = tf.keras.layers.Conv2D(width, 3, strides=2, activation="relu")(inputs)
        x = tf.keras.layers.Conv2D(width * 2, 3, activation="relu")(x)
        x = tf.keras.layers.Conv2D(width * 2, 3, strides=2, activation="relu")(x)
        x = tf.keras.layers.GlobalAveragePooling2D()(x)
        model = tf.keras.Model(inputs, tf.keras.layers.Dense(10)(x))
        path = folder / f"cnn_w{width}.tflite"
        path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
        paths.append(path)
    return paths


def harness_seconds(db: Path, session: str) -> float:
    with sqlite3.connect(db) as con:
        init_ms = con.execute("select coalesce(sum(init_ms), 0) from runs where session = ?", (session,)).fetchone()[0]
        run_us = con.execute("select coalesce(sum(s.latency_us), 0) from latency_samples s join runs r "
                             "on r.run_id = s.run_id where r.session = ?", (session,)).fetchone()[0]
    return init_ms / 1e3 + run_us / 1e6


def session(models: list[Path], target: str, ws: Path, *, batch: bool, **protocol: object) -> tuple[float, float, int]:
    """(wall seconds, harness-measured seconds, runs) of one push-and-run session."""
    started = time.perf_counter()
    result = edgebench.push_and_run(models, target=target, workspace=ws, batch=batch, **protocol)  # type: ignore[arg-type]
    wall = time.perf_counter() - started
    bad = [r for r in result.records if r.status != "ok"]
    if bad:
        raise SystemExit(f"{len(bad)} runs not ok on {target}: {bad[0].error}")
    return wall, harness_seconds(ws / "results.sqlite", result.session), len(result.records)


def runner_start_ms(serial: str, port: int) -> float:
    """The runner's process start and exit on the device: a bare runner call's wall time (100 calls in one
    shell, timed on the device's boot clock, 10 ms steps: 0.1 ms per call) minus the init and inferences the runner timed itself. The
    calls use the runner's hash cache as a session's runs do (runner 1.3.0; before it, hashing the 8 MB
    library took most of this figure: 29.8 ms)."""
    import json
    import subprocess

    from _lab import ADB

    root = "/data/local/tmp/edgebench"
    env = dict(os.environ, ADB_SERVER_SOCKET=f"tcp:localhost:{port}")
    script = (f"m=$(ls {root}/models/*.tflite | head -1); read -r a _ </proc/uptime; i=0; while [ $i -lt 100 ]; do "
              f"{root}/bin/edgebench_runner --model $m --lib {root}/lib/libLiteRt.so --warmup-runs 0 --runs 1 "
              f"--min-seconds 0 --hash-cache {root}/.hash-cache --out /data/local/tmp/floor.jsonl >/dev/null 2>&1; "
              "i=$((i+1)); done; "
              "read -r b _ </proc/uptime; echo $a $b; cat /data/local/tmp/floor.jsonl")
    out = subprocess.run([ADB, "-s", serial, "shell", script], env=env, check=True, capture_output=True,
                         text=True).stdout.splitlines()
    a, b = (float(v) for v in out[0].split())
    timed_us = 0.0
    for line in out[1:]:
        obj = json.loads(line)
        if obj.get("type") == "init":
            timed_us += float(obj["total_us"])
        elif obj.get("type") in ("run", "warmup"):
            timed_us += float(obj.get("latency_us", 0.0))
    return ((b - a) / 100 - timed_us / 1e6) * 1000


def shell_round_trip_ms(serial: str, port: int) -> float:
    import statistics
    import subprocess

    from _lab import ADB

    env = dict(os.environ, ADB_SERVER_SOCKET=f"tcp:localhost:{port}")
    times = []
    for _ in range(10):
        t = time.perf_counter()
        subprocess.run([ADB, "-s", serial, "shell", "true"], env=env, check=True, capture_output=True)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def file_creation_ms(folder: Path, count: int = 300) -> float:
    """Wall ms to make one new (empty) file in `folder`: a run's outputs are a dozen new files on the device and
    their copy on the host, and on some file systems (this project's CI host: about 1 ms of kernel CPU each) a
    new inode costs more than the process that fills it."""
    scratch = Path(tempfile.mkdtemp(dir=folder))
    started = time.perf_counter()
    for i in range(count):
        os.close(os.open(scratch / f"f{i}", os.O_CREAT | os.O_WRONLY, 0o644))
    elapsed = time.perf_counter() - started
    for i in range(count):
        os.unlink(scratch / f"f{i}")
    scratch.rmdir()
    return elapsed / count * 1000


def files_per_run(session_folder: Path) -> tuple[int, int]:
    """(new files and folders a run makes on the device, on the host) from one stored run's results folder: the
    device writes out/ in a run folder (out/'s files, out/, the run folder); the host extracts the same files
    into the run's results folder, with the run's device log (logcat.txt) beside them."""
    results = next(p for p in session_folder.iterdir() if p.is_dir())
    host = len(list(results.rglob("*"))) + 1
    device = len([p for p in results.rglob("*") if p.name != "logcat.txt"]) + 2
    return device, host


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print("making 10 models with TensorFlow ...", flush=True)
        models = make_models(Path(tmp))
        with virtual_lab(3) as (ws, serials, port):
            # Warm the harness build and the staged files, as on a lab machine already set up.
            for target in ("local", serials[0]):
                edgebench.push_and_run([ADD], target=target, protocol="smoke", runs=5, workspace=ws)
            heavy = dict(protocol="smoke", runs=200, threads=(1, 2))
            print("1. 10 models x 2 configs x 200 runs (smoke)")
            for target, label in (("local", "local         "), (serials[0], "virtual device")):
                for batch in (False, True):
                    wall, measured, runs = session(models, target, ws, batch=batch, **heavy)
                    print(f"   {label} {'slices     ' if batch else '--no-batch '}: wall {wall:6.2f} s, harness-measured "
                          f"{measured:6.2f} s, ratio {wall / measured:.3f} (target <= 1.15), fixed cost "
                          f"{(wall - measured) / runs * 1000:5.1f} ms per run", flush=True)

            floor = dict(protocol="smoke", runs=5, warmup=1, repeats=20, threads=(1, 2))  # 40 runs of ~0 cost
            start_ms = runner_start_ms(serials[0], port)
            measurable = start_ms > 0  # on a noisy host a call's wall time can come out below what the runner timed
            trip_ms = shell_round_trip_ms(serials[0], port)
            print(f"2. the floor, 40 runs of a single ADD: runner process start on the virtual device {start_ms:.1f} ms, "
                  f"`adb shell true` {trip_ms:.1f} ms")
            for target, label in (("local", "local         "), (serials[0], "virtual device")):
                for batch in (False, True):
                    wall, measured, runs = session([ADD], target, ws, batch=batch, **floor)
                    fixed = (wall - measured) / runs * 1000
                    floor_ms = start_ms + (trip_ms / runs if batch else trip_ms)
                    versus = (f", {fixed / floor_ms:.1f} x the floor ({floor_ms:.1f} ms)" if measurable else
                              ", the floor not measured (the runner's start came out <= 0 ms: a noisy host, run again)")
                    print(f"   {label} {'slices     ' if batch else '--no-batch '}: fixed cost {fixed:5.1f} ms per run"
                          + (versus if target != "local" else ""), flush=True)
            last = max((ws / "sessions").iterdir(), key=lambda p: p.stat().st_mtime)
            on_device, on_host = files_per_run(last)
            create_ms = file_creation_ms(ws)
            print(f"   new files per run: {on_device} on the device + {on_host} on the host; one new file in this "
                  f"workspace costs {create_ms:.2f} ms here, so {(on_device + on_host) * create_ms:.1f} ms per run "
                  "(the virtual device's /data is this same file system)")

            light = dict(protocol="smoke", runs=20, warmup=1, run_delay_ms=50.0, workspace=ws)
            t = time.perf_counter()
            edgebench.push_and_run([ADD], target=serials[0], **light)
            one = time.perf_counter() - t
            t = time.perf_counter()
            edgebench.push_and_run([ADD], target=",".join(serials), **light)
            three = time.perf_counter() - t
            print(f"3. light workload (20 runs, 50 ms apart): one device {one:.2f} s, three in parallel "
                  f"{three:.2f} s, ratio {three / one:.2f}   (target <= 1.3)")


if __name__ == "__main__":
    main()
