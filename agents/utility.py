"""What each country wants: utility per quarter in USD bn-equivalent, split into named terms.

Terms are kept apart so that a decision can say which ones drove it. Weights marked in the
registry (:mod:`model.parameters`) as judgement calls are exposed as settings and sliders.

* Everybody: 30% of the value of its goods exports (domestic value added at stake, judgement).
* United States: less Russian oil revenue is worth ``usa.weight_rus_revenue`` per dollar; affinity
  with India is worth ``usa.weight_alignment_ind``; tariff revenue from Indian goods counts at
  ``usa.weight_tariff_revenue``, less the tariff's deadweight cost to US buyers.
* EU: as the US for Russian revenue; pays for its crude at Brent; values affinity with India.
* Russia: oil revenue net of discounts, arms orders from India, affinity with India, minus the
  cost of holding rupees it cannot spend.
* Everybody pays ``world.policy_change_cost_usd_bn`` once for any move but holding (status-quo
  bias), and its audience cost for backing down under pressure (added by the model).
* India: its crude bill (Brent less the discount it gets), the cost of the EU's product ban and
  secondary measures on the Russian barrels it still buys, strategic autonomy, affinity with
  both the US and Russia.
"""
from __future__ import annotations

import numpy as np

from geogame.model.economics import BN_PER_MBD_USD
from geogame.model.nodes import B_EU, B_IND, B_USA, COUNTRIES, IND, NODES, USA
from geogame.model.world import Structure, World

VALUE_ADDED_SHARE = 0.3  # judgement: share of export value that is domestic value added at stake


def _affinity(world: World, a: str, b: str) -> np.ndarray:
    return world.affinity[:, COUNTRIES.index(a), COUNTRIES.index(b)]


def utility_terms(country: str, world: World, m: dict, s: Structure) -> dict[str, np.ndarray]:
    """Named utility terms for ``country`` in each world of the batch, USD bn per quarter."""
    p = s.params
    flows = world.goods_flow_usd_bn
    exports = flows[:, :, NODES.index(country)].sum(axis=1)
    terms = {"exports": VALUE_ADDED_SHARE * exports / 4.0}
    if country == "usa":
        t = m["tariff_usa_on_ind"] * (1.0 - p["usa.tariff_exempt_share_ind"])
        terms["tariff_deadweight"] = -0.5 * p["world.trade_elasticity"] * t ** 2 * flows[:, USA, IND] / 4.0
        terms["tariff_revenue"] = p["usa.weight_tariff_revenue"] * t * flows[:, USA, IND] / 4.0
        terms["russian_oil_revenue"] = -p["usa.weight_rus_revenue"] * m["russia_crude_revenue_usd_bn"] / 4.0
        terms["affinity_with_india"] = p["usa.weight_alignment_ind"] * _affinity(world, "usa", "ind")
        terms["oil_price"] = -p["usa.weight_oil_price"] * s.crude_imports_mbd[B_USA] * BN_PER_MBD_USD * \
            world.brent_usd / 4.0
    elif country == "eu":
        terms["russian_oil_revenue"] = -p["eu.weight_rus_revenue"] * m["russia_crude_revenue_usd_bn"] / 4.0
        terms["crude_bill"] = -s.crude_imports_mbd[B_EU] * BN_PER_MBD_USD * world.brent_usd / 4.0
        terms["affinity_with_india"] = p["eu.weight_alignment_ind"] * _affinity(world, "eu", "ind")
    elif country == "rus":
        terms["oil_revenue"] = m["russia_crude_revenue_usd_bn"] / 4.0
        terms["arms_orders"] = m["arms_share_ind_from_rus"] * (1 - m["arms_share_ind_domestic"]) * \
            p["world.arms_orders_usd_bn"] / 4.0
        terms["affinity_with_india"] = p["rus.weight_alignment_ind"] * _affinity(world, "rus", "ind")
        terms["idle_rupees"] = -p["rus.weight_rupee_balance"] * world.rupee_balance_usd_bn
    elif country == "ind":
        bill = s.crude_imports_mbd[B_IND] * BN_PER_MBD_USD * world.brent_usd - m["india_oil_savings_usd_bn"]
        terms["crude_bill"] = -bill / 4.0
        terms["autonomy"] = p["ind.weight_autonomy"] * m["india_autonomy"]
        # EU product ban and secondary measures: a cost on every barrel still bought from Russia
        # (segregating refinery runs, lost fuel sales to the EU, sanctioned counterparties). The
        # same per-barrel costs enter refiners' choice as risk; here they are counted as welfare.
        per_barrel = (world.product_ban * p["world.product_ban_cost_usd"]
                      + world.eu_secondary_on_ind * p["world.eu_secondary_cost_usd"])
        russian_mbd = s.crude_imports_mbd[B_IND] * world.crude_share[:, B_IND]
        terms["eu_measures_cost"] = -per_barrel * russian_mbd * BN_PER_MBD_USD / 4.0
        terms["affinity_with_us_and_russia"] = p["ind.weight_alignment"] * (
            _affinity(world, "ind", "usa") + _affinity(world, "ind", "rus"))
    else:
        raise ValueError(f"unknown country {country!r}")
    return terms
