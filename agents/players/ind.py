"""India: its Russian crude, its arms suppliers, its tariffs and its trade with Russia.

The arms buyer (:mod:`geogame.model.layout`): the buyer the others court and coerce over its
Russian crude. It can cap its Russian crude, accept a US deal, push trade with Russia, tilt its
arms orders and answer US tariffs. It wants a cheap crude bill, strategic autonomy, affinity with
both the US and Russia, and no cost from EU measures on its Russian barrels.
"""
from __future__ import annotations

import numpy as np

from geogame.agents.menu import (Move, Rows, above, adjust, below, both, bump, deal_open, hold, no_deal,
                                 penalty_applies, penalty_bites, set_to, under_pressure)
from geogame.model.world import BN_PER_MBD_USD
from geogame.model.instruments import Instrument, set_instrument
from geogame.model.parameters import behaviour_settings, make_setting
from geogame.model.world import World

CODE = "ind"
LABEL = "India"
SHORT_LABEL = "India"
COLOUR = "#E69F00"          # Okabe-Ito orange
#: Where the app draws it on the trade network (x, y in [-1, 1]; y up).
MAP_POSITION = (0.6, -0.75)
ROLES = ("arms_buyer", "crude_buyer")
#: India's arms suppliers, in the order of the arms arrays (its own industry last).
ARMS_SUPPLIERS = ("rus", "usa", "eu", "domestic")
HOLD_LABEL = "keeps its crude, arms and trade policies as they are"

SETTINGS = (
    make_setting("ind.crude_share_from_rus", 0.351, 0, 1, "share of crude imports", "data",
                 "CPR India from DGCIS, FY2024-25 (35.1% by value, 35.8% by volume), 2025-09-19",
                 "Russia's share of India's crude imports at the start"),
    make_setting("ind.crude_ceiling", 1.0, 0, 1, "share of crude imports", "judgement",
                 "no government ceiling in 2025", "Government ceiling on the Russian share of India's crude"),
    make_setting("ind.tariff_on_usa", 0.12, 0, 2, "fraction", "judgement",
                 "India's trade-weighted applied tariff, about 12% (WTO tariff profiles 2024)",
                 "Indian tariff on US goods"),
    make_setting("ind.rupee_settlement_push", 0.0, 0, 1, "0-1 intensity", "judgement",
                 "policy lever for the $100bn-by-2030 programme (summit 2025-12-05)",
                 "India-Russia trade push: rupee settlement, credit lines, export promotion"),
    make_setting("ind.instc", 0.0, 0, 1, "0-1 (corridor fully working = 1)", "judgement",
                 "INSTC volumes small and uncertain (Trend.az 2023, low confidence)",
                 "North-South transport corridor in use"),
    make_setting("ind.arms_tilt_west", 0.0, -2, 2, "logit units", "judgement",
                 "policy bias of arms orders towards Western suppliers (negative: towards Russia)",
                 "India's arms-procurement tilt"),
    make_setting("ind.crude_imports_mbd", 4.9, 0.5, 10, "mb/d", "data",
                 "PPAC (Petroleum Planning & Analysis Cell), crude imports FY2024-25: about 4.9 mb/d", "India's crude imports"),
    make_setting("ind.listed_floor_share", 0.08, 0, 0.45, "share of India's crude imports", "data",
                 "Nayara Energy's Vadinar refinery (20 Mt/yr, about 0.4 mb/d; 49% Rosneft) kept running Russian crude "
                 "after its EU listing (Reuters 2025-07); 0.4 / 4.9 mb/d",
                 "Russian crude India keeps taking from listed sellers whatever the listings (Nayara)"),
    make_setting("ind.audience_cost_usd_bn", 12.0, 0, 20, "USD bn", "calibrated",
                 "lower bound: India kept about a third Russian crude through 2025Q4 under the US penalty of 27 Aug 2025 "
                 "(quarterly target Q_SHARE_2025Q4) and called it 'unfair, unjustified and unreasonable' (MEA, 6 Aug 2025); "
                 "in the hindcast capping is worth about 9-11 $bn to India by 2025Q4, so yielding must cost more (Fearon 1994; "
                 "Tomz 2007, International Organization 61(4): leaders who back down after a threat lose approval)",
                 "India's one-off cost of visibly yielding to coercion (capping Russian crude while the US penalty applies)"),
    make_setting("ind.weight_autonomy", 10.0, 0, 100, "USD bn per unit", "judgement",
                 "strategic autonomy as diversification (1 - Herfindahl) of crude, arms and export markets",
                 "India's value of strategic autonomy"),
    make_setting("ind.crude_other_suppliers_hhi", 0.135, 0, 1, "Herfindahl index", "data",
                 "Kpler via Construction World, 2025-04 (March 2025, the last month of FY2024-25): Iraq 0.90, Saudi Arabia "
                 "0.56, UAE 0.43, US 0.29 mb/d of 3.42 mb/d non-Russian; the other 1.24 mb/d taken as 8 equal suppliers (judgement)",
                 "Concentration of India's non-Russian crude suppliers in their observed proportions (sum of squared shares)"),
    make_setting("ind.weight_alignment", 4.0, 0, 100, "USD bn per unit affinity", "judgement",
                 "India values good relations with both the US and Russia", "India's value of affinity with the US and Russia"),
    *behaviour_settings(CODE, "India", "India"),
)

INSTRUMENTS = (
    Instrument("ind.crude_ceiling", "crude_ceiling_ind"),
    Instrument("ind.tariff_on_usa", "tariff", ("ind", "usa")),
    Instrument("ind.rupee_settlement_push", "rupee_push"),
    Instrument("ind.instc", "instc"),
    Instrument("ind.arms_tilt_west", "arms_tilt_west"),
)


def _cap_russian_crude(world: World, rows: Rows) -> None:
    """Under the US penalty: comply, i.e. cut below its threshold; otherwise cut 10 points.

    (A cut that leaves India above the threshold answers no demand; it would only pay through
    India's buyer power over the discount, which Indian refiners, as price takers, do not use.)
    """
    share = world.crude_share[rows, world.layout.buyer(CODE)]
    penalty = penalty_applies(world, rows)
    comply = np.maximum(world.oil_penalty_threshold[rows] - 0.01, 0.0)
    ceiling = np.where(penalty, comply, np.maximum(np.round(share - 0.10, 2), 0.0))
    set_instrument(world, "ind.crude_ceiling", np.minimum(ceiling, world.crude_ceiling_ind[rows]), rows)


def _accept_deal(world: World, rows: Rows) -> None:
    """Take the US offer: the deal's crude ceiling and tariff, no oil penalty, a deal concluded."""
    set_instrument(world, "ind.crude_ceiling", world.deal_ceiling[rows], rows)
    set_instrument(world, "usa.base_tariff_on_ind", world.deal_tariff[rows], rows)
    set_instrument(world, "usa.oil_penalty_tariff_on_ind", 0.0, rows)
    world.deal_accepted[rows] = 1.0
    world.deal_offer[rows] = 0.0
    bump(("usa", "ind"))(world, rows)


MENU = (
    hold(CODE, HOLD_LABEL),
    Move("cap_russian_crude", CODE, "procurement",
         "caps Russian crude (below the US penalty threshold if the penalty applies, else 10 points lower)",
         _cap_russian_crude, lambda w: (w.crude_share[:, w.layout.buyer(CODE)] > 0.02) & under_pressure(w),
         backs_down=penalty_bites, opposite="lift_crude_ceiling"),
    Move("lift_crude_ceiling", CODE, "procurement", "lifts its ceiling on Russian crude",
         set_to(ind__crude_ceiling=1.0), lambda w: no_deal(w) & below("ind.crude_ceiling", 1.0)(w),
         opposite="cap_russian_crude"),
    Move("accept_us_deal", CODE, "tariff", "accepts the US offer: lower tariff, crude ceiling",
         _accept_deal, deal_open, commitment=True),
    Move("trade_push_russia", CODE, "procurement", "pushes trade with Russia in rupees and via INSTC",
         both(set_to(ind__rupee_settlement_push=1.0, ind__instc=1.0), bump(("rus", "ind"), 0.5)),
         below("ind.rupee_settlement_push", 1.0), opposite="drop_trade_push"),
    Move("drop_trade_push", CODE, "procurement", "drops its trade push with Russia (rupees, INSTC)",
         both(set_to(ind__rupee_settlement_push=0.0, ind__instc=0.0), bump(("rus", "ind"), -0.5)),
         lambda w: (w.rupee_push > 0) | (w.instc > 0), opposite="trade_push_russia"),
    Move("arms_tilt_west", CODE, "procurement", "tilts arms orders towards the US and Europe",
         adjust("ind.arms_tilt_west", 0.5, -2, 2), below("ind.arms_tilt_west", 2.0),
         opposite="arms_tilt_russia"),
    Move("arms_tilt_russia", CODE, "procurement", "tilts arms orders towards Russia",
         adjust("ind.arms_tilt_west", -0.5, -2, 2), above("ind.arms_tilt_west", -2.0),
         opposite="arms_tilt_west"),
    Move("retaliate_tariff", CODE, "tariff", "raises its tariff on US goods by 10 points",
         adjust("ind.tariff_on_usa", 0.10, 0, 1), below("ind.tariff_on_usa", 1.0),
         opposite="cut_tariff_on_usa"),
    Move("cut_tariff_on_usa", CODE, "tariff", "cuts its tariff on US goods by 10 points",
         adjust("ind.tariff_on_usa", -0.10, 0, 1), above("ind.tariff_on_usa", 0.0),
         opposite="retaliate_tariff"),
)

#: India answers others; it anticipates no reply itself.
ANTICIPATES = None

#: What India wants, in plain words, tied to columns of the quarterly table (+1 more, -1 less).
OBJECTIVES = (
    ("a low crude bill: the discount on Russian crude saves money", "india_oil_savings_usd_bn", 1, "bn"),
    ("a low oil price", "brent_usd", -1, "usd_bbl"),
    ("exports to the US", "exports_ind_to_usa_usd_bn", 1, "bn"),
    ("exports to the EU", "exports_ind_to_eu_usd_bn", 1, "bn"),
    ("autonomy: not depending on one side", "india_autonomy", 1, "index"),
    ("good relations with the US", "alignment_usa_ind", 1, "index"),
    ("good relations with Russia", "alignment_rus_ind", 1, "index"),
)


def _us_deal_on_indias_terms(terms: dict, instruments: dict) -> dict:
    """India's counter-proposal, accepted by the US: the US offer with the terms India asked for
    (set as the US-India deal of the US player, ``usa.deal_*``, which India's move then formally
    accepts) and India's own tariff on US goods at the level it offered."""
    return {"usa.deal_offer": 1.0, "usa.deal_tariff_on_ind": terms["tariff"],
            "usa.deal_crude_ceiling": terms["ceiling"], "ind.tariff_on_usa": terms["own_tariff"]}


#: Deals India can offer in a class game (the format of the US player's ``DEALS``). India
#: negotiated rather than only answered:
#:
#: * it countered the US on the trade deal: the interim US-India framework cut the US tariff to 18%
#:   and dropped the 25% oil penalty against India's commitment on Russian oil and lower Indian
#:   tariffs on US goods (joint statement of the White House and India's Commerce Ministry,
#:   2026-02-07; the penalty's removal effective the same day);
#: * it concluded the FTA with the EU at the 16th EU-India summit (New Delhi, 2026-01-27; talks
#:   relaunched 2022-06, ``model/data/policy_timeline.csv``). The FTA is enforced through the EU's
#:   move, which sets the EU's tariff on Indian goods to zero; India's own tariff cuts under it are
#:   not in the model (there is no Indian tariff on EU goods);
#: * it asks its arms suppliers for production in India (the Indo-Russian AK-203 rifle venture at
#:   Korwa, 2019).
DEALS = (
    {"kind": "ind_us_deal", "to": "usa",
     "title": "a ceiling on its Russian crude and a lower Indian tariff on US goods, for a lower US tariff",
     "terms": (("tariff", "US tariff on Indian goods", 0.0, 0.5, 0.05, 0.15, "pct"),
               ("ceiling", "India's ceiling on Russian crude", 0.0, 0.4, 0.05, 0.10, "pct"),
               ("own_tariff", "India's tariff on US goods", 0.0, 0.3, 0.02, 0.12, "pct")),
     "commits": (("ind", "accept_us_deal", 0),), "sets": _us_deal_on_indias_terms},
    {"kind": "ind_eu_fta", "to": "eu",
     "title": "the EU-India free-trade agreement (EU tariffs on Indian goods to zero)",
     "terms": (), "commits": (("eu", "fta_with_india", 0),)},
    {"kind": "ind_coproduction", "to": "rus",
     "title": "an arms order for more Russian co-production in India",
     "terms": (), "commits": (("rus", "coproduction_offer", 0), ("ind", "arms_tilt_russia", 0))},
)


def utility_terms(world, m: dict, s) -> dict[str, np.ndarray]:
    """India's own utility terms (USD bn a quarter, besides its exports): its crude bill (Brent
    less the discount it gets), strategic autonomy at ``ind.weight_autonomy``, the cost of the EU's
    product ban and secondary measures on the Russian barrels it still buys, and affinity with
    the US and Russia at ``ind.weight_alignment``."""
    p = s.params
    b = s.layout.buyer(CODE)
    ind, usa, rus = s.layout.node(CODE), s.layout.node("usa"), s.layout.node("rus")
    bill = s.crude_imports_mbd[..., b] * BN_PER_MBD_USD * world.brent_usd - m["india_oil_savings_usd_bn"]
    # EU product ban and secondary measures: a cost on every barrel still bought from Russia
    # (segregating refinery runs, lost fuel sales to the EU, sanctioned counterparties). The
    # same per-barrel costs enter refiners' choice as risk; here they are counted as welfare.
    per_barrel = (world.product_ban * p["world.product_ban_cost_usd"]
                  + world.eu_secondary_on_ind * p["world.eu_secondary_cost_usd"])
    russian_mbd = s.crude_imports_mbd[..., b] * world.crude_share[:, b]
    return {
        "crude_bill": -bill / 4.0,
        "autonomy": p["ind.weight_autonomy"] * m["india_autonomy"],
        "eu_measures_cost": -per_barrel * russian_mbd * BN_PER_MBD_USD / 4.0,
        "affinity_with_us_and_russia": p["ind.weight_alignment"] * (
            world.affinity[:, ind, usa] + world.affinity[:, ind, rus]),
    }


def context(m: dict, world, s) -> str:
    """What India saw last quarter, in a sentence a student can check on the charts."""
    text = (f"Context: Russia supplies {m['crude_share_ind_from_rus']:.0%} of India's crude; the delivered "
            f"discount of ${m['urals_discount_delivered_ind_usd']:.1f}/bbl is worth "
            f"${m['india_oil_savings_usd_bn']:.1f}bn a year; the US tariff on Indian goods is "
            f"{m['tariff_usa_on_ind']:.0%}")
    if m["oil_penalty_in_force"] > 0:
        exposed = m["exports_ind_to_usa_usd_bn"] * (1 - s.p("usa.tariff_exempt_share_ind"))
        text += (f", of which the {world.oil_penalty[0]:.0%} oil penalty applies to about "
                 f"${exposed:.0f}bn of exports a year")
    return text + "."
