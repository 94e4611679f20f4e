"""Fast inline-SVG charts for the live page (matplotlib takes 0.7 s or more per quarter here).

Same data and layout decisions as ``viz.charts``; each function returns an ``<svg>`` string.
"""
from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd

from geogame.model import COUNTRIES
from .charts import (ARMS_BUYER, COLOURS, CRUDE_COLOUR, CRUDE_SELLER, GOODS_COLOUR, NODE_POS, PENALISER, REST,
                     SERIES, SERIES_TITLES, SHORT, TARGET_TRADE_USD_BN,
                     alignment_coords, bloc_text, blocs)

DASHES = ["", "6,4", "2,3", "8,3,2,3"]


def _e(text) -> str:
    return html.escape(str(text))


#: Colours of the "by change" view: decline, no change, growth (ColorBrewer RdYlGn ends, grey middle).
SHRINK_COLOUR, STEADY_COLOUR, GROW_COLOUR = (215, 48, 39), (150, 150, 150), (26, 152, 80)
#: Relative change since last quarter at which an edge takes the full growth or decline colour.
FULL_CHANGE = 0.05


def change_colour(value: float, old: float | None) -> str:
    """Edge colour for a flow that went from ``old`` to ``value``: grey if unchanged (or new),
    shading to green as it grows and red as it shrinks, full at +-5% in a quarter."""
    if old is None or old <= 0:
        return "#%02x%02x%02x" % STEADY_COLOUR
    t = max(-1.0, min(1.0, (value - old) / old / FULL_CHANGE))
    end = GROW_COLOUR if t > 0 else SHRINK_COLOUR
    return "#%02x%02x%02x" % tuple(round(s + abs(t) * (e - s)) for s, e in zip(STEADY_COLOUR, end))


def network_svg(edges: list[dict], quarter: str, previous: list[dict] | None = None, w=440, h=340,
                colour_by: str = "sector") -> str:
    """The trade network: arrow width by value; colour by sector (goods, crude) or, with
    ``colour_by="change"``, by the change since ``previous`` (last quarter's edges)."""
    if colour_by not in ("sector", "change"):
        raise ValueError(f"colour_by = {colour_by!r} is not allowed; allowed: sector, change")

    def xy(node):
        x, y = NODE_POS[node]
        return (w / 2 + x * w * 0.36, h * 0.5 - y * h * 0.33)

    biggest = max([e["value"] for e in edges] + [1.0])
    prev = {(e["from"], e["to"], e["sector"]): e["value"] for e in (previous or [])}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" class="geo-svg">',
           '<defs><marker id="ah" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="4" markerHeight="4" '
           'orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="context-stroke"/></marker></defs>',
           f'<text x="{w / 2}" y="16" text-anchor="middle" font-size="13">Trade network, {_e(quarter)} '
           f'(USD bn a year)</text>']
    labels = []
    for e in edges:
        (x0, y0), (x1, y1) = xy(e["from"]), xy(e["to"])
        crude = e["sector"] == "crude"
        width = 0.5 + 11.0 * math.sqrt(e["value"] / biggest)
        dx, dy = x1 - x0, y1 - y0
        length = math.hypot(dx, dy) or 1.0
        nx, ny = -dy / length, dx / length
        bend = 0.35 if crude else 0.12
        cx, cy = (x0 + x1) / 2 + nx * bend * length, (y0 + y1) / 2 + ny * bend * length
        # shorten both ends so arrows stop at the node circles
        r = 24
        sx, sy = x0 + (cx - x0) * r / math.hypot(cx - x0, cy - y0), y0 + (cy - y0) * r / math.hypot(cx - x0, cy - y0)
        ex, ey = x1 + (cx - x1) * r / math.hypot(cx - x1, cy - y1), y1 + (cy - y1) * r / math.hypot(cx - x1, cy - y1)
        old = prev.get((e["from"], e["to"], e["sector"]))
        if colour_by == "change":
            colour, opacity = change_colour(e["value"], old), 0.75
        else:
            colour, opacity = (CRUDE_COLOUR, 0.85) if crude else (GOODS_COLOUR, 0.45)
        since = "" if old is None else f", {e['value'] - old:+.1f} since last quarter"
        out.append(f'<path d="M{sx:.1f},{sy:.1f} Q{cx:.1f},{cy:.1f} {ex:.1f},{ey:.1f}" fill="none" '
                   f'stroke="{colour}" stroke-opacity="{opacity}" stroke-width="{width:.1f}" '
                   f'marker-end="url(#ah)" class="geo-edge geo-edge-{e["from"]}-{e["to"]}-{e["sector"]}">'
                   f'<title>{SHORT[e["from"]]} to {SHORT[e["to"]]} ({e["sector"]}): '
                   f'{e["value"]:.1f} bn/yr{since}</title></path>')
        if ARMS_BUYER in (e["from"], e["to"]) and REST not in (e["from"], e["to"]):
            change = "" if old is None else f" ({e['value'] - old:+.1f})"
            mx, my = 0.25 * sx + 0.5 * cx + 0.25 * ex, 0.25 * sy + 0.5 * cy + 0.25 * ey
            labels.append(f'<text x="{mx:.1f}" y="{my:.1f}" font-size="10" text-anchor="middle" '
                          f'fill="{colour}" stroke="white" stroke-width="3" paint-order="stroke">'
                          f'{e["value"]:.0f}{_e(change)}</text>')
    out += labels
    for node in NODE_POS:
        x, y = xy(node)
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="21" fill="{COLOURS[node]}" stroke="white" stroke-width="2"/>'
                   f'<text x="{x:.1f}" y="{y + 4:.1f}" font-size="10" font-weight="bold" fill="white" '
                   f'text-anchor="middle">{"RoW" if node == REST else SHORT[node]}</text>')
    if colour_by == "change":
        swatches = [(change_colour(0.95, 1.0), "down 5% or more"), (change_colour(1.0, 1.0), "about the same"),
                    (change_colour(1.05, 1.0), "up 5% or more")]
        for k, (colour, text) in enumerate(swatches):
            x = w / 2 - 200 + 135 * k
            out.append(f'<rect x="{x}" y="{h - 16}" width="14" height="5" fill="{colour}"/>'
                       f'<text x="{x + 18}" y="{h - 10}" font-size="10">{text}</text>')
    else:
        out.append(f'<rect x="{w / 2 - 150}" y="{h - 16}" width="14" height="5" fill="{GOODS_COLOUR}"/>'
                   f'<text x="{w / 2 - 132}" y="{h - 10}" font-size="10">other goods</text>'
                   f'<rect x="{w / 2 - 40}" y="{h - 16}" width="14" height="5" fill="{CRUDE_COLOUR}"/>'
                   f'<text x="{w / 2 - 22}" y="{h - 10}" font-size="10">crude, {_e(SHORT[CRUDE_SELLER])} to '
                   f'{_e(SHORT[ARMS_BUYER])} (width = value)</text>')
    out.append("</svg>")
    return "".join(out)


def alignment_svg(affinity: np.ndarray, quarter: str, previous: np.ndarray | None = None, w=440, h=340) -> str:
    """The alignment map (classical MDS of 1 - affinity) with the current blocs, as inline SVG."""
    xy = alignment_coords(affinity)
    groups = blocs(affinity)
    lim = max(1.0, float(np.abs(xy).max()) + 0.4)
    size = min(w, h - 60)

    def px(p):
        return (w / 2 + p[0] / lim * size / 2, 30 + size / 2 - p[1] / lim * size / 2)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" class="geo-svg">',
           f'<text x="{w / 2}" y="16" text-anchor="middle" font-size="13">Alignment map, {_e(quarter)}</text>',
           f'<rect x="{w / 2 - size / 2}" y="30" width="{size}" height="{size}" fill="none" stroke="#ddd"/>']
    for g in groups:
        if len(g) > 1:
            pts = np.array([xy[COUNTRIES.index(c)] for c in g])
            centre = pts.mean(axis=0)
            radius = max(float(np.max(np.linalg.norm(pts - centre, axis=1))) + 0.2, 0.25)
            cx, cy = px(centre)
            out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{radius / lim * size / 2:.1f}" fill="#999" '
                       f'fill-opacity="0.15"/>')
    if previous is not None:
        old = alignment_coords(previous)
        for i, c in enumerate(COUNTRIES):
            (x0, y0), (x1, y1) = px(old[i]), px(xy[i])
            out.append(f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="{COLOURS[c]}" '
                       f'stroke-opacity="0.5" stroke-width="2"/>')
    for i, c in enumerate(COUNTRIES):
        x, y = px(xy[i])
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="10" fill="{COLOURS[c]}" stroke="white" stroke-width="2"/>'
                   f'<text x="{x:.1f}" y="{y - 14:.1f}" font-size="11" text-anchor="middle">{SHORT[c]}</text>')
    out.append(f'<text x="{w / 2}" y="{h - 22}" font-size="10" text-anchor="middle">closer together = more '
               f'aligned (classical MDS of 1 - affinity); shaded = bloc</text>'
               f'<text x="{w / 2}" y="{h - 8}" font-size="11" text-anchor="middle" class="geo-blocs">Blocs: '
               f'{_e(bloc_text(groups))}</text></svg>')
    return "".join(out)


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(v))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * mag >= v:
            return m * mag
    return 10 * mag


def _panel(x0, y0, pw, ph, title, series, labels, ymin=0.0, ymax=None, stacked=None, hline=None) -> str:
    """One small chart. series: list of (values, colour, dash, legend, step)."""
    n = len(labels)
    all_vals = [v for s in series for v in s[0] if v is not None and not math.isnan(v)]
    if stacked is not None:
        all_vals += list(np.sum(np.array([s[0] for s in stacked]), axis=0))
    if hline is not None:
        all_vals.append(hline * 1.1)
    lo = min([ymin] + all_vals) if all_vals else 0.0
    hi = _nice_max(max(all_vals) if all_vals else 1.0) if ymax is None else ymax
    if hi <= lo:
        hi = lo + 1.0
    left, top, bottom = 34, 18, 16
    iw, ih = pw - left - 6, ph - top - bottom

    def X(i):
        return x0 + left + (iw * i / max(n - 1, 1))

    def Y(v):
        return y0 + top + ih * (1 - (v - lo) / (hi - lo))

    out = [f'<text x="{x0 + pw / 2}" y="{y0 + 11}" font-size="11" text-anchor="middle">{_e(title)}</text>',
           f'<rect x="{x0 + left}" y="{y0 + top}" width="{iw}" height="{ih}" fill="none" stroke="#ccc"/>']
    for k in range(3):
        v = lo + (hi - lo) * k / 2
        out.append(f'<line x1="{x0 + left}" x2="{x0 + left + iw}" y1="{Y(v):.1f}" y2="{Y(v):.1f}" stroke="#eee"/>'
                   f'<text x="{x0 + left - 3}" y="{Y(v) + 3:.1f}" font-size="9" text-anchor="end">{v:.4g}</text>')
    step = max(1, math.ceil(n / 4))
    for i in range(0, n, step):
        out.append(f'<text x="{X(i):.1f}" y="{y0 + ph - 3}" font-size="9" text-anchor="middle">{_e(labels[i])}</text>')
    if stacked is not None:
        base = np.zeros(n)
        for vals, colour, legend in stacked:
            top_line = base + np.asarray(vals, dtype=float)
            pts = [f"{X(i):.1f},{Y(top_line[i]):.1f}" for i in range(n)]
            pts += [f"{X(i):.1f},{Y(base[i]):.1f}" for i in reversed(range(n))]
            out.append(f'<polygon points="{" ".join(pts)}" fill="{colour}" fill-opacity="0.8"/>')
            base = top_line
    if hline is not None:
        out.append(f'<line x1="{x0 + left}" x2="{x0 + left + iw}" y1="{Y(hline):.1f}" y2="{Y(hline):.1f}" '
                   f'stroke="#444" stroke-dasharray="4,3"/><text x="{x0 + left + 3}" y="{Y(hline) - 3:.1f}" '
                   f'font-size="9">${hline:.0f}bn target (2030)</text>')
    for vals, colour, dash, legend, is_step in series:
        pts = []
        for i, v in enumerate(vals):
            if v is None or (isinstance(v, float) and math.isnan(v)):
                continue
            if is_step and pts:
                pts.append(f"{X(i):.1f},{float(pts[-1].split(',')[1]):.1f}")
            pts.append(f"{X(i):.1f},{Y(v):.1f}")
        if len(pts) == 1:
            x, y = pts[0].split(",")
            out.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{colour}"/>')
        out.append(f'<polyline points="{" ".join(pts)}" fill="none" stroke="{colour}" stroke-width="1.8" '
                   f'stroke-dasharray="{dash}"/>')
    # legend
    ly = y0 + top + 10
    entries = [(c, l, d) for _, c, d, l, _ in series if l] + ([(c, l, "") for _, c, l in stacked] if stacked else [])
    for colour, legend, dash in entries[:4]:
        out.append(f'<line x1="{x0 + left + 4}" x2="{x0 + left + 18}" y1="{ly - 3}" y2="{ly - 3}" stroke="{colour}" '
                   f'stroke-width="3" stroke-dasharray="{dash}"/><text x="{x0 + left + 21}" y="{ly}" '
                   f'font-size="9">{_e(legend)}</text>')
        ly += 11
    return "".join(out)


def timeseries_svg(runs: list[tuple[str, pd.DataFrame]], w=900, h=430, title: str = "") -> str:
    """Six time series of one or more runs (solid, then dashed) as inline SVG."""
    labels: list[str] = sorted({q for _, f in runs for q in f["quarter"]})
    pos = {q: i for i, q in enumerate(labels)}
    n = len(labels)

    def aligned(frame, col, scale=1.0):
        vals = [None] * n
        for q, v in zip(frame["quarter"], frame[col]):
            vals[pos[q]] = float(v) * scale
        return vals

    single = len(runs) == 1
    panels = [[] for _ in range(6)]
    stacked = None
    for k, (name, f) in enumerate(runs):
        d = DASHES[k % len(DASHES)]
        sfx = "" if single else f" ({name})"
        (seller_col, total_col), (fob_col, delivered_col), (tariff_col,), (trade_col,), (exports_col,), \
            (revenue_col,) = (names for _, names in SERIES)
        rus = aligned(f, seller_col)
        tot = aligned(f, total_col)
        if single:
            stacked = [(rus, COLOURS[CRUDE_SELLER], "from Russia"),
                       ([t - r for t, r in zip(tot, rus)], "#b0bec5", "from others")]
        else:
            panels[0].append((rus, COLOURS[CRUDE_SELLER], d, "from Russia" + sfx, False))
            panels[0].append((tot, "#607d8b", d, "total" + sfx, False))
        panels[1].append((aligned(f, fob_col), "#8e44ad", d, "FOB (port)" + sfx, False))
        panels[1].append((aligned(f, delivered_col), "#16a085", d, "delivered" + sfx, False))
        panels[2].append((aligned(f, tariff_col, 100), COLOURS[PENALISER], d, "" if single else name, True))
        panels[3].append((aligned(f, trade_col), COLOURS[ARMS_BUYER], d, "" if single else name, False))
        panels[4].append((aligned(f, exports_col), COLOURS[PENALISER], d, "" if single else name, False))
        panels[5].append((aligned(f, revenue_col), COLOURS[CRUDE_SELLER], d, "" if single else name, False))
    top = 22 if title else 0
    pw, ph = w / 3, (h - top) / 2
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" class="geo-svg">']
    if title:
        out.append(f'<text x="{w / 2}" y="15" font-size="13" text-anchor="middle">{_e(title)}</text>')
    for i, t in enumerate(SERIES_TITLES):
        x0, y0 = (i % 3) * pw, top + (i // 3) * ph
        out.append(_panel(x0, y0, pw, ph, t, panels[i], labels,
                          stacked=stacked if i == 0 else None,
                          hline=TARGET_TRADE_USD_BN if i == 3 else None,
                          ymin=0.0 if i != 1 else min(0.0, *[v for s in panels[1] for v in s[0] if v is not None])))
    out.append("</svg>")
    return "".join(out)
