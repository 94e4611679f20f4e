"""The European Union: sanctions packages, the price cap, secondary measures and an FTA with India.

The cap setter (:mod:`geogame.model.layout`): it sets the price cap and its enforcement, the ban
on fuels refined from Russian crude, and may put secondary measures on Indian refiners or
conclude its FTA with India. It wants less Russian oil revenue, a cheaper crude bill and
affinity with India.
"""
from __future__ import annotations

import numpy as np

from geogame.agents.menu import MAX_ENFORCEMENT, Move, above, adjust, below, both, bump, hold, set_to
from geogame.model.world import BN_PER_MBD_USD
from geogame.model.instruments import Instrument
from geogame.model.parameters import behaviour_settings, make_setting

CODE = "eu"
LABEL = "European Union"
SHORT_LABEL = "EU"
COLOUR = "#009E73"          # Okabe-Ito bluish green
#: Where the app draws it on the trade network (x, y in [-1, 1]; y up).
MAP_POSITION = (0.0, 1.0)
ROLES = ("cap_setter", "sanctioner", "crude_buyer")
HOLD_LABEL = "keeps its sanctions, price cap and tariffs as they are"

SETTINGS = (
    make_setting("eu.price_cap_usd", 47.60, 0, 200, "USD/bbl", "data",
                 "EU 18th package, dynamic cap in force 3 Sep 2025 (Kyiv Independent 2025-08-06)",
                 "Price cap on Russian seaborne crude"),
    make_setting("eu.cap_enforcement", 0.60, 0, 1, "0-1 intensity", "judgement",
                 "partial: shadow fleet carries most cargoes (Spiro et al. 2025); vessel listings 557 by Oct 2025",
                 "How effectively the cap denies Western shipping and insurance"),
    make_setting("eu.crude_embargo", 0.90, 0, 1, "share of pre-war Russian crude barred", "data",
                 "EU seaborne embargo from 5 Dec 2022, pipeline exemption (about 10% of pre-war volume)",
                 "EU embargo on Russian crude"),
    make_setting("eu.crude_embargo_announced", 0.0, 0, 1, "share of pre-war Russian crude barred", "data",
                 "none announced beyond the embargo in force in Dec 2025; precedent: the 6th package of 3 Jun 2022 "
                 "announced the seaborne embargo six months before it applied (5 Dec 2022)",
                 "EU embargo on Russian crude announced for later (beyond the one in force): refiners wind down before it lands"),
    make_setting("eu.sanction_intensity_on_rus", 0.90, 0, 1, "0-1 intensity", "calibrated",
                 "EU imports from Russia fell about 85% after 2022 (Eurostat)",
                 "EU sanctions on Russian goods"),
    make_setting("eu.product_ban", 0.0, 0, 1, "0-1 (in force = 1)", "data",
                 "EU ban on products refined from Russian crude in third countries from 21 Jan 2026 (18th package)",
                 "EU ban on fuels refined from Russian crude in third countries"),
    make_setting("eu.secondary_on_ind", 0.0, 0, 1, "0-1 intensity", "judgement",
                 "what-if: 3 Indian entities listed in the 19th package (Oct 2025); broader measures not taken",
                 "EU secondary measures on Indian refiners that buy Russian crude"),
    make_setting("eu.tariff_on_ind", 0.04, 0, 2, "fraction", "judgement",
                 "EU average applied tariff on Indian goods (MFN/GSP mix, WTO tariff profiles)",
                 "EU tariff on Indian goods"),
    make_setting("eu.weight_rus_revenue", 0.25, 0, 2, "USD bn per USD bn", "judgement",
                 "as above; the EU's exposure to the war is larger", "Value to the EU of a dollar less of Russian oil revenue"),
    make_setting("eu.weight_alignment_ind", 4.0, 0, 100, "USD bn per unit affinity", "judgement",
                 "FTA talks relaunched 2022, target end-2025 (policy_timeline.csv); loosely identified",
                 "EU value of affinity with India"),
    *behaviour_settings(CODE, "EU", "the EU"),
    make_setting("eu.audience_cost_usd_bn", 1.5, 0, 20, "USD bn", "judgement",
                 "Fearon 1994: backing down under public pressure is costly", "EU's one-off cost of backing down"),
)

INSTRUMENTS = (
    Instrument("eu.price_cap_usd", "price_cap_usd"),
    Instrument("eu.cap_enforcement", "cap_enforcement"),
    Instrument("eu.crude_embargo", "crude_embargo", "eu"),
    Instrument("eu.crude_embargo_announced", "crude_embargo_announced", "eu"),
    # EU export bans too: the same intensity on Russia's imports from the EU.
    Instrument("eu.sanction_intensity_on_rus", "sanction", ("eu", "rus"), mirrored=True),
    Instrument("eu.product_ban", "product_ban"),
    Instrument("eu.secondary_on_ind", "eu_secondary_on_ind"),
    Instrument("eu.tariff_on_ind", "tariff", ("eu", "ind")),
)


def _sanction_on_seller(world) -> np.ndarray:
    """The EU's goods sanctions on Russia, (B,)."""
    return world.sanction[:, world.layout.node(CODE), world.layout.node("rus")]


MENU = (
    hold(CODE, HOLD_LABEL),
    Move("tighten_sanctions", CODE, "sanction", "adopts a new sanctions package (vessels, enforcement)",
         both(adjust("eu.cap_enforcement", 0.10, 0, MAX_ENFORCEMENT),
              adjust("eu.sanction_intensity_on_rus", 0.03, 0, 1)),
         lambda w: (w.cap_enforcement < MAX_ENFORCEMENT) | (_sanction_on_seller(w) < 1),
         opposite="ease_sanctions"),
    Move("ease_sanctions", CODE, "sanction", "eases its sanctions (fewer vessels listed, lighter enforcement)",
         both(adjust("eu.cap_enforcement", -0.10, 0, MAX_ENFORCEMENT),
              adjust("eu.sanction_intensity_on_rus", -0.03, 0, 1)),
         lambda w: (w.cap_enforcement > 0) | (_sanction_on_seller(w) > 0), opposite="tighten_sanctions"),
    Move("raise_price_cap", CODE, "sanction", "raises the price cap by $5/bbl",
         adjust("eu.price_cap_usd", 5.0, 20, 200), below("eu.price_cap_usd", 200.0),
         opposite="lower_price_cap"),
    Move("lower_price_cap", CODE, "sanction", "lowers the price cap by $5/bbl",
         adjust("eu.price_cap_usd", -5.0, 20, 200), above("eu.price_cap_usd", 20.0),
         opposite="raise_price_cap"),
    Move("secondary_on_india", CODE, "sanction", "puts secondary measures on Indian refiners",
         set_to(eu__secondary_on_ind=1.0), below("eu.secondary_on_ind", 1.0), opposite="lift_secondary_on_india"),
    Move("lift_secondary_on_india", CODE, "sanction", "lifts its secondary measures on Indian refiners",
         set_to(eu__secondary_on_ind=0.0), above("eu.secondary_on_ind", 0.0), opposite="secondary_on_india"),
    Move("fta_with_india", CODE, "tariff", "concludes the FTA with India (tariffs to zero)",
         both(set_to(eu__tariff_on_ind=0.0), bump(("ind", "eu"))), above("eu.tariff_on_ind", 0.0),
         commitment=True),
)

#: India answers: it may cap its Russian crude.
ANTICIPATES = ("ind", ("cap_russian_crude",))

#: What the EU wants, in plain words, tied to columns of the quarterly table (+1 more, -1 less).
OBJECTIVES = (
    ("less oil revenue for Russia", "russia_crude_revenue_usd_bn", -1, "bn"),
    ("a low oil price (the EU pays Brent for its crude)", "brent_usd", -1, "usd_bbl"),
    ("India on the EU's side (affinity)", "alignment_ind_eu", 1, "index"),
)

#: Deals the EU can offer in a class game (the format of the US player's ``DEALS``).
DEALS = (
    {"kind": "eu_india_fta", "to": "ind",
     "title": "an EU-India free-trade agreement (EU tariffs on Indian goods to zero)",
     "terms": (), "commits": (("eu", "fta_with_india", 0),)},
)


def utility_terms(world, m: dict, s) -> dict[str, np.ndarray]:
    """The EU's own utility terms (USD bn a quarter, besides its exports): Russian oil revenue at
    ``-eu.weight_rus_revenue``, its crude bill at Brent, and affinity with India at
    ``eu.weight_alignment_ind``."""
    p = s.params
    return {
        "russian_oil_revenue": -p["eu.weight_rus_revenue"] * m["russia_crude_revenue_usd_bn"] / 4.0,
        "crude_bill": -s.crude_imports_mbd[..., s.layout.buyer(CODE)] * BN_PER_MBD_USD * world.brent_usd / 4.0,
        "affinity_with_india": p["eu.weight_alignment_ind"] * world.affinity[:, s.layout.node(CODE), s.layout.node("ind")],
    }


def context(m: dict, world, s) -> str:
    """What the EU saw last quarter, in a sentence a student can check on the charts."""
    return (f"Context: the price cap is ${m['price_cap_usd']:.2f}; Urals sells at ${m['urals_price_fob_usd']:.1f} "
            f"at the port; Russia's crude revenue runs at ${m['russia_crude_revenue_usd_bn']:.0f}bn a year.")
