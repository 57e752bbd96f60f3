"""Train a compiled tf.keras model with Selective-Backprop (see selective_backprop.py for the selection).

`fit_selective_backprop(model, x, y, settings=..., batch_size=..., epochs=...)` works on any
compiled Keras model (a zoo model or the user's own): it uses the model's own loss, optimizer and
metrics. Per incoming batch of `batch_size` examples: one inference-mode forward pass gives the
per-example losses (Stale-SB: only for examples whose cached loss is too old), the selector picks
examples, and every full batch of selected examples gets one training step whose loss is the plain
(unweighted) mean over those examples, as in the authors' code. The first epoch is primed (standard
training), and each epoch ends by flushing the selected leftovers as a smaller batch.

lr_by: when the optimizer's learning rate is a schedule, it is evaluated at step = counted examples
/ batch_size, counting examples backpropagated (default) or examples analyzed (every example of an
epoch, selected or not). With a constant learning rate (every zoo model) both are the same; the
result says which schedule, if any, was driven.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from edgebench.spec.selective_backprop import SelectiveBackpropSpec
from edgebench.train.selective_backprop import EpochStats, LossSelector, SelectionQueue, StaleLossCache

EpochCallback = Callable[[int, Mapping[str, float]], None]


@dataclass(frozen=True)
class SelectiveBackpropResult:
    history: dict[str, list[float]]  # per epoch: loss (mean over the training steps), backprop_fraction, val_*
    epochs: tuple[EpochStats, ...]
    lr_schedule: str | None  # the schedule lr_by drove (its class name), None for a constant learning rate

    def summary(self) -> dict[str, Any]:
        """Totals over the epochs after priming: where the fraction should approach 1/(beta+1)."""
        selected = [e for e in self.epochs if not e.primed]
        analyzed = sum(e.examples_analyzed for e in selected)
        backprop = sum(e.examples_backpropagated for e in selected)
        return {"selective_epochs": len(selected), "examples_analyzed": analyzed, "examples_backpropagated": backprop,
                "backprop_fraction": round(backprop / analyzed, 6) if analyzed else None,
                "forward_seconds": round(sum(e.forward_seconds for e in self.epochs), 4),
                "backward_seconds": round(sum(e.backward_seconds for e in self.epochs), 4)}


@dataclass
class _Tally:
    """One epoch's running counts (mutable, private to the loop)."""

    forwarded: int = 0
    backpropagated: int = 0
    forward_seconds: float = 0.0
    backward_seconds: float = 0.0
    step_losses: list[float] = field(default_factory=list)


def per_example_loss(model: Any, tf: Any) -> Callable[[Any, Any], Any]:
    """The model's compiled loss without reduction over the batch (one value per example)."""
    loss = model.loss
    if isinstance(loss, tf.keras.losses.Loss):
        return type(loss).from_config({**loss.get_config(), "reduction": tf.keras.losses.Reduction.NONE})  # type: ignore[no-any-return]
    if isinstance(loss, str) or callable(loss):
        fn = tf.keras.losses.get(loss)  # loss functions return one value per example
        if isinstance(fn, tf.keras.losses.Loss):
            return type(fn).from_config({**fn.get_config(), "reduction": tf.keras.losses.Reduction.NONE})  # type: ignore[no-any-return]
        return fn  # type: ignore[no-any-return]
    raise TypeError(f"Selective-Backprop needs a model compiled with one loss (a name, a function or a "
                    f"tf.keras.losses.Loss); this model's loss is {loss!r}")


def _progress_schedule(optimizer: Any, batch_size: int, tf: Any) -> tuple[Any, str | None]:
    """(a tf.Variable counting examples, the schedule's name) when the optimizer follows a schedule;
    the schedule is then evaluated at counted examples / batch_size instead of the optimizer's steps."""
    inner = getattr(optimizer, "_learning_rate", None)
    base = tf.keras.optimizers.schedules.LearningRateSchedule
    if not isinstance(inner, base):
        return None, None
    schedule: Any = inner
    progress = tf.Variable(0.0, trainable=False, dtype=tf.float32, name="sb_lr_progress")

    class ByExamples(base):  # type: ignore[misc,valid-type]
        def __call__(self, step: Any) -> Any:
            return schedule(progress / float(batch_size))

        def get_config(self) -> dict[str, Any]:
            return {"inner": schedule.get_config(), "batch_size": batch_size}

    optimizer.learning_rate = ByExamples()
    return progress, type(inner).__name__


def fit_selective_backprop(model: Any, x: np.ndarray, y: np.ndarray, *, settings: SelectiveBackpropSpec,
                           batch_size: int, epochs: int, validation_data: tuple[np.ndarray, np.ndarray] | None = None,
                           seed: int = 0, on_epoch_end: EpochCallback | None = None, tf: Any = None
                           ) -> SelectiveBackpropResult:
    if tf is None:
        from edgebench.zoo._tf import load_tf
        tf = load_tf()
    n = len(x)
    if n == 0 or batch_size < 1 or epochs < 1:
        raise ValueError(f"Selective-Backprop needs examples, batch_size >= 1 and epochs >= 1; got {n} examples, "
                         f"batch_size {batch_size}, epochs {epochs}")
    loss_fn = per_example_loss(model, tf)
    optimizer = model.optimizer

    def forward(xb: Any, yb: Any) -> Any:
        return loss_fn(yb, model(xb, training=False))

    def step(xb: Any, yb: Any) -> Any:
        with tf.GradientTape() as tape:
            losses = loss_fn(yb, model(xb, training=True))
            loss = tf.reduce_mean(losses)  # unweighted: SB is intentionally biased (authors' code)
            total = loss + tf.add_n(model.losses) if model.losses else loss
        grads = tape.gradient(total, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return losses

    selector = LossSelector(beta=settings.beta, history=settings.history, seed=seed, tf=tf)

    def forward_and_choose(xb: Any, yb: Any) -> Any:
        return selector.choose(forward(xb, yb))[0]

    # Traced once per batch shape (full batches, the epoch's last batch, the flushed leftovers). Without
    # Stale-SB, the selection pass is one call per batch: forward, history update, percentile, draws.
    forward_losses = tf.function(forward, reduce_retracing=True)
    select_batch = tf.function(forward_and_choose, reduce_retracing=True)
    train_step = tf.function(step, reduce_retracing=True)
    cache = StaleLossCache(n, settings.staleness) if settings.stale else None
    progress, schedule = _progress_schedule(optimizer, batch_size, tf)
    rng = np.random.default_rng(seed)
    history: dict[str, list[float]] = {}
    stats: list[EpochStats] = []

    def backpropagate(idx: np.ndarray, tally: _Tally) -> None:
        t0 = time.perf_counter()
        losses = np.asarray(train_step(x[idx], y[idx]))  # .numpy() waits for the step to finish
        tally.backward_seconds += time.perf_counter() - t0
        tally.backpropagated += len(idx)
        tally.step_losses.append(float(losses.mean()))
        if cache is not None:
            cache.store(idx, losses)
        if progress is not None and settings.lr_by == "backpropagated":
            progress.assign_add(float(len(idx)))

    for epoch in range(epochs):
        primed = epoch == 0
        order = rng.permutation(n)
        queue = SelectionQueue(batch_size)
        tally = _Tally()
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            if progress is not None and settings.lr_by == "analyzed":
                progress.assign_add(float(len(idx)))
            if primed:  # the authors' PrimedSelector: a baseline that takes everything, history untouched
                tally.forwarded += len(idx)
                backpropagate(idx, tally)
                continue
            t0 = time.perf_counter()
            if cache is None:
                selected = np.asarray(select_batch(x[idx], y[idx]))
                tally.forwarded += len(idx)
            else:
                fresh = cache.needs_forward(idx)
                losses = cache.loss[idx].copy()
                if fresh.any():
                    losses[fresh] = np.asarray(forward_losses(x[idx[fresh]], y[idx[fresh]]))
                    cache.store(idx[fresh], losses[fresh])
                    tally.forwarded += int(fresh.sum())
                selected, _ = selector.select(losses)
            queue.add(idx[selected])
            tally.forward_seconds += time.perf_counter() - t0
            for batch in queue.full_batches():
                backpropagate(batch, tally)
        leftovers = queue.flush()
        if leftovers is not None:
            backpropagate(leftovers, tally)

        stats.append(EpochStats(epoch=epoch + 1, primed=primed, examples_analyzed=n, examples_forwarded=tally.forwarded,
                                examples_backpropagated=tally.backpropagated, backprop_batches=len(tally.step_losses),
                                forward_seconds=tally.forward_seconds, backward_seconds=tally.backward_seconds))
        # nan when nothing was selected in an epoch (possible on tiny data with a large beta)
        logs = {"loss": float(np.mean(tally.step_losses)) if tally.step_losses else float("nan"),
                "backprop_fraction": stats[-1].backprop_fraction}
        if validation_data is not None and len(validation_data[0]):
            evaluated = model.evaluate(*validation_data, batch_size=256, verbose=0, return_dict=True)
            logs.update({f"val_{k}": float(v) for k, v in evaluated.items()})
        for k, v in logs.items():
            history.setdefault(k, []).append(v)
        if on_epoch_end is not None:
            on_epoch_end(epoch, logs)
    return SelectiveBackpropResult(history=history, epochs=tuple(stats), lr_schedule=schedule)
