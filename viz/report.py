"""Downloads: the run as CSV, the debrief as a self-contained HTML page (charts embedded)."""
from __future__ import annotations

import base64
import html
import io

import pandas as pd

from geogame.model import COUNTRY_NAMES
from . import charts, svg


def run_csv(session) -> str:
    """One CSV file with two sections: the quarterly table, then every decision."""
    buf = io.StringIO()
    buf.write(f"# geogame run: {session.describe()}\n# quarterly table\n")
    session.model.metrics_frame().to_csv(buf, index=False)
    buf.write("\n# decisions\n")
    session.model.decisions_frame().to_csv(buf, index=False)
    return buf.getvalue()


def metrics_csv(session) -> str:
    """The run's quarterly table as CSV text."""
    return session.model.metrics_frame().to_csv(index=False)


def decisions_csv(session) -> str:
    """The run's decisions (quarter, country, move, reason, ...) as CSV text."""
    return session.model.decisions_frame().to_csv(index=False)


def _img(fig) -> str:
    data = base64.b64encode(charts.png(fig, dpi=90)).decode("ascii")
    return f'<img alt="chart" style="max-width:100%" src="data:image/png;base64,{data}">'


def _table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p><em>none</em></p>"
    return frame.to_html(index=False, border=0, classes="t", escape=True)


def debrief_html(session) -> str:
    """The debrief as one HTML file with no external references."""
    m = session.model
    twin = session.ai_twin()
    who = COUNTRY_NAMES[session.play_as] if session.play_as else None
    mine_label = f"Your path ({who} played by you)" if who else "This run"
    ai_label = f"AI path ({who} played by the model)" if who else "AI path (same start and seed)"
    mine, ai = m.metrics_frame(), twin.metrics_frame()
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>geogame debrief: {html.escape(session.scenario.title)}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:1em auto;padding:0 1em}"
        "table.t{border-collapse:collapse;font-size:13px}table.t td,table.t th{border:1px solid #ccc;"
        "padding:3px 6px;vertical-align:top}.pair{display:flex;gap:1em}.pair>div{flex:1}</style>",
        "</head><body>",
        f"<h1>Debrief: {html.escape(session.scenario.title)}</h1>",
        f"<p>Run: {html.escape(session.describe())}. Quarters played: {session.quarters_done} "
        f"({html.escape(mine['quarter'].iloc[0])} to {html.escape(m.quarter_label)}).</p>",
        f"<p>{html.escape(session.scenario.story)}</p>",
        "<h2>Where the two paths ended</h2>", _table(session.end_comparison()),
        "<h2>Both paths on the same charts</h2>",
        svg.timeseries_svg([("you", mine), ("AI", ai)], title=f"solid: {mine_label}; dashed: {ai_label}"),
        "<div class='pair'>",
        f"<div><h3>{html.escape(mine_label)}</h3>",
        svg.alignment_svg(m.world.affinity[0], m.quarter_label),
        svg.network_svg(charts.trade_edges(m.world.goods_flow_usd_bn[0], m.latest), m.quarter_label),
        "</div>",
        f"<div><h3>{html.escape(ai_label)}</h3>",
        svg.alignment_svg(twin.world.affinity[0], twin.quarter_label),
        svg.network_svg(charts.trade_edges(twin.world.goods_flow_usd_bn[0], twin.latest), twin.quarter_label),
        "</div></div>",
        "<h2>Your moves and their consequences</h2>", _table(session.student_moves()),
        "<h2>All decisions on your path</h2>",
        _table(m.decisions_frame()[["quarter", "country", "move", "rule", "reason"]]),
        "<h2>All decisions on the AI path</h2>",
        _table(twin.decisions_frame()[["quarter", "country", "move", "rule", "reason"]]),
        "<h2>Scenario file reproducing this run</h2>",
        f"<pre>{html.escape(m.scenario_toml())}</pre>",
        "</body></html>",
    ]
    return "\n".join(parts)
