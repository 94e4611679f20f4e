"""The nodes of the installed world, by name: the players and a passive rest of the world.

A facade over the installed :class:`~geogame.model.layout.Layout` (built from the declared
players), for code that wants the lists rather than a layout: every name is looked up when it is
read (PEP 562), so it always describes the players installed. Arrays indexed by node use the
order of :data:`NODES`; matrices are ``[importer, exporter]`` unless a docstring says otherwise.

* ``COUNTRIES``: the player codes, in the order of the alignment columns;
* ``NODES``: the players and the rest of the world; ``N_NODES`` their number;
* ``COUNTRY_NAMES``: display names by code;
* ``CRUDE_BUYERS``: buyers of the seller's crude, in the order of the crude arrays;
* ``ARMS_SUPPLIERS``: the arms buyer's suppliers, in the order of the arms arrays;
* ``COUNTRY_PAIRS``: pairs of player indices, in the order of the alignment columns.
"""
from __future__ import annotations

from .layout import current

_NAMES = {
    "COUNTRIES": lambda lay: lay.players,
    "NODES": lambda lay: lay.nodes,
    "N_NODES": lambda lay: len(lay.nodes),
    "COUNTRY_NAMES": lambda lay: dict(lay.names),
    "CRUDE_BUYERS": lambda lay: lay.crude_buyers,
    "ARMS_SUPPLIERS": lambda lay: lay.arms_suppliers,
    "COUNTRY_PAIRS": lambda lay: lay.pairs,
}


def __getattr__(name: str):
    """Read a list of the installed layout (see the module docstring)."""
    if name not in _NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _NAMES[name](current())


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_NAMES))
