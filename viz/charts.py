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
from geogame.model import NODES, alignment_map, current_layout, landscape, outcome

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


#: The declared outcomes the crude edge reads: Brent, the buyer's delivered discount, its volume.
_CRUDE_EDGE_OUTCOMES = tuple(outcome(name).name for name in (
    "brent_usd", "urals_discount_delivered_ind_usd", "crude_imports_ind_from_rus_mbd"))


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
    brent, discount, volume = _CRUDE_EDGE_OUTCOMES
    price = latest.get(brent, 0.0) - latest.get(discount, 0.0)
    crude = crude_value_usd_bn(latest.get(volume, 0.0), price)
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
#: The six time-series panels: a title and the declared outcomes each plots (``geogame.outcome``:
#: a renamed column fails here, at import). The unit in a title is the outcome's declared unit
#: (a fraction is shown in %).
SERIES = [
    ("India's crude imports by source", ("crude_imports_ind_from_rus_mbd", "crude_imports_ind_mbd")),
    ("Urals discount to Brent", ("urals_discount_fob_usd", "urals_discount_delivered_ind_usd")),
    ("US tariff on Indian goods", ("tariff_usa_on_ind",)),
    ("India-Russia trade vs the $100bn target", ("trade_ind_rus_usd_bn",)),
    ("Indian exports to the US", ("exports_ind_to_usa_usd_bn",)),
    ("Russia's crude revenue", ("russia_crude_revenue_usd_bn",)),
]


def _series_title(title: str, names: tuple[str, ...]) -> str:
    """A panel's title with the declared unit of its outcomes (the trade panel names its target instead)."""
    unit = outcome(names[0]).unit
    return title if "target" in title else f"{title} ({'%' if unit == 'fraction' else unit})"


SERIES_TITLES = [_series_title(title, names) for title, names in SERIES]
