"""Every lever a user can set moves the world in the documented direction (model/levers.py)."""
from __future__ import annotations

import math

import pytest

from geogame.model.instruments import INSTRUMENTS
from geogame.model.levers import LEVER_RESPONSES, measure
from geogame.model.parameters import SETTINGS


def test_every_policy_lever_is_in_the_table():
    listed = {row.setting for row in LEVER_RESPONSES}
    assert set(INSTRUMENTS) <= listed, sorted(set(INSTRUMENTS) - listed)
    for row in LEVER_RESPONSES:
        spec = SETTINGS[row.setting]
        assert spec.low <= row.value <= spec.high and row.value != spec.default or row.setting in row.context


@pytest.mark.parametrize("row", LEVER_RESPONSES, ids=lambda r: f"{r.setting}={r.value:g}")
def test_lever_moves_its_outcome(row):
    before, after = measure(row)
    assert math.isfinite(before) and math.isfinite(after)
    change = after - before
    # A real move: at least 0.5% of the level (or 0.002 in absolute terms for shares near zero).
    threshold = max(0.005 * abs(before), 0.002)
    assert row.sign * change > threshold, (
        f"{row.setting}={row.value:g} should move {row.outcome} {'up' if row.sign > 0 else 'down'} "
        f"({row.why}); it went from {before:.4g} to {after:.4g}")
