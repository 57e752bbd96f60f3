"""How much wall time does edgebench add around what the harness measures?

1. 10 models × 2 configs (1 and 2 threads) × 200 runs on one virtual device: total wall time of
   push-and-run ÷ the time the harness itself measured (init + warm-up + timed runs). Target <= 1.15.
2. Three virtual devices in parallel on a light, mostly sleeping workload (runs 50 ms apart): wall
   time ÷ the same session on one device. Target <= 1.3.

The 10 models are small CNNs made here with TensorFlow (nothing is downloaded), sized so one run
takes milliseconds on this host.
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


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print("making 10 models with TensorFlow ...", flush=True)
        models = make_models(Path(tmp))
        with virtual_lab(3) as (ws, serials, _port):
            # Warm the harness build and the staged files, as on a lab machine already set up.
            edgebench.push_and_run([ADD], target=serials[0], protocol="smoke", runs=5, workspace=ws)
            t = time.perf_counter()
            result = edgebench.push_and_run(models, target=serials[0], protocol="smoke", runs=200,
                                            threads=(1, 2), workspace=ws)
            wall = time.perf_counter() - t
            measured = harness_seconds(ws / "results.sqlite", result.session)
            ok = sum(r.status == "ok" for r in result.records)
            print(f"1. {len(result.records)} runs ({ok} ok) on one virtual device: wall {wall:.1f} s, "
                  f"harness-measured {measured:.1f} s, ratio {wall / measured:.3f}   (target <= 1.15)")

            light = dict(protocol="smoke", runs=20, warmup=1, run_delay_ms=50.0, workspace=ws)
            t = time.perf_counter()
            edgebench.push_and_run([ADD], target=serials[0], **light)
            one = time.perf_counter() - t
            t = time.perf_counter()
            edgebench.push_and_run([ADD], target=",".join(serials), **light)
            three = time.perf_counter() - t
            print(f"2. light workload (20 runs, 50 ms apart): one device {one:.2f} s, three in parallel "
                  f"{three:.2f} s, ratio {three / one:.2f}   (target <= 1.3)")


if __name__ == "__main__":
    main()
