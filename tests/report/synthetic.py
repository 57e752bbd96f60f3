"""A made-up variant table with the columns of CONTRACT13 / analyze/variant_table.py (project-made test
input): `configs` trained models x VARIANTS x `devices`, latency driven by hp.filters and the variant,
raw latency samples per repeat, energy on some rows (measured on a phone, simulated on a virtual device)."""
from __future__ import annotations

import numpy as np
import pandas as pd

VARIANTS = {  # variant -> (transform, quantization, latency factor, size factor, accuracy change)
    "fp32": ("", "fp32", 1.0, 1.0, 0.0),
    "dynamic_range": ("", "dynamic_range", 0.7, 0.27, -0.002),
    "float16": ("", "float16", 0.95, 0.5, 0.0),
    "int8": ("", "int8", 0.45, 0.26, -0.006),
    "prune:0.5+int8": ("prune:0.5", "int8", 0.42, 0.2, -0.015),
}
DEVICES = (("R58M1", "SM-G991B", "phone", "measured"), ("virtual-1", "edgebench-virtual", "virtual", "simulated"))


def variant_table(configs: int = 4, devices: int = 1, *, samples: int = 20, repeats: int = 3,
                  seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(configs):
        filters = int(rng.choice([8, 16, 32, 64]))
        activation = str(rng.choice(["relu", "gelu"]))
        base_latency = 0.3 * filters * (1.3 if activation == "gelu" else 1.0)
        base_accuracy = 0.80 + 0.002 * filters + rng.normal(0, 0.01)
        base_size = 4000.0 * filters
        learning_rate = float(10 ** -rng.uniform(2, 4))
        trained_id = f"{c:02d}" + "ab" * 31
        for device_id, model, kind, source in DEVICES[:devices]:
            for variant, (transform, quant, lat_f, size_f, acc_d) in VARIANTS.items():
                latency = base_latency * lat_f * (1.0 if kind == "phone" else 0.8)
                reps = [np.round(rng.lognormal(np.log(latency), 0.06, samples) * (1 + rng.normal(0, 0.02)), 4).tolist()
                        for _ in range(repeats)]
                energy_runs = [float(latency * 2.1 * (1 + rng.normal(0, 0.04))) for _ in range(3)] \
                    if (c % 2 == 0) else []
                name = "default" if c == 0 else f"trial {c}"
                rows.append({
                    "id": f"{name}/{variant}" + (f" on {model}" if devices > 1 else ""),
                    "source": name, "trained_id": trained_id, "variant": variant, "transform": transform,
                    "quantization": quant, "sparsity": 0.5 if transform else np.nan,
                    "tflite_sha256": f"{c:02d}{list(VARIANTS).index(variant):02d}" + "cd" * 30,
                    "hp.filters": filters, "hp.activation": activation, "hp.learning_rate": learning_rate,
                    "device_id": device_id, "device_model": model, "device_kind": kind, "config": "cpu/1t",
                    "protocol": "standard", "status": "measured", "valid": bool(rng.random() > 0.05),
                    "verdict_allowed": True, "repeats_ok": repeats, "repeats_total": repeats,
                    "accuracy": float(np.clip(base_accuracy + acc_d, 0, 1)), "accuracy_n": 1000.0,
                    "val_accuracy": float(np.clip(base_accuracy + 0.01, 0, 1)),
                    "latency_ms": float(np.median([np.median(r) for r in reps])),
                    "latency_p90_ms": float(np.median([np.percentile(r, 90) for r in reps])),
                    "energy_mj": float(np.median(energy_runs)) if energy_runs else np.nan,
                    "size_bytes": base_size * size_f, "gzip_size_bytes": base_size * size_f * 0.9,
                    "peak_memory_kb": 20000.0 + base_size * size_f / 1024, "training_s": 30.0 + filters,
                    "latency_repeats_ms": reps, "energy_samples_mj": energy_runs,
                    "latency_source": source, "energy_source": source if energy_runs else "none",
                    "run_ids": [f"run{c}{variant[:3]}{device_id[:2]}{r}" for r in range(repeats)],
                })
    return pd.DataFrame(rows)


def surfaces(table: pd.DataFrame) -> pd.DataFrame:
    """Attainment-surface-shaped rows (level, latency_ms, accuracy): the frontier, shifted per level."""
    from edgebench.analyze.fronts import on_frontier
    from edgebench.analyze.objectives import parse_objectives

    objectives = parse_objectives("latency_ms:min,accuracy:max")
    points = table[["latency_ms", "accuracy"]].to_numpy(float)
    front = points[on_frontier(points, objectives)]
    return pd.concat([pd.DataFrame({"level": level, "latency_ms": front[:, 0] * factor, "accuracy": front[:, 1]})
                      for level, factor in ((0.1, 0.95), (0.5, 1.0), (0.9, 1.08))], ignore_index=True)


def effects_tests(table: pd.DataFrame) -> pd.DataFrame:
    """Effects-shaped rows (hyperparameter, level, property, cliffs_delta, p_holm, magnitude)."""
    rows = []
    for hp in ("hp.filters", "hp.activation"):
        for level in table[hp].unique():
            for prop in ("latency_ms", "accuracy", "size_bytes"):
                inside, rest = table[table[hp] == level][prop], table[table[hp] != level][prop]
                delta = float(np.mean(np.sign(np.subtract.outer(inside.to_numpy(), rest.to_numpy())))) if len(rest) else np.nan
                rows.append({"hyperparameter": hp.removeprefix("hp."), "level": str(level), "property": prop,
                             "cliffs_delta": delta, "p_holm": 0.01, "magnitude": "large" if abs(delta) >= 0.474 else "small"})
    return pd.DataFrame(rows)
