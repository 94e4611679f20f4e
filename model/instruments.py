"""Where each policy setting lives in the :class:`~model.world.World`.

Scripted events and overrides change instruments by setting key (``eu.price_cap_usd``); this
module maps a key to its array and index so that nobody else needs to know the layout.
"""
from __future__ import annotations

import numpy as np

from .nodes import B_EU, B_USA, EU, IND, ROW, RUS, USA
from .world import World

#: setting key -> (World field, index within one world or None for a (B,) array)
INSTRUMENTS: dict[str, tuple[str, tuple | int | None]] = {
    "usa.base_tariff_on_ind": ("tariff", (USA, IND)),
    "usa.oil_penalty_tariff_on_ind": ("oil_penalty", None),
    "usa.oil_penalty_threshold": ("oil_penalty_threshold", None),
    "usa.tariff_on_eu": ("tariff", (USA, EU)),
    "usa.tariff_on_row": ("tariff", (USA, ROW)),
    "usa.crude_embargo": ("crude_embargo", B_USA),
    "usa.listed_seller_share": ("listed_seller_share", None),
    "usa.secondary_enforcement": ("secondary_enforcement", None),
    "usa.sanction_intensity_on_rus": ("sanction", (USA, RUS)),   # and US export controls: see MIRRORED
    "usa.deal_offer": ("deal_offer", None),
    "usa.deal_tariff_on_ind": ("deal_tariff", None),
    "usa.deal_crude_ceiling": ("deal_ceiling", None),
    "eu.price_cap_usd": ("price_cap_usd", None),
    "eu.cap_enforcement": ("cap_enforcement", None),
    "eu.crude_embargo": ("crude_embargo", B_EU),
    "eu.crude_embargo_announced": ("crude_embargo_announced", B_EU),
    "eu.sanction_intensity_on_rus": ("sanction", (EU, RUS)),     # and EU export bans: see MIRRORED
    "eu.product_ban": ("product_ban", None),
    "eu.secondary_on_ind": ("eu_secondary_on_ind", None),
    "eu.tariff_on_ind": ("tariff", (EU, IND)),
    "ind.crude_ceiling": ("crude_ceiling_ind", None),
    "ind.tariff_on_usa": ("tariff", (IND, USA)),
    "ind.rupee_settlement_push": ("rupee_push", None),
    "ind.instc": ("instc", None),
    "ind.arms_tilt_west": ("arms_tilt_west", None),
    "rus.extra_discount_ind_usd": ("extra_discount_ind_usd", None),
    "rus.coproduction_offer": ("coproduction_offer", None),
    "rus.rupee_recycling": ("rupee_recycling", None),
    "world.oil_supply_shock": ("oil_supply_shock", None),
}


#: Sanctions packages ban exports to Russia as well as imports from it (EU export bans, US export
#: controls): the same intensity applies to Russia's imports from the sanctioning side.
MIRRORED: dict[str, tuple[str, tuple]] = {
    "usa.sanction_intensity_on_rus": ("sanction", (RUS, USA)),
    "eu.sanction_intensity_on_rus": ("sanction", (RUS, EU)),
}


def _view(world: World, key: str) -> tuple[np.ndarray, tuple]:
    name, index = INSTRUMENTS[key]
    array = getattr(world, name)
    if index is None:
        return array, (slice(None),)
    if isinstance(index, int):
        return array, (slice(None), index)
    return array, (slice(None),) + tuple(index)


def get_instrument(world: World, key: str) -> np.ndarray:
    """Current value of an instrument for every world in the batch, (B,)."""
    array, idx = _view(world, key)
    return array[idx]


def set_instrument(world: World, key: str, value, rows=slice(None)) -> None:
    """Set an instrument in place for the given batch rows."""
    array, idx = _view(world, key)
    array[(rows,) + idx[1:]] = value
    if key in MIRRORED:
        name, (i, j) = MIRRORED[key]
        getattr(world, name)[rows, i, j] = value
