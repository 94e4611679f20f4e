"""The United States: tariffs on India, the oil penalty, seller listings and a deal on offer.

The penaliser (:mod:`geogame.model.layout`): it may put an oil penalty on India's goods while
India buys Russian crude, list Russian sellers with secondary enforcement, and offer India a
lower tariff for a ceiling on its Russian crude. It wants less Russian oil revenue, affinity with
India, tariff revenue net of its deadweight cost, and a lower oil price.
"""
from __future__ import annotations

import numpy as np

from geogame.agents.menu import MAX_ENFORCEMENT, Move, adjust, above, below, both, hold, no_deal, penalty_bites, set_to, deal_open
from geogame.model.world import BN_PER_MBD_USD
from geogame.model.instruments import Instrument
from geogame.model.parameters import behaviour_settings, make_setting

CODE = "usa"
LABEL = "United States"
SHORT_LABEL = "US"
COLOUR = "#0072B2"          # Okabe-Ito blue
#: Where the app draws it on the trade network (x, y in [-1, 1]; y up).
MAP_POSITION = (-1.0, 0.55)
ROLES = ("penaliser", "sanctioner", "crude_buyer")
HOLD_LABEL = "keeps its tariffs and sanctions as they are"

SETTINGS = (
    make_setting("usa.base_tariff_on_ind", 0.25, 0, 2, "fraction", "data",
                 "EO 'Further Modifying the Reciprocal Tariff Rates', 31 Jul 2025 (dtnext, mondaq 2025-07-31)",
                 "US 'reciprocal' tariff on Indian goods, in force from 7 Aug 2025"),
    make_setting("usa.oil_penalty_tariff_on_ind", 0.25, 0, 2, "fraction", "data",
                 "EO 14329, 6 Aug 2025, effective 27 Aug 2025 (ABP Live, NDTV Profit 2025-08-06)",
                 "Additional US tariff on Indian goods while India buys Russian crude"),
    make_setting("usa.oil_penalty_threshold", 0.05, 0, 1, "share of India's crude imports", "judgement",
                 "EO 14329 penalises any purchase; 5% reads 'keeps buying' as more than token cargoes",
                 "India's Russian crude share above which the US oil penalty applies"),
    make_setting("usa.tariff_exempt_share_ind", 0.30, 0, 1, "share of India's exports to the US", "data",
                 "GTRI 2025 (about 30% exempt: pharmaceuticals, electronics); UBS put $24bn of $87bn outside",
                 "Share of Indian exports to the US exempt from the 2025 tariffs (Annex II, s.232 goods)"),
    make_setting("usa.tariff_on_eu", 0.15, 0, 2, "fraction", "data",
                 "US-EU framework agreement, 27 Jul 2025: 15% ceiling on most EU goods",
                 "US tariff on EU goods"),
    make_setting("usa.tariff_on_row", 0.17, 0, 2, "fraction", "judgement",
                 "trade-weighted average of 2025 reciprocal rates on other partners (judgement, Yale Budget Lab range 15-18%)",
                 "US average tariff on the rest of the world"),
    make_setting("usa.crude_embargo", 1.0, 0, 1, "share of Russian crude barred", "data",
                 "EO 14066, 8 Mar 2022", "US ban on imports of Russian crude"),
    make_setting("usa.listed_seller_share", 0.70, 0, 1, "share of Russian crude exports", "data",
                 "OFAC: Gazprom Neft and Surgutneftegas (10 Jan 2025), Rosneft and Lukoil (22 Oct 2025) (policy_timeline.csv)",
                 "Share of Russian crude sold by sellers on the US sanctions list"),
    make_setting("usa.secondary_enforcement", 0.50, 0, 1, "0-1 intensity", "judgement",
                 "wind-down GL 126 to 21 Nov 2025; banks' secondary-sanctions risk (policy_timeline.csv)",
                 "How hard the US enforces its listings against foreign buyers and banks"),
    make_setting("usa.sanction_intensity_on_rus", 0.90, 0, 1, "0-1 intensity", "judgement",
                 "US goods trade with Russia fell about 90% 2021-2024 (US Census: $36bn to $3.5bn)",
                 "US sanctions on Russian goods (trade-cost wedge exp(delta * s))"),
    make_setting("usa.deal_offer", 0.0, 0, 1, "0/1", "judgement",
                 "what-if: a lower tariff in exchange for a Russian-crude ceiling (reported US-India talks, autumn 2025)",
                 "1 if the US offers India the tariff-for-ceiling deal at the start", integer=True),
    make_setting("usa.deal_tariff_on_ind", 0.15, 0, 2, "fraction", "judgement",
                 "what-if: roughly the rate of comparable Asian partners' 2025 deals (15-20%)",
                 "Total US tariff on India under the deal"),
    make_setting("usa.deal_crude_ceiling", 0.10, 0, 1, "share of crude imports", "judgement",
                 "what-if: back to about the FY2022-23 share (RBI 19%) or lower",
                 "Russian crude share India must stay under to keep the deal"),
    make_setting("usa.weight_tariff_revenue", 0.5, 0, 2, "USD bn per USD bn", "judgement",
                 "the 2025 administration counts tariff revenue as a gain (half weight: it is paid by US buyers)",
                 "Value to the US of a dollar of tariff revenue from Indian goods"),
    make_setting("usa.weight_oil_price", 0.3, 0, 2, "USD bn per USD bn", "judgement",
                 "US motorists and politics dislike a higher oil price, though the US is a net exporter",
                 "Weight the US puts on the cost of its crude imports at Brent"),
    make_setting("usa.weight_rus_revenue", 0.15, 0, 2, "USD bn per USD bn", "judgement",
                 "the stated aim of the G7/EU price cap is lower Russian oil revenue with oil still flowing; loosely identified",
                 "Value to the US of a dollar less of Russian oil revenue"),
    make_setting("usa.weight_alignment_ind", 8.0, 0, 100, "USD bn per unit affinity", "judgement",
                 "India as a partner against China (Quad); loosely identified", "US value of affinity with India"),
    *behaviour_settings(CODE, "US", "the US"),
    make_setting("usa.audience_cost_usd_bn", 1.5, 0, 20, "USD bn", "judgement",
                 "Fearon 1994: backing down under public pressure is costly", "US's one-off cost of backing down"),
)

INSTRUMENTS = (
    Instrument("usa.base_tariff_on_ind", "tariff", ("usa", "ind")),
    Instrument("usa.oil_penalty_tariff_on_ind", "oil_penalty"),
    Instrument("usa.oil_penalty_threshold", "oil_penalty_threshold"),
    Instrument("usa.tariff_on_eu", "tariff", ("usa", "eu")),
    Instrument("usa.tariff_on_row", "tariff", ("usa", "row")),
    Instrument("usa.crude_embargo", "crude_embargo", "usa"),
    Instrument("usa.listed_seller_share", "listed_seller_share"),
    Instrument("usa.secondary_enforcement", "secondary_enforcement"),
    # US export controls too: the same intensity on Russia's imports from the US.
    Instrument("usa.sanction_intensity_on_rus", "sanction", ("usa", "rus"), mirrored=True),
    Instrument("usa.deal_offer", "deal_offer"),
    Instrument("usa.deal_tariff_on_ind", "deal_tariff"),
    Instrument("usa.deal_crude_ceiling", "deal_ceiling"),
)

MENU = (
    hold(CODE, HOLD_LABEL),
    Move("raise_oil_penalty", CODE, "tariff", "raises the oil penalty on India by 10 points",
         adjust("usa.oil_penalty_tariff_on_ind", 0.10, 0, 1),
         lambda w: no_deal(w) & below("usa.oil_penalty_tariff_on_ind", 1.0)(w),
         opposite="lower_oil_penalty"),
    Move("lower_oil_penalty", CODE, "tariff", "lowers the oil penalty on India by 10 points",
         adjust("usa.oil_penalty_tariff_on_ind", -0.10, 0, 1),
         lambda w: no_deal(w) & above("usa.oil_penalty_tariff_on_ind", 0.0)(w),
         backs_down=penalty_bites, opposite="raise_oil_penalty"),
    Move("drop_oil_penalty", CODE, "tariff", "drops the oil penalty on India altogether",
         set_to(usa__oil_penalty_tariff_on_ind=0.0),
         lambda w: no_deal(w) & above("usa.oil_penalty_tariff_on_ind", 0.10)(w),
         backs_down=penalty_bites, opposite="raise_oil_penalty"),
    Move("raise_tariff_on_ind", CODE, "tariff", "raises its base tariff on India by 10 points",
         adjust("usa.base_tariff_on_ind", 0.10, 0, 2),
         lambda w: no_deal(w) & below("usa.base_tariff_on_ind", 2.0)(w),
         opposite="cut_tariff_on_ind"),
    Move("cut_tariff_on_ind", CODE, "tariff", "cuts its base tariff on India by 10 points",
         adjust("usa.base_tariff_on_ind", -0.10, 0, 2),
         lambda w: no_deal(w) & above("usa.base_tariff_on_ind", 0.0)(w),
         opposite="raise_tariff_on_ind"),
    Move("offer_deal", CODE, "tariff", "offers India a lower tariff for a Russian-crude ceiling",
         set_to(usa__deal_offer=1.0),
         lambda w: (w.deal_offer == 0) & (w.deal_accepted == 0), opposite="withdraw_offer"),
    Move("withdraw_offer", CODE, "tariff", "withdraws its offer of a deal to India",
         set_to(usa__deal_offer=0.0), deal_open, opposite="offer_deal"),
    Move("tighten_listings", CODE, "sanction", "lists more Russian sellers, with harder enforcement",
         both(adjust("usa.listed_seller_share", 0.10, 0, 1),
              adjust("usa.secondary_enforcement", 0.10, 0, MAX_ENFORCEMENT)),
         lambda w: (w.listed_seller_share < 1) | (w.secondary_enforcement < MAX_ENFORCEMENT),
         opposite="loosen_listings"),
    Move("loosen_listings", CODE, "sanction", "delists some Russian sellers, with lighter enforcement",
         both(adjust("usa.listed_seller_share", -0.10, 0, 1),
              adjust("usa.secondary_enforcement", -0.10, 0, MAX_ENFORCEMENT)),
         lambda w: (w.listed_seller_share > 0) | (w.secondary_enforcement > 0),
         opposite="tighten_listings"),
)

#: India answers: it may accept an offer or cap its Russian crude.
ANTICIPATES = ("ind", ("accept_us_deal", "cap_russian_crude"))

#: What the US wants, in plain words, each tied to a column of the quarterly table and the way it
#: wants it to move (+1 more, -1 less): the terms of :func:`utility_terms` for a class's scores.
#: ``tariff_revenue`` is computed by the class game (tariff times Indian exports to the US).
OBJECTIVES = (
    ("US exports to India", "exports_usa_to_ind_usd_bn", 1, "bn"),
    ("revenue from its tariff on Indian goods", "tariff_revenue", 1, "bn"),
    ("less oil revenue for Russia", "russia_crude_revenue_usd_bn", -1, "bn"),
    ("India on the US side (affinity)", "alignment_usa_ind", 1, "index"),
    ("a low oil price", "brent_usd", -1, "usd_bbl"),
)


def _deal_terms_in_force(terms: dict, instruments: dict) -> dict:
    """The US offer with the terms agreed, set at the start of the round's quarter."""
    return {"usa.deal_offer": 1.0, "usa.deal_tariff_on_ind": terms["tariff"],
            "usa.deal_crude_ceiling": terms["ceiling"]}


#: Deals the US can offer another player in a class game: kind, receiver, title, negotiable
#: terms ``(key, label, low, high, step, default, unit)``, the moves it commits the parties to
#: ``(country, move, 0 this round / 1 next round)`` and the instruments it sets when accepted.
DEALS = (
    {"kind": "us_india_deal", "to": "ind", "title": "a lower US tariff for a ceiling on Russian crude",
     "terms": (("tariff", "US tariff on Indian goods", 0.0, 0.5, 0.05, 0.15, "pct"),
               ("ceiling", "India's ceiling on Russian crude", 0.0, 0.4, 0.05, 0.10, "pct")),
     "commits": (("ind", "accept_us_deal", 0),), "sets": _deal_terms_in_force},
)


def utility_terms(world, m: dict, s) -> dict[str, np.ndarray]:
    """The US's own utility terms (USD bn a quarter, besides its exports): tariff revenue from
    Indian goods at ``usa.weight_tariff_revenue`` less the tariff's deadweight cost to US buyers,
    Russian oil revenue at ``-usa.weight_rus_revenue``, affinity with India at
    ``usa.weight_alignment_ind``, and its crude imports at Brent at ``-usa.weight_oil_price``."""
    p = s.params
    usa, ind = s.layout.node(CODE), s.layout.node("ind")
    flows = world.goods_flow_usd_bn
    t = m["tariff_usa_on_ind"] * (1.0 - p["usa.tariff_exempt_share_ind"])
    return {
        "tariff_deadweight": -0.5 * p["world.trade_elasticity"] * t ** 2 * flows[:, usa, ind] / 4.0,
        "tariff_revenue": p["usa.weight_tariff_revenue"] * t * flows[:, usa, ind] / 4.0,
        "russian_oil_revenue": -p["usa.weight_rus_revenue"] * m["russia_crude_revenue_usd_bn"] / 4.0,
        "affinity_with_india": p["usa.weight_alignment_ind"] * world.affinity[:, usa, ind],
        "oil_price": -p["usa.weight_oil_price"] * s.crude_imports_mbd[..., s.layout.buyer(CODE)] * BN_PER_MBD_USD
        * world.brent_usd / 4.0,
    }


def context(m: dict, world, s) -> str:
    """What the US saw last quarter, in a sentence a student can check on the charts."""
    return (f"Context: Russia supplies {m['crude_share_ind_from_rus']:.0%} of India's crude; Russia's crude "
            f"revenue runs at ${m['russia_crude_revenue_usd_bn']:.0f}bn a year; India exports "
            f"${m['exports_ind_to_usa_usd_bn']:.0f}bn a year to the US at a {m['tariff_usa_on_ind']:.0%} tariff.")
