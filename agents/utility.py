"""What each country wants: utility per quarter in USD bn-equivalent, split into named terms.

Terms are kept apart so that a decision can say which ones drove it. Weights marked in the
registry (:mod:`geogame.model.parameters`) as judgement calls are exposed as settings and sliders.

* Everybody: 30% of the value of its goods exports (domestic value added at stake, judgement).
* Each player's own terms are declared in its player file (``utility_terms`` in
  ``agents/players/<code>.py``): the US and the EU value less Russian oil revenue and affinity with
  India; Russia its oil revenue, arms orders and affinity with India; India its crude bill,
  strategic autonomy, the cost of EU measures and affinity with the US and Russia.
* Everybody pays ``world.policy_change_cost_usd_bn`` once for any move but holding (status-quo
  bias), and its audience cost for backing down under pressure (added by the model).
"""
from __future__ import annotations

import numpy as np

from geogame.model.world import Structure, World

from .players import PLAYERS

VALUE_ADDED_SHARE = 0.3  # judgement: share of export value that is domestic value added at stake

_UTILITY = {p.CODE: p.utility_terms for p in PLAYERS}


def utility_terms(country: str, world: World, m: dict, s: Structure) -> dict[str, np.ndarray]:
    """Named utility terms for ``country`` in each world of the batch, USD bn per quarter.

    Raises
    ------
    ValueError
        If ``country`` is not an installed player.
    """
    own = _UTILITY.get(country)
    if own is None:
        raise ValueError(f"unknown country {country!r}; allowed: {', '.join(_UTILITY)}")
    exports = world.goods_flow_usd_bn[:, :, s.layout.node(country)].sum(axis=1)
    terms = {"exports": VALUE_ADDED_SHARE * exports / 4.0}
    terms.update(own(world, m, s))
    return terms
