"""Data behind the app's and the debrief's charts: trade-network edges, alignment positions and
blocs, node names and colours, and ``png(fig)`` for matplotlib figures (no pyplot state, no Solara).

The drawings themselves are SVG (:mod:`viz.svg`); the functions here take plain data read from the
model's public API, so the downloadable debrief can use them without the page.
"""
from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure

import geogame
from geogame.model import NODES, alignment_map, current_layout, landscape

#: The installed players' roles (``geogame.model.current_layout()``): the crude seller (Russia),
#: the arms buyer at the centre of the game (India) and the penaliser (the US).
LAYOUT = current_layout()
CRUDE_SELLER, ARMS_BUYER, PENALISER = LAYOUT.crude_seller, LAYOUT.arms_buyer, LAYOUT.penaliser
#: The rest of the world's code (the last node).
REST = NODES[-1]
#: Names, short labels and colours of the nodes, from the player registry (``geogame.LABELS``...).
NODE_NAMES = dict(geogame.LABELS)
SHORT = dict(geogame.SHORT_LABELS)
COLOURS = dict(geogame.COLOURS)
CRUDE_COLOUR = "#6d4c41"
GOODS_COLOUR = "#5b7fa3"
TARGET_TRADE_USD_BN = 100.0
RUN_STYLES = ["-", "--", ":", "-."]


def _positions() -> dict[str, tuple[float, float]]:
    """Fixed positions so the network does not jump between quarters: each player's declared
    ``MAP_POSITION``, players without one on a circle, the rest of the world bottom left."""
    players = geogame.PLAYERS
    out = {}
    for k, player in enumerate(players):
        angle = 2 * np.pi * k / max(len(players), 1)
        out[player.CODE] = getattr(player, "MAP_POSITION", (0.9 * np.cos(angle), 0.9 * np.sin(angle)))
    out[REST] = (-0.6, -0.75)
    return out


NODE_POS = _positions()


def png(fig: Figure, dpi: int = 72) -> bytes:
    """A matplotlib figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


# ------------------------------------------------------------------------------ trade network
def crude_value_usd_bn(mbd: float, price_usd: float) -> float:
    """Value of a crude flow of ``mbd`` million barrels a day at ``price_usd``, USD bn a year."""
    return float(mbd) * 365.0 * float(price_usd) / 1000.0


def trade_edges(goods: np.ndarray, latest: dict) -> list[dict]:
    """Edges of the trade network: goods flows from the [importer, exporter] matrix over the nodes
    (USD bn/yr) and the arms buyer's crude imports from the seller (India's from Russia, valued at
    the delivered Urals price)."""
    edges = []
    goods = np.asarray(goods, dtype=float)
    for i, importer in enumerate(NODES):
        for j, exporter in enumerate(NODES):
            value = float(goods[i, j])
            if i != j and value > 0:
                edges.append({"from": exporter, "to": importer, "sector": "goods", "value": value})
    price = latest.get("brent_usd", 0.0) - latest.get("urals_discount_delivered_ind_usd", 0.0)
    crude = crude_value_usd_bn(latest.get("crude_imports_ind_from_rus_mbd", 0.0), price)
    if crude > 0:
        edges.append({"from": CRUDE_SELLER, "to": ARMS_BUYER, "sector": "crude", "value": crude})
    return edges


# ------------------------------------------------------------------------------ alignment map
def alignment_coords(affinity: np.ndarray) -> np.ndarray:
    """2-D positions of the players (classical MDS of 1 - affinity, fixed orientation)."""
    return alignment_map(affinity)


def blocs(affinity: np.ndarray) -> list[list[str]]:
    """Today's blocs by landscape theory (Axelrod & Bennett 1993), as lists of country codes."""
    return [list(camp) for camp in landscape(affinity).camps if camp]


def bloc_text(groups: list[list[str]]) -> str:
    """The blocs as text, e.g. '{US, India, EU} · {Russia}'."""
    return " · ".join("{" + ", ".join(SHORT[c] for c in g) + "}" for g in groups)


# -------------------------------------------------------------------------------- time series
SERIES_TITLES = [
    "India's crude imports by source (mb/d)",
    "Urals discount to Brent (USD/bbl)",
    "US tariff on Indian goods (%)",
    "India-Russia trade vs the $100bn target",
    "Indian exports to the US (USD bn/yr)",
    "Russia's crude revenue (USD bn/yr)",
]
