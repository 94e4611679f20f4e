"""A batch whose worlds have structures of their own (model/world.py ``mixed``): the compiled step
(model/step_kernel.py, model/crude_kernel.py) steps each world with its own group's settings and
arrays, to the very bits of that world stepped alone with its own structure, and its shortcuts
(clearings and trade pulls shared between worlds) never cross groups whose numbers differ."""
from __future__ import annotations

import numpy as np
import pytest

from geogame.model import economics, parameters, step_kernel
from geogame.model.calibration import build
from geogame.model.economics import step, step_reference
from geogame.model.instruments import INSTRUMENTS, set_instrument
from geogame.model.parameters import SETTINGS, SettingError
from geogame.model.step_kernel import OUTPUTS
from geogame.model.world import World, mixed

#: Settings of the start the calibration checks together (drawn near their defaults, redrawn if refused).
_START = ("world.brent_usd", "rus.crude_exports_mbd", "ind.crude_imports_mbd")


def _random_settings(rng) -> dict:
    """Every behavioural setting drawn within its range; the start's settings within +-30% of their
    defaults (the calibration refuses some combinations; the caller redraws)."""
    settings = parameters.defaults()
    for key, spec in SETTINGS.items():
        if key in INSTRUMENTS or spec.integer or key in ("ind.crude_share_from_rus", "rus.crude_supply_floor_usd"):
            continue
        if key in _START:
            settings[key] = float(np.clip(spec.default * rng.uniform(0.7, 1.3), spec.low, spec.high))
        else:
            settings[key] = float(rng.uniform(spec.low, spec.high))
    for key in ("world.arms_delivery_lag_quarters", "world.arms_fleet_life_years"):
        settings[key] = float(rng.integers(SETTINGS[key].low, SETTINGS[key].high + 1))
    return settings


def _random_group(rng):
    """A start world and structure built with random settings (redrawn until the calibration accepts them)."""
    for _ in range(50):
        try:
            return build("dec2025", _random_settings(rng))
        except SettingError:
            continue
    raise AssertionError("no accepted random settings in 50 draws")


def _with_random_policies(world: World, n: int, rng) -> World:
    """``n`` copies of a single world, each with random policies, deal bumps and slow state."""
    batch = world.repeat(n)
    for key in INSTRUMENTS:
        spec = SETTINGS[key]
        set_instrument(batch, key, rng.uniform(spec.low, min(spec.high, spec.low + 200.0), n))
    batch.deal_bump[:] = rng.uniform(0, 0.3, batch.deal_bump.shape)
    batch.intermediated[:] = rng.uniform(0, 1, n)
    batch.listing_last[:] = rng.uniform(0, 1, n)
    batch.shadow_fleet_share[:] = rng.uniform(0, 0.9, n)
    return batch


def _concatenate(batches: list[World]) -> World:
    """One batch holding the rows of ``batches`` in turn."""
    out = batches[0].shallow_copy()
    for name, value in vars(batches[0]).items():
        if isinstance(value, np.ndarray):
            setattr(out, name, np.concatenate([getattr(b, name) for b in batches], axis=0))
    return out


def _mixed_batch(batches: list[World], structures: list, order: np.ndarray):
    """The groups' batches as one, rows in ``order`` (of the concatenated rows), and its mixed structure."""
    group = np.concatenate([np.full(b.batch, g) for g, b in enumerate(batches)])
    return _concatenate(batches).take_rows(order), mixed(structures, group[order]), group[order]


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(a.view(np.uint64), b.view(np.uint64))


def _assert_rows_equal_groups_alone(batches, structures, order, quarters: int, label: str) -> None:
    """Steps the mixed batch and each group's batch alone ``quarters`` times; every output row
    of the mixed batch has the very bits of its row in its group's batch."""
    together, s, group = _mixed_batch(batches, structures, order)
    row_in_group = np.concatenate([np.arange(b.batch) for b in batches])[order]
    alone = list(batches)
    for quarter in range(quarters):
        together = step(together, s, compiled=True)
        alone = [step(b, g, compiled=True) for b, g in zip(alone, structures)]
        for name in OUTPUTS:
            mixed_out = getattr(together, name)
            for row in range(together.batch):
                expected = getattr(alone[group[row]], name)[row_in_group[row]]
                assert _same_bits(mixed_out[row], expected), (label, quarter, name, row, group[row])


@pytest.mark.parametrize("n_groups,seed", [(3, 1), (4, 2), (5, 3)])
def test_mixed_batch_steps_each_world_as_its_own_structure_alone(n_groups, seed):
    """Groups built with every setting drawn at random (the start's Brent, Russian exports and
    Indian imports, the trade and supply elasticities among them), their start worlds repeated
    with random policies, rows interleaved in one batch: six quarters, every output of every row
    is, bit for bit, that row stepped in its own group's batch with its own structure."""
    rng = np.random.default_rng(seed)
    built = [_random_group(rng) for _ in range(n_groups)]
    structures = [s for _, s in built]
    batches = [_with_random_policies(world, 6, rng) for world, _ in built]
    order = rng.permutation(sum(b.batch for b in batches))
    _assert_rows_equal_groups_alone(batches, structures, order, quarters=6, label=f"G={n_groups}")


@pytest.mark.parametrize("key", ["rus.crude_supply_elasticity", "world.trade_elasticity", "ind.crude_imports_mbd",
                                 "world.crude_discount_sensitivity", "world.sanction_cost"])
def test_groups_that_differ_in_one_setting_share_nothing_they_should_not(key):
    """Groups that differ in one setting only, with the very same world rows (so a clearing or a
    trade pull wrongly shared between groups would show): rows alternate between the groups, and
    each row equals its row stepped in its own group alone, bit for bit, for four quarters."""
    rng = np.random.default_rng(17)
    spec = SETTINGS[key]
    values = [float(np.clip(spec.default * f, spec.low, spec.high)) for f in (1.0, 1.1, 1.25)]
    assert len(set(values)) == 3
    built = [build("dec2025", {**parameters.defaults(), key: v}) for v in values]
    structures = [s for _, s in built]
    policies = _with_random_policies(built[0][0], 5, rng)
    batches = [policies.copy() for _ in built]       # the very same rows in every group
    n = policies.batch
    order = np.array([g * n + r for r in range(n) for g in range(len(values))])   # row r of each group in turn
    _assert_rows_equal_groups_alone(batches, structures, order, quarters=4, label=key)
    # the groups' results differ (the setting matters), so a shared result would have shown
    steps = [step(b, s, compiled=True) for b, s in zip(batches, structures)]
    assert any(not _same_bits(getattr(steps[0], name), getattr(steps[1], name)) for name in OUTPUTS), key


@pytest.mark.parametrize("field", ["crude_imports_mbd", "export_weights", "armington_weights",
                                   "domestic_absorption_usd_bn"])
def test_groups_that_differ_in_one_array_only_share_nothing_they_should_not(field):
    """Groups whose structures differ in one array and nothing else (not even what the calibration
    would derive from it), the very same world rows, rows alternating between the groups: each
    row equals its row stepped in its own group alone, bit for bit (the buyers' crude imports
    enter the clearing only through the group; the other arrays the trade pull)."""
    import dataclasses

    rng = np.random.default_rng(23)
    world, s = build("dec2025", parameters.defaults())
    structures = [s]
    for f in (1.1, 1.25):
        other = dataclasses.replace(s)
        other.__dict__[field] = getattr(s, field) * f     # a field, or a run constant set before it is computed
        structures.append(other)
    policies = _with_random_policies(world, 5, rng)
    batches = [policies.copy() for _ in structures]
    order = np.array([g * 5 + r for r in range(5) for g in range(3)])
    _assert_rows_equal_groups_alone(batches, structures, order, quarters=3, label=field)


@pytest.mark.parametrize("name", step_kernel.GROUP_FIELDS)
def test_groups_whose_kernel_numbers_differ_in_one_only_share_nothing_they_should_not(name):
    """Groups whose kernel records (economics.kernel_constants) differ in one number, and nothing
    else (not even what the calibration would derive from it), the very same world rows
    alternating between the groups: each row equals its row stepped in its own group alone, bit
    for bit (so each number is read from the world's own group, and a clearing or trade pull
    is shared only between groups that agree in every number it reads)."""
    import dataclasses

    rng = np.random.default_rng(31)
    world, s = build("dec2025", parameters.defaults())
    record = economics.kernel_constants(s)
    structures = [s]
    for f in (0.9, 0.8):
        other = dataclasses.replace(s)
        other.__dict__["_kernel_constants"] = record._replace(**{name: getattr(record, name) * f})
        structures.append(other)
    policies = _with_random_policies(world, 5, rng)
    batches = [policies.copy() for _ in structures]
    order = np.array([g * 5 + r for r in range(5) for g in range(3)])
    _assert_rows_equal_groups_alone(batches, structures, order, quarters=3, label=name)


def test_mixed_batch_equals_the_reference_of_each_group():
    """The compiled step of a mixed batch computes each group's equations: every state array of
    every row agrees with the NumPy reference (economics.step_reference) of its group to 1e-9,
    six quarters."""
    rng = np.random.default_rng(29)
    built = [_random_group(rng) for _ in range(3)]
    structures = [s for _, s in built]
    batches = [_with_random_policies(world, 5, rng) for world, _ in built]
    order = rng.permutation(15)
    together, s, group = _mixed_batch(batches, structures, order)
    row_in_group = np.concatenate([np.arange(5)] * 3)[order]
    reference = list(batches)
    for quarter in range(6):
        together = step(together, s, compiled=True)
        reference = [step_reference(b, g) for b, g in zip(reference, structures)]
        for name in OUTPUTS + ("deal_bump",):
            for row in range(together.batch):
                expected = getattr(reference[group[row]], name)[row_in_group[row]]
                assert np.allclose(getattr(together, name)[row], expected, rtol=1e-9, atol=1e-12), (quarter, name, row)
        assert together.quarter == reference[0].quarter


def test_group_inputs_are_stacked_once_per_groups():
    """The groups' constants and arrays are stacked once: structures of rows of the same mixed
    batch (take_rows, as the ensemble does each step) reuse them; a plain structure is one group."""
    rng = np.random.default_rng(5)
    built = [_random_group(rng) for _ in range(2)]
    s = mixed([b[1] for b in built], np.array([0, 1, 1, 0]))
    first = step_kernel.group_inputs(s.groups, economics.kernel_constants)
    again = step_kernel.group_inputs(s.take_rows(np.array([1, 2])).groups, economics.kernel_constants)
    assert again is first
    assert first.k["trade_elasticity"].shape == (2,) and first.structure[0].shape[0] == 2
    plain = built[0][1]
    one = step_kernel.group_inputs(plain.groups, economics.kernel_constants)
    assert one.k[0]["trade_elasticity"] == economics.kernel_constants(plain).trade_elasticity
    assert economics.kernel_constants(plain) == economics.kernel_constants(plain)     # numbers: comparable
    with pytest.raises(ValueError, match="mixed"):
        economics.kernel_constants(s)
    # a structure made by copying another's __dict__ neither uses nor adds to the other's entries
    kept = dict(plain.__dict__["_kernel_group_inputs"])
    copy = object.__new__(type(plain))
    copy.__dict__.update(plain.__dict__)
    assert step_kernel.group_inputs(copy.groups, economics.kernel_constants).groups[0] is copy
    assert plain.__dict__["_kernel_group_inputs"] == kept
    assert all(v.groups[0] is copy for v in copy.__dict__["_kernel_group_inputs"].values())


def test_classes_tell_signed_zeros_apart():
    """Two groups share a class only when their numbers are the very same bits."""
    column = np.array([[0.0, 1.0], [-0.0, 1.0], [0.0, 1.0], [0.0, 2.0]])
    assert step_kernel.classes(column).tolist() == [0, 1, 0, 3]
    assert step_kernel.classes(column, np.array([1.0, 1.0, 2.0, 2.0])).tolist() == [0, 1, 2, 3]
