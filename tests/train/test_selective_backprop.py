"""Selective-Backprop's selection maths on fixed loss streams, against hand-computed references.

The reference is the authors' code (angelajiang/SelectiveBackprop): the batch joins the history
*before* the percentiles are taken, the percentile counts strictly smaller losses, P = p ** beta.
"""
from __future__ import annotations

import numpy as np
import pytest

from edgebench.train.selective_backprop import EpochStats, LossSelector, SelectionQueue, StaleLossCache
from edgebench.zoo._tf import load_tf


@pytest.fixture(scope="module")
def tf():
    return load_tf()


def test_percentiles_take_the_batch_into_the_history_first_and_count_strictly_smaller(tf) -> None:
    sel = LossSelector(beta=2, history=4, seed=0, tf=tf)
    # Batch 1 into an empty history: H = {0.5, 0.1, 0.9}; p = 1/3, 0, 2/3.
    np.testing.assert_allclose(sel.probabilities([0.5, 0.1, 0.9]), [1 / 9, 0, 4 / 9], rtol=1e-6)
    # Batch 2: the FIFO of 4 drops 0.5: H = {0.1, 0.9, 0.3, 0.7}; p(0.3) = 1/4, p(0.7) = 2/4.
    np.testing.assert_allclose(sel.probabilities([0.3, 0.7]), [1 / 16, 1 / 4], rtol=1e-6)
    assert sorted(sel.history().tolist()) == pytest.approx([0.1, 0.3, 0.7, 0.9])
    # A batch longer than the history: only its last 4 stay, H = {0.2, 0.8, 0.6, 0.4}; ties are not "smaller".
    np.testing.assert_allclose(sel.probabilities([0.2, 0.2, 0.8, 0.6, 0.4]), [0, 0, 9 / 16, 4 / 16, 1 / 16],
                               rtol=1e-6, atol=1e-7)
    assert sorted(sel.history().tolist()) == pytest.approx([0.2, 0.4, 0.6, 0.8])


def test_an_example_is_selected_when_its_draw_is_below_p_to_the_beta(tf) -> None:
    sel = LossSelector(beta=1, history=1024, seed=0, tf=tf)
    # p = 0, 1/4, 2/4, 3/4 (beta 1); draws straddle each probability.
    selected, probs = sel.select([1.0, 2.0, 3.0, 4.0], uniforms=[0.0, 0.25, 0.49, 0.8])
    np.testing.assert_allclose(probs, [0, 0.25, 0.5, 0.75])
    assert selected.tolist() == [False, False, True, False]
    with pytest.raises(ValueError, match="3 uniform draws for 4 losses"):
        sel.select([1.0, 2.0, 3.0, 4.0], uniforms=[0.1, 0.2, 0.3])


@pytest.mark.parametrize("beta", [1, 2, 3])
def test_the_backprop_fraction_approaches_one_over_beta_plus_one(tf, beta: int) -> None:
    # A stationary stream of losses, batches of 128 through the seeded selector: E[p ** beta] = 1/(beta+1).
    rng = np.random.default_rng(beta)
    sel = LossSelector(beta=beta, history=1024, seed=beta, tf=tf)
    chosen = sum(int(sel.select(rng.lognormal(size=128).astype(np.float32))[0].sum()) for _ in range(80))
    assert chosen / (80 * 128) == pytest.approx(1 / (beta + 1), abs=0.03)


def test_the_queue_backpropagates_full_batches_in_order_and_flushes_the_rest() -> None:
    q = SelectionQueue(3)
    q.add(np.array([1, 2]))
    assert q.full_batches() == [] and len(q) == 2
    q.add(np.array([3, 4, 5, 6, 7]))
    assert [b.tolist() for b in q.full_batches()] == [[1, 2, 3], [4, 5, 6]] and len(q) == 1
    q.add(np.array([], dtype=np.int64))
    assert q.full_batches() == []
    rest = q.flush()
    assert rest is not None and rest.tolist() == [7]
    assert q.flush() is None and len(q) == 0


def test_stale_sb_reuses_a_loss_younger_than_the_staleness() -> None:
    cache = StaleLossCache(3, staleness=2)
    idx = np.arange(3)
    assert cache.needs_forward(idx).tolist() == [True, True, True]  # no cached loss yet
    cache.store(idx, np.array([0.1, 0.2, 0.3], np.float32))  # e.g. the primed epoch's training step
    assert cache.needs_forward(idx).tolist() == [False, False, False]  # 1 epoch old < 2
    cache.store(np.array([1]), np.array([0.5], np.float32))  # example 1 backpropagated again
    assert cache.needs_forward(idx).tolist() == [True, False, True]  # 2 epochs old for 0 and 2
    assert cache.loss.tolist() == pytest.approx([0.1, 0.5, 0.3])
    always = StaleLossCache(2, staleness=1)
    always.store(np.arange(2), np.zeros(2, np.float32))
    assert always.needs_forward(np.arange(2)).tolist() == [True, True]  # staleness 1 never skips


def test_epoch_stats_fraction_is_backpropagated_over_analyzed() -> None:
    e = EpochStats(epoch=2, primed=False, examples_analyzed=200, examples_forwarded=120, examples_backpropagated=50,
                   backprop_batches=2, forward_seconds=0.123456, backward_seconds=0.5)
    assert e.backprop_fraction == 0.25 and e.to_json()["forward_seconds"] == 0.1235
