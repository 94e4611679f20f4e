"""Where each policy setting lives in the :class:`~geogame.model.world.World`.

Scripted events, overrides, the calibration and the players' moves change instruments by
setting key (``eu.price_cap_usd``); this module maps a key to its array and cell so that nobody
else needs to know the layout. Each player declares its own instruments in its player file
(:class:`Instrument`, cells named by player codes); the player registry adds them to
:data:`INSTRUMENTS` when it installs the players. The world's own instruments are declared here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .world import World


@dataclass(frozen=True)
class Instrument:
    """Where one policy setting lives in the world.

    Parameters
    ----------
    key : str
        The setting's key (``usa.base_tariff_on_ind``).
    field : str
        The :class:`~geogame.model.world.World` array that holds it.
    cell : None, str or (str, str)
        ``None`` for a ``(B,)`` array; a node code for a ``(B,K)`` array over crude buyers (that
        buyer's cell); ``(importer, exporter)`` codes for a ``(B,N,N)`` array over nodes.
    mirrored : bool
        True if the same value also sets the cell ``(exporter, importer)`` (a sanctions package
        bans exports to the target as well as imports from it).
    """

    key: str
    field: str
    cell: None | str | tuple[str, str] = None
    mirrored: bool = False

    def index(self, layout) -> tuple:
        """The cell's index in one world (after the batch axis), for ``layout``."""
        if self.cell is None:
            return ()
        if isinstance(self.cell, str):
            return (layout.buyer(self.cell),)
        return (layout.node(self.cell[0]), layout.node(self.cell[1]))

    def shape(self, layout) -> tuple:
        """Shape of the array the instrument lives in, after the batch axis."""
        if self.cell is None:
            return ()
        if isinstance(self.cell, str):
            return (len(layout.crude_buyers),)
        return (len(layout.nodes), len(layout.nodes))


#: Instruments no player owns (scenario levers of the world), declared here.
WORLD_INSTRUMENTS = (Instrument("world.oil_supply_shock", "oil_supply_shock"),)

#: setting key -> :class:`Instrument`: the world's, then each installed player's (in player order).
INSTRUMENTS: dict[str, Instrument] = {i.key: i for i in WORLD_INSTRUMENTS}


def declare(instruments) -> None:
    """Make the instruments of the installed players the ones :data:`INSTRUMENTS` lists (the
    player registry calls this; the world's own come last, as before players were files)."""
    INSTRUMENTS.clear()
    for instrument in instruments:
        INSTRUMENTS[instrument.key] = instrument
    for instrument in WORLD_INSTRUMENTS:
        INSTRUMENTS[instrument.key] = instrument


def _cell(world: World, key: str) -> tuple:
    """``(array, index within one world, mirrored index or None)`` of instrument ``key``."""
    cache = world.layout.__dict__.setdefault("_instrument_cells", {})
    found = cache.get(key)
    if found is None:
        spec = INSTRUMENTS[key]
        index = spec.index(world.layout)
        found = cache[key] = (spec.field, index, index[::-1] if spec.mirrored else None)
    name, index, mirror = found
    return getattr(world, name), index, mirror


def get_instrument(world: World, key: str) -> np.ndarray:
    """Current value of an instrument for every world in the batch, (B,)."""
    array, index, _ = _cell(world, key)
    return array[(slice(None),) + index]


def set_instrument(world: World, key: str, value, rows=slice(None)) -> None:
    """Set an instrument in place for the given batch rows (and its mirror cell, if it has one)."""
    array, index, mirror = _cell(world, key)
    array[(rows,) + index] = value
    if mirror is not None:
        array[(rows,) + mirror] = value
