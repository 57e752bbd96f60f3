"""Selective-Backprop vs standard training: wall time to reach standard training's final validation accuracy.

    PYTHONPATH=toolchain .venv/bin/python benchmarks/selective_backprop.py [--models cnn_image,cnn_text]
        [--seeds 0,1,2] [--max-epochs-factor 3]

Per model (the smoke budget of models/<name>.toml: its data, default hyperparameters and epochs E) and seed:
standard training (Keras `fit`, one epoch at a time) for E epochs sets the target, its final validation
accuracy; then SB with beta = 1, 2, 3 and Stale-SB (beta 3, staleness 3, the authors' train.py default)
train the same model from the same initial weights until they reach the target, or for at most
factor x E epochs. Times are training wall time only: the validation pass after each epoch is not
counted (same for every method). A ratio is standard's time / the method's time (> 1: SB faster),
the median over the seeds that reached the target; s/epoch is training seconds per epoch (SB's first
epoch is primed, i.e. standard). The paper reports up to 3.5x on CIFAR-scale models.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "toolchain"))

METHODS: list[tuple[str, dict[str, int] | None]] = [
    ("standard", None), ("SB beta=1", {"beta": 1}), ("SB beta=2", {"beta": 2}), ("SB beta=3", {"beta": 3}),
    ("Stale-SB beta=3 s=3", {"beta": 3, "staleness": 3}),
]


@dataclass(frozen=True)
class Curve:
    seconds: list[float]  # cumulative training wall time at each epoch's end
    accuracy: list[float]  # validation accuracy after each epoch
    backprop_fraction: float | None  # after priming (SB only)

    def time_to(self, target: float) -> tuple[float, int] | None:
        for i, (s, a) in enumerate(zip(self.seconds, self.accuracy)):
            if a >= target - 1e-9:
                return s, i + 1
        return None


def timed_epochs(run: Callable[[Callable[[int, Any], None]], None], evaluate: Callable[[], float],
                 stop_at: float | None) -> tuple[list[float], list[float]]:
    """Runs `run(on_epoch_end)`, timing training only: validation runs inside the callback, off the clock.
    Stops (by exception) once `stop_at` is reached."""
    seconds: list[float] = []
    accuracy: list[float] = []
    paused = 0.0
    start = time.perf_counter()

    class Reached(Exception):
        pass

    def on_epoch_end(epoch: int, logs: Any) -> None:
        nonlocal paused
        entered = time.perf_counter()
        seconds.append(entered - start - paused)
        accuracy.append(evaluate())
        paused += time.perf_counter() - entered
        if stop_at is not None and accuracy[-1] >= stop_at - 1e-9:
            raise Reached

    try:
        run(on_epoch_end)
    except Reached:
        pass
    return seconds, accuracy


def train_curve(spec: Any, data: Any, seed: int, sb: dict[str, int] | None, epochs: int, target: float | None) -> Curve:
    from edgebench.spec.selective_backprop import SelectiveBackpropSpec
    from edgebench.train.sb_loop import fit_selective_backprop
    from edgebench.zoo._tf import load_tf
    from edgebench.zoo.keras_io import accuracy, one_hot

    tf = load_tf()
    hp = spec.defaults()
    model = spec.arch.build(hp, input_shape=data.input_shape, num_classes=data.num_classes,
                            vocab_size=data.vocab_size, options=spec.model_options, seed=seed)
    y = one_hot(data.y_train, data.num_classes)
    batch = int(hp["batch_size"])
    fractions: list[float] = []

    def run(on_epoch_end: Callable[[int, Any], None]) -> None:
        if sb is None:
            callback = tf.keras.callbacks.LambdaCallback(on_epoch_end=on_epoch_end)
            model.fit(data.x_train, y, batch_size=batch, epochs=epochs, shuffle=True, verbose=0, callbacks=[callback])
            return

        def record_fraction(epoch: int, logs: Any) -> None:
            if epoch > 0:  # after the primed epoch
                fractions.append(logs["backprop_fraction"])
            on_epoch_end(epoch, logs)

        fit_selective_backprop(model, data.x_train, y, settings=SelectiveBackpropSpec(**sb), batch_size=batch,
                               epochs=epochs, seed=seed, on_epoch_end=record_fraction, tf=tf)

    seconds, acc = timed_epochs(run, lambda: accuracy(model, data.x_val, data.y_val), target)
    return Curve(seconds, acc, statistics.mean(fractions) if fractions else None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="cnn_image,cnn_text")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--max-epochs-factor", type=int, default=3)
    args = parser.parse_args()
    from edgebench.datasets import load_dataset
    from edgebench.spec import load_spec

    seeds = [int(s) for s in args.seeds.split(",")]
    for name in args.models.split(","):
        spec = load_spec(ROOT / "models" / f"{name}.toml", "smoke")
        data = load_dataset(spec.dataset)
        epochs = int(spec.defaults()["epochs"])
        print(f"\n{name} (smoke: {data.info().loader}, {len(data.x_train)} train / {len(data.x_val)} val, batch "
              f"{spec.defaults()['batch_size']}, standard {epochs} epochs; SB at most "
              f"{epochs * args.max_epochs_factor})", flush=True)
        rows: dict[str, list[tuple[float, int] | None]] = {m: [] for m, _ in METHODS}
        fractions: dict[str, list[float]] = {m: [] for m, _ in METHODS}
        for seed in seeds:
            std = train_curve(spec, data, seed, None, epochs, None)
            target = std.accuracy[-1]
            rows["standard"].append((std.seconds[-1], epochs))
            line = [f"  seed {seed}: target val accuracy {target:.3f}; standard {std.seconds[-1]:.2f} s"]
            for method, sb in METHODS[1:]:
                curve = train_curve(spec, data, seed, sb, epochs * args.max_epochs_factor, target)
                reached = curve.time_to(target)
                rows[method].append(reached)
                if curve.backprop_fraction is not None:
                    fractions[method].append(curve.backprop_fraction)
                line.append(f"{method} " + (f"{reached[0]:.2f} s ({reached[1]} ep)" if reached else
                                            f"not reached in {len(curve.accuracy)} ep (best {max(curve.accuracy):.3f})"))
            print("; ".join(line), flush=True)
        print(f"  {'method':<22}{'reached':>8}{'median s':>10}{'epochs':>8}{'s/epoch':>9}{'backprop':>10}"
              f"{'speed-up (median)':>19}")
        for method, _ in METHODS:
            got = rows[method]
            done = [r for r in got if r]
            ratios = [s[0] / r[0] for s, r in zip(rows["standard"], got) if s and r]
            med = f"{statistics.median(r[0] for r in done):.2f}" if done else "—"
            ep = f"{statistics.median(r[1] for r in done):g}" if done else "—"
            per_epoch = f"{statistics.median(r[0] / r[1] for r in done):.3f}" if done else "—"
            frac = f"{statistics.mean(fractions[method]):.3f}" if fractions[method] else "1"
            ratio = f"{statistics.median(ratios):.2f}x" if ratios else "—"
            print(f"  {method:<22}{len(done):>5}/{len(got)}{med:>10}{ep:>8}{per_epoch:>9}{frac:>10}{ratio:>19}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
