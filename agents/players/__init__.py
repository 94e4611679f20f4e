"""The registry of players: one file per player, one line here to list it.

Each player file (``agents/players/<code>.py``) declares, as module attributes:

* ``CODE``, ``LABEL``, ``SHORT_LABEL``, ``COLOUR`` (Okabe-Ito, colour-blind safe),
  ``HOLD_LABEL`` (what holding means for it) and, optionally, ``MAP_POSITION`` (where the app
  draws it on the trade network; players without one go on a circle);
* ``ROLES``: the roles it plays in the economics (:data:`geogame.model.layout.ROLES`), and, for
  the arms buyer, ``ARMS_SUPPLIERS``;
* ``SETTINGS``: its settings, each with kind and source (:func:`geogame.model.parameters.make_setting`);
* ``INSTRUMENTS``: which world cell each of its policy settings sets
  (:class:`geogame.model.instruments.Instrument`);
* ``MENU``: its moves (:class:`geogame.agents.menu.Move`), ``hold`` first;
* ``ANTICIPATES``: ``(replier, names of the replier's answering moves)`` or ``None``;
* ``utility_terms(world, m, s)``: its own utility terms (besides the exports every player values);
* ``context(m, world, s)``: what it saw last quarter, in a sentence;
* ``OBJECTIVES``: what it wants in plain words, each ``(words, column of the quarterly table,
  +1 more is better / -1 less, kind of number)``: its utility terms, for a class game's scores;
* ``DEALS``: the deals it can offer another player in a class game (``kind``, ``to``, ``title``,
  negotiable ``terms``, the moves it ``commits`` the parties to, optionally ``sets``: the
  instruments an accepted deal sets, and ``limit``); ``()`` if none.

Importing this package *installs* the players: their settings go into the settings registry,
their instruments into :data:`geogame.model.instruments.INSTRUMENTS`, and the layout their roles
make into :mod:`geogame.model.layout`. ``import geogame`` does this first, so every entry point
sees the same players. Adding a player is its file, its code in :data:`PLAYER_CODES` and its
rows in the base data (``model/data/base_*.csv``); ``tests/test_players.py`` proves it with a
toy fifth player.
"""
from __future__ import annotations

from importlib import import_module
from types import ModuleType

from geogame.model import instruments, layout, parameters

#: The players, in array order (the alignment columns follow it): one line per player added.
PLAYER_CODES = ("usa", "rus", "ind", "eu")

#: The player modules, in the order of :data:`PLAYER_CODES`.
PLAYERS: tuple[ModuleType, ...] = tuple(import_module(f"{__name__}.{code}") for code in PLAYER_CODES)


def build_layout(players=PLAYERS) -> layout.Layout:
    """The :class:`~geogame.model.layout.Layout` the players' declarations make."""
    roles: dict[str, tuple[str, ...]] = {}
    for player in players:
        for role in player.ROLES:
            roles[role] = roles.get(role, ()) + (player.CODE,)
    buyers = [p for p in players if "arms_buyer" in p.ROLES]
    suppliers = tuple(buyers[0].ARMS_SUPPLIERS) if len(buyers) == 1 else (layout.DOMESTIC,)
    names = {p.CODE: p.LABEL for p in players}
    names[layout.REST] = "Rest of world"
    return layout.Layout(players=tuple(p.CODE for p in players), names=names, roles=roles,
                         arms_suppliers=suppliers)


def install(players=PLAYERS) -> layout.Layout:
    """Install ``players``: their settings, instruments and layout become the model's."""
    for player in players:
        for spec in player.SETTINGS:
            if spec.owner != player.CODE:
                raise ValueError(f"{player.__name__}: setting {spec.key!r} is not owned by {player.CODE!r}")
    parameters.declare([spec for player in players for spec in player.SETTINGS])
    instruments.declare([i for player in players for i in player.INSTRUMENTS])
    built = build_layout(players)
    layout.install(built)
    return built


def player(code: str) -> ModuleType:
    """The player file of ``code``; raises ``ValueError`` naming the known codes."""
    for p in PLAYERS:
        if p.CODE == code:
            return p
    raise ValueError(f"unknown country {code!r}; allowed: {', '.join(PLAYER_CODES)}")


#: Display label of each player, by code (and of the rest of the world).
LABELS = {**{p.CODE: p.LABEL for p in PLAYERS}, layout.REST: "Rest of world"}
#: Short label of each player, by code (and of the rest of the world).
SHORT_LABELS = {**{p.CODE: p.SHORT_LABEL for p in PLAYERS}, layout.REST: "Rest of world"}
#: Colour of each player, by code (Okabe-Ito; the rest of the world in grey).
COLOURS = {**{p.CODE: p.COLOUR for p in PLAYERS}, layout.REST: "#999999"}

install()
