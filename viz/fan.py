"""The fan: what else could have happened, behind the current run's line.

The same scenario and settings run over many seeds as one ensemble (``geogame.model.fan``): per
quarter the median and the band between the 10th and 90th percentiles of each headline metric,
drawn behind the line of the run on screen, so that a student does not read one seed's noise
as an effect.

``viz/app.py`` shows it in ``LiveView``, below the time series.

The fan is computed once per scenario and settings (``solara.use_memo`` keyed on them: a new
seed or a step reuses it) and in well under a second for 64 seeds of a 20-quarter scenario on
the project's 2-core VM (``benchmarks/bench_ensemble.py`` measures it). Module state: none (the
memo lives in the component, per visitor).
"""
from __future__ import annotations

import html
import math

import pandas as pd
import solara

from geogame.model import FAN_METRICS, fan

#: Seeds in the fan (50-100 is enough for a stable 10-90% band; more costs time after Reset).
FAN_SEEDS = 64

#: Headline metrics: label and how a value is shown.
LABELS = {
    "crude_share_ind_from_rus": ("Russian share of India's crude", "pct"),
    "tariff_usa_on_ind": ("US tariff on Indian goods", "pct"),
    "urals_discount_delivered_ind_usd": ("Urals discount delivered to India, $/bbl", "num"),
    "russia_crude_revenue_usd_bn": ("Russia's crude revenue, $bn/yr", "num"),
    "trade_ind_rus_usd_bn": ("India-Russia trade, $bn/yr", "num"),
    "exports_ind_to_usa_usd_bn": ("Indian exports to the US, $bn/yr", "num"),
}


def _tick(kind: str, value: float) -> str:
    return f"{100 * value:.0f}%" if kind == "pct" else f"{value:,.0f}" if abs(value) >= 10 else f"{value:.1f}"


def fan_panel_svg(band: pd.DataFrame, run: pd.Series | None, title: str, kind: str,
                  w: int = 300, h: int = 170) -> str:
    """One metric's fan as SVG: the band (10-90%), the median (dashed) and the run's line.

    ``band`` has the columns of :func:`geogame.model.fan` for one metric; ``run`` is the current
    run's values by quarter index (it may be shorter than the fan: a run in progress).
    """
    left, right, top, bottom = 44, 8, 22, 22
    pw, ph = w - left - right, h - top - bottom
    n = max(len(band) - 1, 1)
    values = list(band["low"]) + list(band["high"]) + ([] if run is None else [float(v) for v in run])
    finite = [v for v in values if math.isfinite(v)]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    if hi - lo < 1e-12:
        lo, hi = lo - 1.0, hi + 1.0
    pad = 0.05 * (hi - lo)
    lo, hi = lo - pad, hi + pad

    def x(i: float) -> float:
        return left + pw * i / n

    def y(v: float) -> float:
        return top + ph * (1.0 - (v - lo) / (hi - lo))

    upper = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(band["high"]))
    lower = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in reversed(list(enumerate(band["low"]))))
    median = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(band["median"]))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
             f'aria-label="{html.escape(title)}: fan over seeds and this run">',
             f'<text x="{left}" y="14" font-size="12" font-weight="bold">{html.escape(title)}</text>',
             f'<polygon points="{upper} {lower}" fill="#9ecae1" fill-opacity="0.55" stroke="none"/>',
             f'<polyline points="{median}" fill="none" stroke="#3182bd" stroke-width="1.2" stroke-dasharray="4 3"/>']
    if run is not None and len(run):
        line = " ".join(f"{x(i):.1f},{y(float(v)):.1f}" for i, v in enumerate(run) if math.isfinite(float(v)))
        parts.append(f'<polyline points="{line}" fill="none" stroke="#d62728" stroke-width="2"/>')
    for v in (lo + pad, hi - pad):
        parts.append(f'<text x="{left - 4}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end">'
                     f'{html.escape(_tick(kind, v))}</text>')
    labels = list(band["quarter"])
    for i in (0, len(labels) - 1):
        parts.append(f'<text x="{x(i):.1f}" y="{h - 6}" font-size="10" text-anchor="middle">'
                     f'{html.escape(str(labels[i]))}</text>')
    parts.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#ccc"/>')
    parts.append("</svg>")
    return "".join(parts)


def fan_svgs(fan_frame: pd.DataFrame, run_frame: pd.DataFrame | None) -> list[str]:
    """One SVG panel per metric of ``fan_frame``, the run's line from ``run_frame`` (the quarterly table)."""
    out = []
    for metric, band in fan_frame.groupby("metric", sort=False):
        title, kind = LABELS.get(metric, (metric, "num"))
        run = None if run_frame is None or metric not in run_frame else run_frame[metric].reset_index(drop=True)
        out.append(fan_panel_svg(band.reset_index(drop=True), run, title, kind))
    return out


def _settings_key(overrides: dict | None) -> tuple:
    return tuple(sorted((overrides or {}).items()))


@solara.component
def FanView(scenario, overrides: dict | None, run_frame: pd.DataFrame | None, seeds: int = FAN_SEEDS,
            quarters: int | None = None):
    """The fan of the headline metrics behind the current run's line (red).

    ``scenario`` is the run's scenario (a preset name or a loaded Scenario), ``overrides`` its
    settings, ``run_frame`` its quarterly table so far. Recomputed only when the scenario or the
    settings change (a new seed, or a step, reuses it).
    """
    name = getattr(scenario, "name", scenario)
    key = (name, getattr(scenario, "text", ""), _settings_key(overrides), seeds, quarters)

    def compute():
        try:
            return fan(scenario, overrides=overrides, seeds=seeds, quarters=quarters, metrics=FAN_METRICS), None
        except Exception as exc:  # shown as one line; the live run goes on
            return None, f"{type(exc).__name__}: {exc}"

    frame, error = solara.use_memo(compute, dependencies=[key])
    if error:
        solara.Warning(f"The fan could not be computed: {error}")
        return
    solara.Text(f"What else could have happened: the same scenario and settings over {seeds} seeds "
                "(blue band: 10th-90th percentile, dashed: median); red: this run.")
    with solara.Row(gap="4px", style={"flex-wrap": "wrap"}):
        for svg in fan_svgs(frame, run_frame):
            solara.HTML(tag="div", unsafe_innerHTML=svg)
