"""Each country's menu of moves: one move a quarter, each a change to the policies it controls.

A move knows which of the three kinds of policy it belongs to (tariff, sanction, procurement),
whether it is available in the current world, how to apply itself to rows of a batched world,
and whether taking it means backing down under pressure (which costs audience costs, Fearon 1994).

Every lever has a way back: each move names its ``opposite`` on the same menu (raise and lower
a tariff or the price cap, impose and lift a measure, offer and withdraw), so that choice noise
cannot ratchet a policy one way. The exceptions are the two *commitments*, a US deal India has
accepted and the EU-India FTA: concluded agreements that the game does not undo.
:data:`ANTICIPATED_REPLIES` says whose answer a proposer weighs when it values its moves.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from geogame.model.nodes import COUNTRIES
from geogame.model.world import World
from geogame.model.instruments import get_instrument, set_instrument
from geogame.model.nodes import B_IND

Rows = np.ndarray | slice

#: Enforcement never closes every channel (shadow fleet, third-country banks): judgement.
MAX_ENFORCEMENT = 0.8


@dataclass(frozen=True)
class Move:
    """One entry of a country's menu.

    ``available`` and ``backs_down`` take a batched :class:`~geogame.model.world.World` and return
    a ``(B,)`` boolean array, one answer per world of the batch (a caller with one world reads
    ``[0]``).
    """

    name: str
    country: str
    kind: str             # "hold", "tariff", "sanction" or "procurement"
    label: str            # plain words for the event log and the app
    apply: Callable[[World, Rows], None]
    available: Callable[[World], np.ndarray] = lambda w: np.ones(w.batch, dtype=bool)
    backs_down: Callable[[World], np.ndarray] = lambda w: np.zeros(w.batch, dtype=bool)
    opposite: str = ""    # the move on the same menu that takes this one back ("" for hold and commitments)
    commitment: bool = False  # a concluded agreement (a deal accepted, an FTA): not undone within a run


def _adjust(key: str, delta: float, low: float, high: float):
    def apply(world: World, rows: Rows) -> None:
        value = get_instrument(world, key)[rows] + delta
        set_instrument(world, key, np.minimum(np.maximum(value, low), high), rows)
    return apply


def _set(**values: float):
    def apply(world: World, rows: Rows) -> None:
        for key, value in values.items():
            set_instrument(world, key.replace("__", "."), value, rows)
    return apply


def _below(key: str, limit: float):
    return lambda w: get_instrument(w, key) < limit - 1e-9


def _above(key: str, limit: float):
    return lambda w: get_instrument(w, key) > limit + 1e-9


_HOLD_LABELS = {
    "usa": "keeps its tariffs and sanctions as they are",
    "rus": "keeps its prices and offers to India as they are",
    "ind": "keeps its crude, arms and trade policies as they are",
    "eu": "keeps its sanctions, price cap and tariffs as they are",
}


def _hold(country: str) -> Move:
    return Move("hold", country, "hold", _HOLD_LABELS[country], lambda w, r: None)


def _penalty_applies(world: World, rows: Rows = slice(None)) -> np.ndarray:
    """Where the US oil penalty is set and India buys more Russian crude than its threshold allows.

    Read from India's share now (the penalty is levied on that basis next quarter), not from the
    lagged ``penalty_active`` flag, so that a penalty announced this quarter already counts.
    """
    return (world.oil_penalty[rows] > 0) & (world.crude_share[rows, B_IND] > world.oil_penalty_threshold[rows])


def _penalty_bites(world: World) -> np.ndarray:
    return _penalty_applies(world)


def _bump(pair: tuple[str, str], amount: float = 1.0):
    i, j = COUNTRIES.index(pair[0]), COUNTRIES.index(pair[1])

    def apply(world: World, rows: Rows) -> None:
        world.deal_bump[rows, i, j] += amount
        world.deal_bump[rows, j, i] += amount
    return apply


def _both(*fns):
    def apply(world: World, rows: Rows) -> None:
        for fn in fns:
            fn(world, rows)
    return apply


def _cap_russian_crude(world: World, rows: Rows) -> None:
    """Under the US penalty: comply, i.e. cut below its threshold; otherwise cut 10 points.

    (A cut that leaves India above the threshold answers no demand; it would only pay through
    India's buyer power over the discount, which Indian refiners, as price takers, do not use.)
    """
    share = world.crude_share[rows, B_IND]
    penalty = _penalty_applies(world, rows)
    comply = np.maximum(world.oil_penalty_threshold[rows] - 0.01, 0.0)
    ceiling = np.where(penalty, comply, np.maximum(np.round(share - 0.10, 2), 0.0))
    set_instrument(world, "ind.crude_ceiling", np.minimum(ceiling, world.crude_ceiling_ind[rows]), rows)


def _accept_deal(world: World, rows: Rows) -> None:
    set_instrument(world, "ind.crude_ceiling", world.deal_ceiling[rows], rows)
    set_instrument(world, "usa.base_tariff_on_ind", world.deal_tariff[rows], rows)
    set_instrument(world, "usa.oil_penalty_tariff_on_ind", 0.0, rows)
    world.deal_accepted[rows] = 1.0
    world.deal_offer[rows] = 0.0
    _bump(("usa", "ind"))(world, rows)


def _under_pressure(world: World) -> np.ndarray:
    """India faces coercion over its Russian crude: the US penalty, EU secondary measures or a US offer."""
    return _penalty_bites(world) | (world.eu_secondary_on_ind > 0) | (world.deal_offer > 0)


def _no_deal(world: World) -> np.ndarray:
    """No US-India deal in force (while one is, both sides keep its terms)."""
    return world.deal_accepted == 0


def _deal_open(world: World) -> np.ndarray:
    return (world.deal_offer > 0) & (world.deal_accepted == 0)


MENUS: dict[str, tuple[Move, ...]] = {
    "usa": (
        _hold("usa"),
        Move("raise_oil_penalty", "usa", "tariff", "raises the oil penalty on India by 10 points",
             _adjust("usa.oil_penalty_tariff_on_ind", 0.10, 0, 1),
             lambda w: _no_deal(w) & _below("usa.oil_penalty_tariff_on_ind", 1.0)(w),
             opposite="lower_oil_penalty"),
        Move("lower_oil_penalty", "usa", "tariff", "lowers the oil penalty on India by 10 points",
             _adjust("usa.oil_penalty_tariff_on_ind", -0.10, 0, 1),
             lambda w: _no_deal(w) & _above("usa.oil_penalty_tariff_on_ind", 0.0)(w),
             backs_down=_penalty_bites, opposite="raise_oil_penalty"),
        Move("drop_oil_penalty", "usa", "tariff", "drops the oil penalty on India altogether",
             _set(usa__oil_penalty_tariff_on_ind=0.0),
             lambda w: _no_deal(w) & _above("usa.oil_penalty_tariff_on_ind", 0.10)(w),
             backs_down=_penalty_bites, opposite="raise_oil_penalty"),
        Move("raise_tariff_on_ind", "usa", "tariff", "raises its base tariff on India by 10 points",
             _adjust("usa.base_tariff_on_ind", 0.10, 0, 2),
             lambda w: _no_deal(w) & _below("usa.base_tariff_on_ind", 2.0)(w),
             opposite="cut_tariff_on_ind"),
        Move("cut_tariff_on_ind", "usa", "tariff", "cuts its base tariff on India by 10 points",
             _adjust("usa.base_tariff_on_ind", -0.10, 0, 2),
             lambda w: _no_deal(w) & _above("usa.base_tariff_on_ind", 0.0)(w),
             opposite="raise_tariff_on_ind"),
        Move("offer_deal", "usa", "tariff", "offers India a lower tariff for a Russian-crude ceiling",
             _set(usa__deal_offer=1.0),
             lambda w: (w.deal_offer == 0) & (w.deal_accepted == 0), opposite="withdraw_offer"),
        Move("withdraw_offer", "usa", "tariff", "withdraws its offer of a deal to India",
             _set(usa__deal_offer=0.0), _deal_open, opposite="offer_deal"),
        Move("tighten_listings", "usa", "sanction", "lists more Russian sellers, with harder enforcement",
             _both(_adjust("usa.listed_seller_share", 0.10, 0, 1),
                   _adjust("usa.secondary_enforcement", 0.10, 0, MAX_ENFORCEMENT)),
             lambda w: (w.listed_seller_share < 1) | (w.secondary_enforcement < MAX_ENFORCEMENT),
             opposite="loosen_listings"),
        Move("loosen_listings", "usa", "sanction", "delists some Russian sellers, with lighter enforcement",
             _both(_adjust("usa.listed_seller_share", -0.10, 0, 1),
                   _adjust("usa.secondary_enforcement", -0.10, 0, MAX_ENFORCEMENT)),
             lambda w: (w.listed_seller_share > 0) | (w.secondary_enforcement > 0),
             opposite="tighten_listings"),
    ),
    "rus": (
        _hold("rus"),
        Move("discount_to_india", "rus", "sanction", "offers Indian buyers $2/bbl more discount",
             _adjust("rus.extra_discount_ind_usd", 2.0, 0, 10), _below("rus.extra_discount_ind_usd", 10.0),
             opposite="withdraw_discount"),
        Move("withdraw_discount", "rus", "sanction", "withdraws $2/bbl of its extra discount to India",
             _adjust("rus.extra_discount_ind_usd", -2.0, 0, 10), _above("rus.extra_discount_ind_usd", 0.0),
             opposite="discount_to_india"),
        Move("coproduction_offer", "rus", "procurement", "offers India more arms co-production and technology",
             _both(_adjust("rus.coproduction_offer", 0.5, 0, 1), _bump(("rus", "ind"), 0.5)),
             _below("rus.coproduction_offer", 1.0), opposite="withdraw_coproduction"),
        Move("withdraw_coproduction", "rus", "procurement", "scales back its arms co-production offer to India",
             _both(_adjust("rus.coproduction_offer", -0.5, 0, 1), _bump(("rus", "ind"), -0.5)),
             _above("rus.coproduction_offer", 0.0), opposite="coproduction_offer"),
        Move("recycle_rupees", "rus", "sanction", "reinvests its idle rupees in India",
             _set(rus__rupee_recycling=1.0), _below("rus.rupee_recycling", 1.0), opposite="stop_recycling"),
        Move("stop_recycling", "rus", "sanction", "stops reinvesting its rupees in India",
             _set(rus__rupee_recycling=0.0), _above("rus.rupee_recycling", 0.0), opposite="recycle_rupees"),
    ),
    "ind": (
        _hold("ind"),
        Move("cap_russian_crude", "ind", "procurement",
             "caps Russian crude (below the US penalty threshold if the penalty applies, else 10 points lower)",
             _cap_russian_crude, lambda w: (w.crude_share[:, B_IND] > 0.02) & _under_pressure(w),
             backs_down=_penalty_bites, opposite="lift_crude_ceiling"),
        Move("lift_crude_ceiling", "ind", "procurement", "lifts its ceiling on Russian crude",
             _set(ind__crude_ceiling=1.0), lambda w: _no_deal(w) & _below("ind.crude_ceiling", 1.0)(w),
             opposite="cap_russian_crude"),
        Move("accept_us_deal", "ind", "tariff", "accepts the US offer: lower tariff, crude ceiling",
             _accept_deal, _deal_open, commitment=True),
        Move("trade_push_russia", "ind", "procurement", "pushes trade with Russia in rupees and via INSTC",
             _both(_set(ind__rupee_settlement_push=1.0, ind__instc=1.0), _bump(("rus", "ind"), 0.5)),
             _below("ind.rupee_settlement_push", 1.0), opposite="drop_trade_push"),
        Move("drop_trade_push", "ind", "procurement", "drops its trade push with Russia (rupees, INSTC)",
             _both(_set(ind__rupee_settlement_push=0.0, ind__instc=0.0), _bump(("rus", "ind"), -0.5)),
             lambda w: (w.rupee_push > 0) | (w.instc > 0), opposite="trade_push_russia"),
        Move("arms_tilt_west", "ind", "procurement", "tilts arms orders towards the US and Europe",
             _adjust("ind.arms_tilt_west", 0.5, -2, 2), _below("ind.arms_tilt_west", 2.0),
             opposite="arms_tilt_russia"),
        Move("arms_tilt_russia", "ind", "procurement", "tilts arms orders towards Russia",
             _adjust("ind.arms_tilt_west", -0.5, -2, 2), _above("ind.arms_tilt_west", -2.0),
             opposite="arms_tilt_west"),
        Move("retaliate_tariff", "ind", "tariff", "raises its tariff on US goods by 10 points",
             _adjust("ind.tariff_on_usa", 0.10, 0, 1), _below("ind.tariff_on_usa", 1.0),
             opposite="cut_tariff_on_usa"),
        Move("cut_tariff_on_usa", "ind", "tariff", "cuts its tariff on US goods by 10 points",
             _adjust("ind.tariff_on_usa", -0.10, 0, 1), _above("ind.tariff_on_usa", 0.0),
             opposite="retaliate_tariff"),
    ),
    "eu": (
        _hold("eu"),
        Move("tighten_sanctions", "eu", "sanction", "adopts a new sanctions package (vessels, enforcement)",
             _both(_adjust("eu.cap_enforcement", 0.10, 0, MAX_ENFORCEMENT),
                   _adjust("eu.sanction_intensity_on_rus", 0.03, 0, 1)),
             lambda w: (w.cap_enforcement < MAX_ENFORCEMENT) | (w.sanction[:, 3, 1] < 1),
             opposite="ease_sanctions"),
        Move("ease_sanctions", "eu", "sanction", "eases its sanctions (fewer vessels listed, lighter enforcement)",
             _both(_adjust("eu.cap_enforcement", -0.10, 0, MAX_ENFORCEMENT),
                   _adjust("eu.sanction_intensity_on_rus", -0.03, 0, 1)),
             lambda w: (w.cap_enforcement > 0) | (w.sanction[:, 3, 1] > 0), opposite="tighten_sanctions"),
        Move("raise_price_cap", "eu", "sanction", "raises the price cap by $5/bbl",
             _adjust("eu.price_cap_usd", 5.0, 20, 200), _below("eu.price_cap_usd", 200.0),
             opposite="lower_price_cap"),
        Move("lower_price_cap", "eu", "sanction", "lowers the price cap by $5/bbl",
             _adjust("eu.price_cap_usd", -5.0, 20, 200), _above("eu.price_cap_usd", 20.0),
             opposite="raise_price_cap"),
        Move("secondary_on_india", "eu", "sanction", "puts secondary measures on Indian refiners",
             _set(eu__secondary_on_ind=1.0), _below("eu.secondary_on_ind", 1.0), opposite="lift_secondary_on_india"),
        Move("lift_secondary_on_india", "eu", "sanction", "lifts its secondary measures on Indian refiners",
             _set(eu__secondary_on_ind=0.0), _above("eu.secondary_on_ind", 0.0), opposite="secondary_on_india"),
        Move("fta_with_india", "eu", "tariff", "concludes the FTA with India (tariffs to zero)",
             _both(_set(eu__tariff_on_ind=0.0), _bump(("ind", "eu"))), _above("eu.tariff_on_ind", 0.0),
             commitment=True),
    ),
}

#: Whose best reply a proposer anticipates when it values its moves, and among which replies
#: (besides holding): the country that answers and the names of its answering moves. The US and
#: the EU coerce or court India over its Russian crude (a penalty, listings, secondary measures,
#: a deal): India may cap its Russian crude or accept an offer. Russia courts India with
#: discounts and arms co-production: India may lift a ceiling on Russian crude or tilt its arms
#: orders towards Russia. See :meth:`model.model.GeopoliticsModel.evaluate`.
ANTICIPATED_REPLIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "usa": ("ind", ("accept_us_deal", "cap_russian_crude")),
    "eu": ("ind", ("cap_russian_crude",)),
    "rus": ("ind", ("lift_crude_ceiling", "arms_tilt_russia")),
}


def menu(country: str) -> tuple[Move, ...]:
    """The full menu of a country, available or not."""
    return MENUS[country]


def reply_moves(country: str) -> tuple[str, list[Move]]:
    """The country whose best reply ``country`` anticipates, and that country's answering moves.

    Returns ``("", [])`` when ``country`` anticipates no reply (see :data:`ANTICIPATED_REPLIES`).
    """
    if country not in ANTICIPATED_REPLIES:
        return "", []
    replier, names = ANTICIPATED_REPLIES[country]
    return replier, [find_move(replier, name) for name in names]


def available_moves(country: str, world: World) -> list[Move]:
    """Moves the country can take in this world (``hold`` is always first)."""
    return [m for m in MENUS[country] if m.available(world)[0]]


def find_move(country: str, name: str) -> Move:
    """Look a move up by name; raise ``ValueError`` listing the menu if it is not there."""
    for m in MENUS[country]:
        if m.name == name:
            return m
    names = ", ".join(m.name for m in MENUS[country])
    raise ValueError(f"move {name!r} is not on {country}'s menu; allowed: {names}")
