"""Russia: discounts, arms co-production and rupee recycling to keep India buying.

The crude seller (:mod:`geogame.model.layout`): its barrels are what the others buy, sanction
and cap. It can offer Indian buyers an extra discount, offer arms co-production and reinvest the
rupees it cannot spend. It wants oil revenue, arms orders from India, affinity with India, and
no pile of idle rupees.
"""
from __future__ import annotations

import numpy as np

from geogame.agents.menu import Move, above, adjust, below, both, bump, hold, set_to
from geogame.model.instruments import Instrument
from geogame.model.parameters import behaviour_settings, make_setting

CODE = "rus"
LABEL = "Russia"
SHORT_LABEL = "Russia"
COLOUR = "#D55E00"          # Okabe-Ito vermillion
#: Where the app draws it on the trade network (x, y in [-1, 1]; y up).
MAP_POSITION = (1.0, 0.55)
ROLES = ("crude_seller",)
HOLD_LABEL = "keeps its prices and offers to India as they are"

SETTINGS = (
    make_setting("rus.extra_discount_ind_usd", 0.0, 0, 30, "USD/bbl", "judgement",
                 "Rosneft-Reliance contract at Dubai minus $3 (Reuters 2024-12-12) shows such terms exist",
                 "Extra discount Russia offers Indian buyers"),
    make_setting("rus.coproduction_offer", 0.5, 0, 1, "0-1 intensity", "judgement",
                 "BrahMos, Su-30MKI at HAL, AK-203: existing joint production; intensity judged",
                 "Russian technology transfer and co-production offered to India"),
    make_setting("rus.rupee_recycling", 0.0, 0, 1, "0-1 intensity", "judgement",
                 "Russian reinvestment of rupee balances (bonds, projects) is discussed, little done",
                 "Russia reinvests its rupee balance in India"),
    make_setting("rus.crude_supply_elasticity", 0.08, 0, 1, "-", "literature",
                 "short-run oil supply elasticity about 0.1 or less (Caldara, Cavallo & Iacoviello 2019; Baumeister & Hamilton 2019)",
                 "Elasticity of Russia's crude exports to its netback price (Urals at the port)"),
    make_setting("rus.crude_supply_floor_usd", 20.0, 0, 80, "USD/bbl", "judgement",
                 "Russia kept exporting with Urals near $35 at the port (Dec 2025, Reuters); upstream cash costs ~$10-20",
                 "Urals price at the port below which Russia shuts in or refines at home rather than export"),
    make_setting("rus.crude_exports_mbd", 4.7, 1, 8, "mb/d", "data",
                 "IEA/Kpler: about 4.7 mb/d of crude exports in 2025 (IEA OMR Dec 2025)",
                 "Russia's crude exports (short-run inelastic)"),
    make_setting("rus.rupee_balance_usd_bn", 8.0, 0, 500, "USD bn", "judgement",
                 "press estimates of unspent rupee balances vary widely (Reuters 2023-05: Moscow wary of surplus)",
                 "Russia's unspendable rupee balance at the start"),
    make_setting("rus.settlement_local_share", 0.90, 0, 1, "share of payments", "data",
                 "Manturov via Interfax 2025-08-20: >90% in national currencies (Russian claim, medium confidence)",
                 "Share of India-Russia payments settled in rupees and roubles"),
    make_setting("rus.weight_alignment_ind", 8.0, 0, 100, "USD bn per unit affinity", "judgement",
                 "Russia's need for a large buyer and partner", "Russia's value of affinity with India"),
    make_setting("rus.weight_rupee_balance", 0.05, 0, 1, "USD bn per USD bn per quarter", "judgement",
                 "opportunity cost of unspendable rupees (Reuters 2023-05-04)", "Russia's cost of holding rupees"),
    *behaviour_settings(CODE, "Russia", "Russia"),
    make_setting("rus.audience_cost_usd_bn", 1.5, 0, 20, "USD bn", "judgement",
                 "Fearon 1994: backing down under public pressure is costly", "Russia's one-off cost of backing down"),
)

INSTRUMENTS = (
    Instrument("rus.extra_discount_ind_usd", "extra_discount_ind_usd"),
    Instrument("rus.coproduction_offer", "coproduction_offer"),
    Instrument("rus.rupee_recycling", "rupee_recycling"),
)

#: Largest extra discount to India that Russia's own moves reach, USD/bbl (judgement: five steps
#: of $2); a class game's deal stays inside it too.
MAX_EXTRA_DISCOUNT_USD = 10.0

MENU = (
    hold(CODE, HOLD_LABEL),
    Move("discount_to_india", CODE, "sanction", "offers Indian buyers $2/bbl more discount",
         adjust("rus.extra_discount_ind_usd", 2.0, 0, MAX_EXTRA_DISCOUNT_USD),
         below("rus.extra_discount_ind_usd", MAX_EXTRA_DISCOUNT_USD),
         opposite="withdraw_discount"),
    Move("withdraw_discount", CODE, "sanction", "withdraws $2/bbl of its extra discount to India",
         adjust("rus.extra_discount_ind_usd", -2.0, 0, MAX_EXTRA_DISCOUNT_USD), above("rus.extra_discount_ind_usd", 0.0),
         opposite="discount_to_india"),
    Move("coproduction_offer", CODE, "procurement", "offers India more arms co-production and technology",
         both(adjust("rus.coproduction_offer", 0.5, 0, 1), bump(("rus", "ind"), 0.5)),
         below("rus.coproduction_offer", 1.0), opposite="withdraw_coproduction"),
    Move("withdraw_coproduction", CODE, "procurement", "scales back its arms co-production offer to India",
         both(adjust("rus.coproduction_offer", -0.5, 0, 1), bump(("rus", "ind"), -0.5)),
         above("rus.coproduction_offer", 0.0), opposite="coproduction_offer"),
    Move("recycle_rupees", CODE, "sanction", "reinvests its idle rupees in India",
         set_to(rus__rupee_recycling=1.0), below("rus.rupee_recycling", 1.0), opposite="stop_recycling"),
    Move("stop_recycling", CODE, "sanction", "stops reinvesting its rupees in India",
         set_to(rus__rupee_recycling=0.0), above("rus.rupee_recycling", 0.0), opposite="recycle_rupees"),
)

#: India answers: it may lift a ceiling on Russian crude or tilt its arms orders towards Russia.
ANTICIPATES = ("ind", ("lift_crude_ceiling", "arms_tilt_russia"))

#: What Russia wants, in plain words, tied to columns of the quarterly table (+1 more, -1 less).
OBJECTIVES = (
    ("crude-oil revenue", "russia_crude_revenue_usd_bn", 1, "bn"),
    ("India's arms orders", "arms_share_ind_from_rus", 1, "pct"),
    ("India on Russia's side (affinity)", "alignment_rus_ind", 1, "index"),
    ("no pile of idle rupees it cannot spend", "rupee_balance_usd_bn", -1, "bn"),
    ("exports to India", "exports_rus_to_ind_usd_bn", 1, "bn"),
)


def _more_discount(terms: dict, instruments: dict) -> dict:
    """The extra discount agreed, on top of the one in force, up to :data:`MAX_EXTRA_DISCOUNT_USD`."""
    return {"rus.extra_discount_ind_usd": min(MAX_EXTRA_DISCOUNT_USD,
                                              instruments["rus.extra_discount_ind_usd"] + terms["discount"])}


#: Deals Russia can offer in a class game (the format of the US player's ``DEALS``).
DEALS = (
    {"kind": "rus_discount_arms", "to": "ind", "title": "an extra Russian crude discount for an arms order",
     "terms": (("discount", "extra discount on Russian crude", 1.0, 6.0, 1.0, 2.0, "usd_bbl"),),
     "commits": (("ind", "arms_tilt_russia", 0),), "sets": _more_discount,
     "limit": ("rus.extra_discount_ind_usd", "discount", MAX_EXTRA_DISCOUNT_USD)},
    {"kind": "rus_coproduction", "to": "ind", "title": "Russian arms co-production for an arms order",
     "terms": (), "commits": (("rus", "coproduction_offer", 0), ("ind", "arms_tilt_russia", 0))},
)


def utility_terms(world, m: dict, s) -> dict[str, np.ndarray]:
    """Russia's own utility terms (USD bn a quarter, besides its exports): oil revenue, arms
    orders from India, affinity with India at ``rus.weight_alignment_ind``, and the cost of idle
    rupees at ``rus.weight_rupee_balance``."""
    p = s.params
    return {
        "oil_revenue": m["russia_crude_revenue_usd_bn"] / 4.0,
        "arms_orders": m["arms_share_ind_from_rus"] * (1 - m["arms_share_ind_domestic"]) * p["world.arms_orders_usd_bn"] / 4.0,
        "affinity_with_india": p["rus.weight_alignment_ind"] * world.affinity[:, s.layout.node(CODE), s.layout.node("ind")],
        "idle_rupees": -p["rus.weight_rupee_balance"] * world.rupee_balance_usd_bn,
    }


def context(m: dict, world, s) -> str:
    """What Russia saw last quarter, in a sentence a student can check on the charts."""
    return (f"Context: India takes {m['crude_imports_ind_from_rus_mbd']:.2f} mb/d of Russian crude; the "
            f"discount is ${m['urals_discount_fob_usd']:.1f}/bbl at the port; crude revenue runs at "
            f"${m['russia_crude_revenue_usd_bn']:.0f}bn a year; idle rupees ${m['rupee_balance_usd_bn']:.1f}bn.")
