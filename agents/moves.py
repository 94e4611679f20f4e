"""Each country's menu of moves: one move a quarter, each a change to the policies it controls.

The menus are declared in the player files (``agents/players/<code>.py``, built from the parts in
:mod:`geogame.agents.menu`); this module gathers them for the installed players and looks moves
up. :data:`ANTICIPATED_REPLIES` says whose answer a proposer weighs when it values its moves
(see :meth:`geogame.model.model.GeopoliticsModel.evaluate`).
"""
from __future__ import annotations

from geogame.model.world import World

from .menu import MAX_ENFORCEMENT, Move  # noqa: F401  (part of this module's interface)
from .players import PLAYERS

#: country -> its full menu, ``hold`` first.
MENUS: dict[str, tuple[Move, ...]] = {p.CODE: tuple(p.MENU) for p in PLAYERS}

#: Whose best reply a proposer anticipates when it values its moves, and among which replies
#: (besides holding): the country that answers and the names of its answering moves.
ANTICIPATED_REPLIES: dict[str, tuple[str, tuple[str, ...]]] = {
    p.CODE: (p.ANTICIPATES[0], tuple(p.ANTICIPATES[1])) for p in PLAYERS if p.ANTICIPATES}


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
