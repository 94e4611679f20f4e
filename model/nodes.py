"""The five nodes of the world: four players and a passive rest of the world.

Arrays indexed by node use the order of :data:`NODES`. Matrices are
``[importer, exporter]`` unless a docstring says otherwise.
"""
from __future__ import annotations

#: Player codes, in the order used for alignment columns (``alignment_usa_ind`` ...).
COUNTRIES: tuple[str, ...] = ("usa", "rus", "ind", "eu")
#: All nodes: the four players plus the rest of the world (China, Turkey, the Gulf, others).
NODES: tuple[str, ...] = COUNTRIES + ("row",)
#: Indices of the nodes in arrays over :data:`NODES`.
USA, RUS, IND, EU, ROW = range(5)
#: Number of nodes (players and the rest of the world).
N_NODES = len(NODES)

#: Display names of the nodes, by code.
COUNTRY_NAMES = {
    "usa": "United States",
    "rus": "Russia",
    "ind": "India",
    "eu": "European Union",
    "row": "Rest of world",
}

#: Buyers of Russian crude, in the order of the crude arrays (Russia does not buy its own).
CRUDE_BUYERS: tuple[str, ...] = ("usa", "ind", "eu", "row")
#: Indices of the buyers in arrays over :data:`CRUDE_BUYERS` (not the node indices: ``B_IND != IND``).
B_USA, B_IND, B_EU, B_ROW = range(4)

#: India's arms suppliers, in the order of the arms arrays.
ARMS_SUPPLIERS: tuple[str, ...] = ("rus", "usa", "eu", "domestic")
#: Indices of the suppliers in arrays over :data:`ARMS_SUPPLIERS`.
A_RUS, A_USA, A_EU, A_DOM = range(4)

#: Pairs of players for alignment columns, in the order of COUNTRIES.
COUNTRY_PAIRS: tuple[tuple[int, int], ...] = tuple(
    (i, j) for i in range(len(COUNTRIES)) for j in range(i + 1, len(COUNTRIES))
)
