"""Selective-Backprop's selection, exactly as the authors' code does it (angelajiang/SelectiveBackprop,
lib/{calculators,hist,selectors,fp_selectors}.py); the training loop is `sb_loop.py`.

Per incoming batch of per-example losses L_i (from a forward pass in inference mode):
1. all L_i are appended to the history H of the last R losses *first* (a FIFO; R = `history`);
2. p_i = |{h in H : h < L_i}| / |H|  (strictly less: `UnboundedHistogram.percentile_of_score`);
3. P_i = p_i ** beta (sampling_min = 0); example i is selected when a uniform draw U_i < P_i.
Selected examples queue up; every full batch of them is backpropagated (`SelectionQueue`), and the
leftovers are flushed at the epoch's end. The first epoch is primed: everything is backpropagated
and the history is not touched (the authors' `PrimedSelector` over a `BaselineSelector`).

Stale-SB (`StaleLossCache`): an example's selection forward pass is skipped, and its cached loss
reused, unless it has no cached loss or `staleness` or more epochs passed since the cache was set;
both the selection pass and the training step set the cache (the authors' `StaleSelector`).

The history is a tf.Variable ring buffer and the selection one vectorised tf.function, so no
Python loop runs per example. TensorFlow comes in through the `tf` argument (imported lazily).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


class LossSelector:
    """The recent-loss history and the loss-percentile selection of one training run."""

    def __init__(self, *, beta: float, history: int, seed: int, tf: Any) -> None:
        self.beta, self.capacity, self._tf = float(beta), int(history), tf
        self.values = tf.Variable(tf.zeros([self.capacity], tf.float32), trainable=False, name="sb_history")
        self.filled = tf.Variable(0, dtype=tf.int32, trainable=False, name="sb_history_filled")
        self.next = tf.Variable(0, dtype=tf.int32, trainable=False, name="sb_history_next")
        self._rng = tf.random.Generator.from_seed(seed)
        self._probabilities = tf.function(self._update_and_rank, reduce_retracing=True)
        self._choose = tf.function(self.choose, reduce_retracing=True)

    def _update_and_rank(self, losses: Any) -> Any:
        tf = self._tf
        losses = tf.cast(tf.reshape(losses, [-1]), tf.float32)
        n = tf.shape(losses)[0]
        # Append the batch (only its last R values survive a batch longer than the history).
        kept = tf.minimum(n, self.capacity)
        newest = losses[n - kept:]
        slots = tf.math.floormod(self.next + (n - kept) + tf.range(kept), self.capacity)
        self.values.scatter_nd_update(tf.expand_dims(slots, 1), newest)
        self.next.assign(tf.math.floormod(self.next + n, self.capacity))
        self.filled.assign(tf.minimum(self.filled + n, self.capacity))
        # Percentile of each loss among the (just updated) history, strictly less.
        valid = tf.range(self.capacity) < self.filled
        lower = tf.logical_and(tf.expand_dims(self.values, 0) < tf.expand_dims(losses, 1), valid)
        percentile = tf.reduce_sum(tf.cast(lower, tf.float32), axis=1) / tf.cast(self.filled, tf.float32)
        return tf.pow(percentile, self.beta)

    def choose(self, losses: Any) -> tuple[Any, Any]:
        """(selected mask, P) as tensors, with the run's seeded draws; traceable, so a training loop can
        fuse it with the forward pass into one tf.function (one call per batch)."""
        probs = self._update_and_rank(losses)
        return self._rng.uniform(self._tf.shape(probs), dtype=self._tf.float32) < probs, probs

    def probabilities(self, losses: Any) -> np.ndarray:
        """P_i = p_i ** beta for a batch, after appending the batch to the history."""
        return np.asarray(self._probabilities(losses))

    def select(self, losses: Any, uniforms: Any | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(selected mask, P) for a batch; `uniforms` replaces the run's own seeded draws (tests)."""
        if uniforms is None:
            mask, probs = self._choose(losses)
            return np.asarray(mask), np.asarray(probs)
        probs = self.probabilities(losses)
        draws = np.asarray(uniforms, dtype=np.float32)
        if draws.shape != probs.shape:
            raise ValueError(f"{len(draws)} uniform draws for {len(probs)} losses")
        return draws < probs, probs

    def history(self) -> np.ndarray:
        """The losses the history holds now (order not meaningful)."""
        return np.asarray(self.values[: int(self.filled.numpy())])


class SelectionQueue:
    """Selected examples (indices into the epoch's training arrays) waiting for a full batch."""

    def __init__(self, batch_size: int) -> None:
        self.batch_size = int(batch_size)
        self._pending: list[np.ndarray] = []
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, indices: np.ndarray) -> None:
        if len(indices):
            self._pending.append(np.asarray(indices, dtype=np.int64))
            self._count += len(indices)

    def full_batches(self) -> list[np.ndarray]:
        """Every full batch now available, in selection order; the rest stays queued."""
        if self._count < self.batch_size:
            return []
        queued = np.concatenate(self._pending)
        n_full = len(queued) // self.batch_size * self.batch_size
        batches = np.split(queued[:n_full], n_full // self.batch_size)
        rest = queued[n_full:]
        self._pending, self._count = ([rest] if len(rest) else []), len(rest)
        return batches

    def flush(self) -> np.ndarray | None:
        """The leftovers (fewer than a batch) at the epoch's end, or None when nothing is queued."""
        if not self._count:
            return None
        rest = np.concatenate(self._pending)
        self._pending, self._count = [], 0
        return rest


class StaleLossCache:
    """Stale-SB: per training example, its last loss and the epochs since it was computed."""

    def __init__(self, num_examples: int, staleness: int) -> None:
        self.staleness = int(staleness)
        self.loss = np.full(num_examples, np.nan, dtype=np.float32)
        self.epochs_since = np.zeros(num_examples, dtype=np.int64)

    def needs_forward(self, indices: np.ndarray) -> np.ndarray:
        """Called once per example per (post-priming) epoch: which of `indices` get a selection pass."""
        self.epochs_since[indices] += 1
        return np.isnan(self.loss[indices]) | (self.epochs_since[indices] >= self.staleness)  # type: ignore[no-any-return]

    def store(self, indices: np.ndarray, losses: np.ndarray) -> None:
        self.loss[indices] = losses
        self.epochs_since[indices] = 0


@dataclass(frozen=True)
class EpochStats:
    """What one epoch of Selective-Backprop did; times in seconds of wall clock."""

    epoch: int  # 1-based
    primed: bool  # the first epoch: everything backpropagated, no selection
    examples_analyzed: int  # examples whose loss was used for selection (forward pass or, Stale-SB, cache)
    examples_forwarded: int  # of those, examples that got a selection forward pass (Stale-SB skips the rest)
    examples_backpropagated: int
    backprop_batches: int  # training steps, the flushed partial batch included
    forward_seconds: float  # selection forward passes and selection
    backward_seconds: float  # training steps (their own forward pass, backward pass, weight update)

    @property
    def backprop_fraction(self) -> float:
        return self.examples_backpropagated / self.examples_analyzed if self.examples_analyzed else float("nan")

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "backprop_fraction": round(self.backprop_fraction, 6),
                "forward_seconds": round(self.forward_seconds, 4), "backward_seconds": round(self.backward_seconds, 4)}
