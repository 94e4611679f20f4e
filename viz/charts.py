"""Figures for the app and the debrief: plain matplotlib (no pyplot state, no Solara).

Every function takes plain data (arrays, DataFrames) read from the model's public API and
returns a ``matplotlib.figure.Figure``; ``png(fig)`` turns it into PNG bytes. The functions are
also used by the downloadable debrief, so they must not depend on the page.
"""
from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch

from geogame.model import COUNTRIES, COUNTRY_NAMES, NODES, alignment_map, landscape

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


def network_figure(edges: list[dict], quarter: str, previous: list[dict] | None = None,
                   size=(4.6, 3.6)) -> Figure:
    """Five nodes; arrow width grows with the square root of the flow's value."""
    fig = Figure(figsize=size)
    ax = fig.add_axes([0, 0, 1, 0.9])
    ax.set_xlim(-1.45, 1.45)
    ax.set_ylim(-1.15, 1.3)
    ax.axis("off")
    fig.suptitle(f"Trade network, {quarter} (USD bn a year)", fontsize=10)
    biggest = max([e["value"] for e in edges] + [1.0])
    prev = {(e["from"], e["to"], e["sector"]): e["value"] for e in (previous or [])}
    for e in edges:
        (x0, y0), (x1, y1) = NODE_POS[e["from"]], NODE_POS[e["to"]]
        width = 0.4 + 9.0 * math.sqrt(e["value"] / biggest)
        crude = e["sector"] == "crude"
        arrow = FancyArrowPatch((x0, y0), (x1, y1), connectionstyle=f"arc3,rad={0.35 if crude else 0.12}",
                                arrowstyle="-|>", mutation_scale=8 + width, linewidth=width,
                                color=CRUDE_COLOUR if crude else GOODS_COLOUR,
                                alpha=0.85 if crude else 0.45, shrinkA=16, shrinkB=16)
        ax.add_patch(arrow)
        if "ind" in (e["from"], e["to"]) and "row" not in (e["from"], e["to"]):
            old = prev.get((e["from"], e["to"], e["sector"]))
            change = "" if old is None else f" ({e['value'] - old:+.1f})"
            t = 0.5
            mx, my = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
            # offset the label to the arrow's side so both directions stay readable
            dx, dy = y1 - y0, -(x1 - x0)
            norm = math.hypot(dx, dy) or 1.0
            off = 0.2 if crude else 0.07
            ax.text(mx + off * dx / norm, my + off * dy / norm, f"{e['value']:.0f}{change}",
                    fontsize=7, ha="center", va="center",
                    color=CRUDE_COLOUR if crude else "#253b52")
    for node, (x, y) in NODE_POS.items():
        ax.scatter([x], [y], s=900, color=COLOURS[node], zorder=3, edgecolors="white")
        ax.text(x, y, SHORT[node] if node != "row" else "RoW", ha="center", va="center",
                fontsize=8, color="white", zorder=4, fontweight="bold")
    ax.plot([], [], color=GOODS_COLOUR, lw=3, label="other goods")
    ax.plot([], [], color=CRUDE_COLOUR, lw=3, label="crude, Russia to India")
    ax.legend(loc="lower center", fontsize=7, frameon=False, ncol=2, bbox_to_anchor=(0.5, -0.03))
    return fig


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


def alignment_figure(affinity: np.ndarray, quarter: str, previous: np.ndarray | None = None,
                     size=(4.6, 3.6)) -> Figure:
    """The alignment map as a matplotlib figure."""
    fig = Figure(figsize=size)
    ax = fig.add_axes([0.04, 0.1, 0.92, 0.78])
    xy = alignment_coords(affinity)
    groups = blocs(affinity)
    fig.suptitle(f"Alignment map, {quarter}", fontsize=10)
    for g in groups:
        if len(g) > 1:
            pts = np.array([xy[COUNTRIES.index(c)] for c in g])
            centre = pts.mean(axis=0)
            radius = max(np.max(np.linalg.norm(pts - centre, axis=1)) + 0.18, 0.25)
            ax.add_patch(Circle(
                centre, radius, color="#999999", alpha=0.15, lw=0))
    if previous is not None:
        old = alignment_coords(previous)
        for i, c in enumerate(COUNTRIES):
            ax.annotate("", xy=xy[i], xytext=old[i],
                        arrowprops={"arrowstyle": "->", "color": COLOURS[c], "alpha": 0.6})
    for i, c in enumerate(COUNTRIES):
        ax.scatter([xy[i, 0]], [xy[i, 1]], s=260, color=COLOURS[c], zorder=3, edgecolors="white")
        ax.text(xy[i, 0], xy[i, 1] + 0.13, SHORT[c], ha="center", fontsize=8, zorder=4)
    lim = max(1.0, float(np.abs(xy).max()) + 0.45)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("closer together = more aligned  ·  shaded = bloc", fontsize=7)
    fig.text(0.5, 0.015, "Blocs: " + bloc_text(groups), ha="center", fontsize=7)
    return fig


# -------------------------------------------------------------------------------- time series
SERIES_TITLES = [
    "India's crude imports by source (mb/d)",
    "Urals discount to Brent (USD/bbl)",
    "US tariff on Indian goods (%)",
    "India-Russia trade vs the $100bn target",
    "Indian exports to the US (USD bn/yr)",
    "Russia's crude revenue (USD bn/yr)",
]


def timeseries_figure(runs: list[tuple[str, pd.DataFrame]], size=(9.6, 5.4), title: str = "") -> Figure:
    """The six time series of the issue. One run: India's crude stacked by source. Several runs
    (compare, debrief): the same panels with one line style per run."""
    fig = Figure(figsize=size)
    axes = fig.subplots(2, 3).ravel()
    if title:
        fig.suptitle(title, fontsize=10)
    single = len(runs) == 1
    all_labels: list[str] = []
    for _, frame in runs:
        for q in frame["quarter"]:
            if q not in all_labels:
                all_labels.append(q)
    all_labels.sort()
    pos = {q: i for i, q in enumerate(all_labels)}
    for k, (name, frame) in enumerate(runs):
        ls = RUN_STYLES[k % len(RUN_STYLES)]
        x = [pos[q] for q in frame["quarter"]]
        sfx = "" if single else f" ({name})"
        rus = frame["crude_imports_ind_from_rus_mbd"].to_numpy()
        other = frame["crude_imports_ind_mbd"].to_numpy() - rus
        ax = axes[0]
        if single:
            ax.stackplot(x, rus, other, colors=[COLOURS["rus"], "#b0bec5"],
                         labels=["from Russia", "from others"], alpha=0.85)
        else:
            ax.plot(x, rus, ls, color=COLOURS["rus"], label="from Russia" + sfx)
            ax.plot(x, rus + other, ls, color="#607d8b", label="total" + sfx)
        ax = axes[1]
        ax.plot(x, frame["urals_discount_fob_usd"], ls, color="#8e44ad", label="at the Russian port (FOB)" + sfx)
        ax.plot(x, frame["urals_discount_delivered_ind_usd"], ls, color="#16a085", label="delivered to India" + sfx)
        axes[2].plot(x, 100 * frame["tariff_usa_on_ind"], ls, color=COLOURS["usa"], label="in force" + sfx,
                     drawstyle="steps-post")
        axes[3].plot(x, frame["trade_ind_rus_usd_bn"], ls, color=COLOURS["ind"], label="trade" + sfx)
        axes[4].plot(x, frame["exports_ind_to_usa_usd_bn"], ls, color=COLOURS["usa"], label="exports" + sfx)
        axes[5].plot(x, frame["russia_crude_revenue_usd_bn"], ls, color=COLOURS["rus"], label="revenue" + sfx)
    axes[3].axhline(TARGET_TRADE_USD_BN, color="#444", lw=1, ls=(0, (4, 3)))
    axes[3].text(0, TARGET_TRADE_USD_BN, " $100bn target (2030)", fontsize=7, va="bottom")
    axes[3].set_ylim(0, max(TARGET_TRADE_USD_BN * 1.15, axes[3].get_ylim()[1]))
    axes[2].set_ylim(bottom=0)
    axes[0].set_ylim(bottom=0)
    ticks = list(range(0, len(all_labels), max(1, math.ceil(len(all_labels) / 5))))
    for ax, t in zip(axes, SERIES_TITLES):
        ax.set_title(t, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_xticks(ticks)
        ax.set_xticklabels([all_labels[i] for i in ticks])
        ax.set_xlim(-0.3, max(len(all_labels) - 1, 1) + 0.3)
        ax.grid(alpha=0.25)
    for ax in (axes[0], axes[1]) if single else axes:
        ax.legend(fontsize=6, loc="upper left", frameon=False)
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.07, top=0.88 if title else 0.93,
                        wspace=0.22, hspace=0.38)
    return fig
