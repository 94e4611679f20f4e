"""Every lever a user can set moves the world in the documented direction (model/levers.py)."""
from __future__ import annotations

import math

import pytest

from geogame.model.instruments import INSTRUMENTS
from geogame.model.levers import LEVER_RESPONSES, measure, measure_table
from geogame.model.parameters import SETTINGS


def test_every_policy_lever_is_in_the_table():
    listed = {row.setting for row in LEVER_RESPONSES}
    assert set(INSTRUMENTS) <= listed, sorted(set(INSTRUMENTS) - listed)
    for row in LEVER_RESPONSES:
        spec = SETTINGS[row.setting]
        assert spec.low <= row.value <= spec.high and row.value != spec.default, row


@pytest.fixture(scope="module")
def table():
    """The whole table, every arm stepped as one ensemble (equal to :func:`measure` row by row)."""
    return measure_table(LEVER_RESPONSES)


@pytest.mark.parametrize("i", range(len(LEVER_RESPONSES)),
                         ids=[f"{r.setting}={r.value:g}" for r in LEVER_RESPONSES])
def test_lever_moves_its_outcome(i, table):
    row = LEVER_RESPONSES[i]
    before, after = table[i]
    assert math.isfinite(before) and math.isfinite(after)
    change = after - before
    # A real move: at least 0.5% of the level (or 0.002 in absolute terms for shares near zero).
    threshold = max(0.005 * abs(before), 0.002)
    assert row.sign * change > threshold, (
        f"{row.setting}={row.value:g} should move {row.outcome} {'up' if row.sign > 0 else 'down'} "
        f"({row.why}); it went from {before:.4g} to {after:.4g}")


def test_the_table_as_an_ensemble_equals_the_mesa_runs_row_by_row(table):
    """measure_table (all arms batched) gives exactly measure's numbers (one Mesa model per arm),
    also under a modeller's changed setting applied to both arms."""
    assert table == [measure(row) for row in LEVER_RESPONSES]
    changed = {"world.crude_discount_sensitivity": 0.2}
    rows = LEVER_RESPONSES[::4]
    assert measure_table(rows, seed=3, overrides=changed) == [measure(r, seed=3, overrides=changed) for r in rows]


def test_refiners_never_buy_more_russian_crude_at_a_premium():
    """Random policy changes (five levers at a time, anywhere in their ranges), eight quarters:
    India's Russian share never rises in a quarter whose delivered discount is negative."""
    import numpy as np

    from geogame.model import GeopoliticsModel

    rng = np.random.default_rng(0)
    scripted = {c: "scripted" for c in ("usa", "rus", "ind", "eu")}
    for run in range(40):
        overrides = {}
        for key in rng.choice(sorted(INSTRUMENTS), 5, replace=False):
            spec = SETTINGS[key]
            value = rng.uniform(spec.low, min(spec.high, spec.low + 200))
            overrides[key] = float(round(value)) if spec.integer else float(value)
        model = GeopoliticsModel(scenario="baseline", seed=run, overrides=overrides, rules=scripted).run(8)
        frame = model.metrics_frame()
        delivered = frame["urals_discount_delivered_ind_usd"].to_numpy()[1:]
        rise = np.diff(frame["crude_share_ind_from_rus"].to_numpy())
        assert not ((delivered < 0) & (rise > 0.005)).any(), overrides


def test_geogame_levers_reports_a_lever_a_modeller_switched_off(capsys):
    """`geogame levers` passes on the model as it is and exits 1 when an assumption disables a lever."""
    from geogame.experiments.cli import main

    assert main(["levers", "--only", "eu.price_cap_usd"]) == 0
    assert "1 of 1 levers act as documented" in capsys.readouterr().out
    assert main(["levers", "--only", "eu.price_cap_usd", "--set", "world.cap_wedge_usd=0"]) == 1
    assert "FAILS" in capsys.readouterr().out
    assert main(["levers", "--only", "no.such_lever"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
