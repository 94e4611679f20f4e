"""The parts every player's menu is made of: :class:`Move` and small builders of moves.

A move knows which of the three kinds of policy it belongs to (tariff, sanction, procurement),
whether it is available in a world, how to apply itself to rows of a batched world, and whether
taking it means backing down under pressure (which costs audience costs, Fearon 1994). Each
player file (``agents/players/<code>.py``) builds its menu from these; :mod:`geogame.agents.moves`
gathers the menus of the installed players.

Every lever has a way back: each move names its ``opposite`` on the same menu (raise and lower
a tariff or the price cap, impose and lift a measure, offer and withdraw), so that choice noise
cannot ratchet a policy one way. The exceptions are *commitments*: concluded agreements that the
game does not undo.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from geogame.model.instruments import get_instrument, set_instrument
from geogame.model.world import World

#: Rows of a batched world a move applies to: an index array or a slice.
Rows = np.ndarray | slice

#: Enforcement never closes every channel (shadow fleet, third-country banks): judgement.
MAX_ENFORCEMENT = 0.8


def _always(world: World) -> np.ndarray:
    return np.ones(world.batch, dtype=bool)


def _never(world: World) -> np.ndarray:
    return np.zeros(world.batch, dtype=bool)


@dataclass(frozen=True)
class Move:
    """One entry of a country's menu.

    ``available`` and ``backs_down`` take a batched :class:`~geogame.model.world.World` and return
    a ``(B,)`` boolean array, one answer per world of the batch (a caller with one world reads
    ``[0]``).

    Attributes
    ----------
    name : str
        The move's name on its menu (``raise_oil_penalty``).
    country : str
        The code of the player whose move it is.
    kind : {"hold", "tariff", "sanction", "procurement"}
        The kind of policy it changes.
    label : str
        Plain words for the event log and the app (``raises the oil penalty on India by 10 points``).
    apply : callable
        ``apply(world, rows)`` changes the instruments of those rows of a batched world in place.
    available, backs_down : callable
        ``(world) -> (B,) bool``: where the move is on the menu; where taking it is yielding to pressure.
    opposite : str
        The move on the same menu that takes this one back ("" for hold and commitments).
    commitment : bool
        A concluded agreement (a deal accepted, an FTA): not undone within a run.
    """

    name: str
    country: str
    kind: str
    label: str
    apply: Callable[[World, Rows], None]
    available: Callable[[World], np.ndarray] = _always
    backs_down: Callable[[World], np.ndarray] = _never
    opposite: str = ""
    commitment: bool = False


def hold(country: str, label: str) -> Move:
    """The ``hold`` move of ``country``: changes nothing (always first on a menu)."""
    return Move("hold", country, "hold", label, lambda w, r: None)


def adjust(key: str, delta: float, low: float, high: float):
    """An ``apply`` that moves instrument ``key`` by ``delta``, kept within ``[low, high]``."""
    def apply(world: World, rows: Rows) -> None:
        value = get_instrument(world, key)[rows] + delta
        set_instrument(world, key, np.minimum(np.maximum(value, low), high), rows)
    return apply


def set_to(**values: float):
    """An ``apply`` that sets instruments to values; keys are written with ``__`` for the dot
    (``set_to(usa__deal_offer=1.0)`` sets ``usa.deal_offer``)."""
    def apply(world: World, rows: Rows) -> None:
        for key, value in values.items():
            set_instrument(world, key.replace("__", "."), value, rows)
    return apply


def below(key: str, limit: float):
    """An ``available`` test: instrument ``key`` is below ``limit``, (B,) bool."""
    return lambda w: get_instrument(w, key) < limit - 1e-9


def above(key: str, limit: float):
    """An ``available`` test: instrument ``key`` is above ``limit``, (B,) bool."""
    return lambda w: get_instrument(w, key) > limit + 1e-9


def bump(pair: tuple[str, str], amount: float = 1.0):
    """An ``apply`` that raises the affinity of a pair of players by ``amount`` deals this quarter."""
    def apply(world: World, rows: Rows) -> None:
        i, j = world.layout.node(pair[0]), world.layout.node(pair[1])
        world.deal_bump[rows, i, j] += amount
        world.deal_bump[rows, j, i] += amount
    return apply


def both(*fns):
    """An ``apply`` that applies each of ``fns`` in turn."""
    def apply(world: World, rows: Rows) -> None:
        for fn in fns:
            fn(world, rows)
    return apply


# ------------------------------------------------- conditions shared by the penaliser and the buyer
def penalty_applies(world: World, rows: Rows = slice(None)) -> np.ndarray:
    """Where the penaliser's oil penalty is set and the arms buyer buys more of the seller's crude
    than its threshold allows, (rows,) bool.

    Read from the buyer's share now (the penalty is levied on that basis next quarter), not from
    the lagged ``penalty_active`` flag, so that a penalty announced this quarter already counts.
    """
    share = world.crude_share[rows, world.layout.index.b_buyer]
    return (world.oil_penalty[rows] > 0) & (share > world.oil_penalty_threshold[rows])


def penalty_bites(world: World) -> np.ndarray:
    """:func:`penalty_applies` on every world of the batch (a ``backs_down`` test), (B,) bool."""
    return penalty_applies(world)


def no_deal(world: World) -> np.ndarray:
    """No penaliser-buyer deal in force (while one is, both sides keep its terms), (B,) bool."""
    return world.deal_accepted == 0


def deal_open(world: World) -> np.ndarray:
    """The penaliser's offer of a deal stands and has not been accepted, (B,) bool."""
    return (world.deal_offer > 0) & (world.deal_accepted == 0)


def under_pressure(world: World) -> np.ndarray:
    """The arms buyer faces coercion over its crude from the seller: the oil penalty, the cap
    setter's secondary measures or an offer of a deal, (B,) bool."""
    return penalty_bites(world) | (world.eu_secondary_on_ind > 0) | (world.deal_offer > 0)
