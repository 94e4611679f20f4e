"""Data behind the app's and the debrief's charts: trade-network edges, alignment positions and
blocs, node names and colours, and ``png(fig)`` for matplotlib figures (no pyplot state, no Solara).

The drawings themselves are SVG (:mod:`viz.svg`); the functions here take plain data read from the
model's public API, so the downloadable debrief can use them without the page.
"""
from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure

from geogame.model import COUNTRY_NAMES, NODES, alignment_map, landscape

NODE_NAMES = {**COUNTRY_NAMES, "row": "Rest of world"}
SHORT = {"usa": "US", "rus": "Russia", "ind": "India", "eu": "EU", "row": "Rest of world"}
COLOURS = {"usa": "#1f5fa8", "rus": "#c0392b", "ind": "#e67e22", "eu": "#2e8b57", "row": "#7f8c8d"}
CRUDE_COLOUR = "#6d4c41"
GOODS_COLOUR = "#5b7fa3"
TARGET_TRADE_USD_BN = 100.0
RUN_STYLES = ["-", "--", ":", "-."]

# fixed positions so the network does not jump between quarters
NODE_POS = {"usa": (-1.0, 0.55), "eu": (0.0, 1.0), "rus": (1.0, 0.55), "ind": (0.6, -0.75),
            "row": (-0.6, -0.75)}


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
    """Edges of the trade network: goods flows from the 5x5 [importer, exporter] matrix
    (USD bn/yr) and India's crude imports from Russia (valued at the delivered Urals price)."""
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
        edges.append({"from": "rus", "to": "ind", "sector": "crude", "value": crude})
    return edges


# ------------------------------------------------------------------------------ alignment map
def alignment_coords(affinity: np.ndarray) -> np.ndarray:
    """2-D positions of the four countries (classical MDS of 1 - affinity, fixed orientation)."""
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
