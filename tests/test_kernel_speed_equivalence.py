"""The compiled step's shortcuts give the very numbers of the long way (model/step_kernel.py,
model/crude_kernel.py): each test steps the same worlds down both paths and compares bit for bit."""
from __future__ import annotations

import numpy as np

from geogame.model import parameters
from geogame.model.calibration import build
from geogame.model.economics import step
from geogame.model.instruments import INSTRUMENTS, set_instrument
from geogame.model.parameters import SETTINGS
from geogame.model.step_kernel import OUTPUTS


def _random_batch(n: int, seed: int):
    world, s = build("dec2025", parameters.defaults())
    rng = np.random.default_rng(seed)
    batch = world.repeat(n)
    for key in INSTRUMENTS:
        spec = SETTINGS[key]
        set_instrument(batch, key, rng.uniform(spec.low, min(spec.high, spec.low + 200.0), n))
    return batch, s, rng


def test_affinity_pair_computed_once_equals_both_directions():
    """A world whose affinity inputs are symmetric has each pair's update computed once and
    mirrored; a signed zero in one direction of a deal bump (the same value, but not the very
    same number) sends the world down the direction-by-direction loop. Both give the same bits."""
    batch, s, rng = _random_batch(8, seed=3)
    bumps = rng.uniform(0, 0.3, batch.deal_bump.shape)
    batch.deal_bump[:] = bumps + bumps.transpose(0, 2, 1)          # symmetric
    i, j = 0, 1
    batch.deal_bump[:, i, j] = batch.deal_bump[:, j, i] = 0.0      # no deal between these two
    asymmetric = batch.copy()
    asymmetric.deal_bump[:, j, i] = -0.0                             # == 0.0, but not the same bits
    once, both = batch, asymmetric
    for quarter in range(4):
        once, both = step(once, s, compiled=True), step(both, s, compiled=True)
        for name in OUTPUTS:
            assert np.array_equal(getattr(once, name), getattr(both, name)), (quarter, name)
        assert np.array_equal(once.affinity, once.affinity.transpose(0, 2, 1))
        both.deal_bump[:, j, i] = -0.0                               # keep it on the long way


def test_clearing_bracket_does_not_depend_on_the_previous_world():
    """The crude clearing starts its search from the previous world's bracket, and reuses the
    discount of an earlier world with the very same curve: worlds whose markets clear far apart
    (price caps and Indian ceilings from one end of their range to the other), in any order, and
    each repeated further down the batch, clear exactly as each world alone."""
    batch, s, rng = _random_batch(12, seed=8)
    batch.price_cap_usd[:] = np.linspace(20.0, 120.0, 12)
    batch.crude_ceiling_ind[:] = np.tile([0.0, 1.0, 0.05], 4)
    repeated = np.concatenate([np.arange(12), rng.permutation(12)])   # each world again, far apart
    for order in (np.arange(12), rng.permutation(12), repeated):
        shuffled = batch.take_rows(order)
        stepped = step(shuffled, s, compiled=True)
        for row in range(len(order)):
            alone = step(shuffled.take(row), s, compiled=True)
            for name in OUTPUTS:
                assert np.array_equal(getattr(alone, name)[0], getattr(stepped, name)[row]), (row, name)


def test_trade_pull_reused_across_alternating_policies_equals_each_world_alone():
    """The compiled step keeps the trade pulls of the last few distinct trade policies: rows
    that alternate between policies, return to one after more policies than it keeps, or share
    tariffs but differ in one sanction (or by signed zeros, the same number), each equal the
    world stepped alone, bit for bit."""
    from geogame.model.step_kernel import PULL_SLOTS

    n = 3 * PULL_SLOTS + 6
    batch, s, rng = _random_batch(n, seed=21)
    kinds = PULL_SLOTS + 2                                            # more policies than slots
    policy = np.concatenate([np.arange(n - 6) % 2, np.arange(n - 6, n) % kinds])   # A B A B ..., then many
    policy[:PULL_SLOTS + 2] = np.arange(PULL_SLOTS + 2) % kinds                   # evicts, then returns
    for name in ("tariff", "sanction", "instc", "rupee_push", "oil_penalty", "oil_penalty_threshold"):
        getattr(batch, name)[:] = getattr(batch, name)[policy]
    assert policy[13] == policy[11]
    batch.sanction[13, 1, 2] = 0.5 * batch.sanction[11, 1, 2] + 0.1              # only one sanction differs
    batch.sanction[15] = np.where(batch.sanction[13] == 0.0, -0.0, batch.sanction[13])   # row 13's, -0.0 for 0.0
    for quarter in range(2):
        stepped = step(batch, s, compiled=True)
        for row in range(n):
            alone = step(batch.take(row), s, compiled=True)
            for name in OUTPUTS:
                assert np.array_equal(getattr(alone, name)[0], getattr(stepped, name)[row]), (quarter, row, name)
        batch = stepped
