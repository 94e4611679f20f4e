"""Explicit design points and grids given from Python are checked before any run (issue 13, API defects)."""
from __future__ import annotations

import pytest

from geogame.experiments import sweep
from geogame.model import InputError


def test_explicit_points_with_different_settings_are_refused_before_any_run(tmp_path):
    points = [{"eu.price_cap_usd": 40.0}, {"eu.price_cap_usd": 50.0, "usa.oil_penalty_tariff_on_ind": 0.0}]
    with pytest.raises(InputError, match=r"design point 1 sets .*usa\.oil_penalty_tariff_on_ind.*allowed: the same "
                                         r"settings in every point"):
        sweep(quarters=1, points=points)
    with pytest.raises(InputError, match="design point 1"):
        sweep(quarters=1, points=points, out=tmp_path / "s")
    assert not (tmp_path / "s").exists()


def test_a_single_number_as_a_grid_is_one_line_not_a_type_error():
    with pytest.raises(InputError, match=r"--grid eu\.price_cap_usd: 30 is a single value; allowed: a list"):
        sweep(quarters=1, grid={"eu.price_cap_usd": 30})
