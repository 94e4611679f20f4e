"""Plots and a self-contained HTML page from a finished sweep.

For each metric:

* fan charts: median and 5-95% band across replicates, by quarter, one panel per design point
  (designs with more points than ``max_points`` show one panel over all runs);
* a heat map of the last quarter's median over the first two swept settings that take more
  than one value on a grid (other settings pooled).

Images are PNG files; ``report.html`` embeds them as base64 so it can be mailed as one file.
"""
from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from geogame.model import OUTCOMES, InputError

from .runner import ID_COLUMNS as RUN_ID_COLUMNS
from .store import ResultStore, read_results

ID_COLUMNS = [*RUN_ID_COLUMNS, "quarter_index", "quarter"]
#: Units of the quarterly table's columns, from their declarations (``geogame.OUTCOMES``).
UNITS = {o.name: o.unit for o in OUTCOMES}


def metric_title(metric: str) -> str:
    """A chart title: the column name and its declared unit (``brent_usd (USD/bbl)``)."""
    return f"{metric} ({UNITS[metric]})" if metric in UNITS else metric


def fan_summary(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Median and 5%/95% quantiles of ``metric`` by design point and quarter."""
    grouped = table.groupby(["point_id", "quarter_index"])[metric]
    return pd.DataFrame({"p05": grouped.quantile(0.05), "median": grouped.median(),
                         "p95": grouped.quantile(0.95)}).reset_index()


def point_label(params: dict) -> str:
    """A short label of a design point's settings (``eu.price_cap_usd=45``)."""
    return ", ".join(f"{k}={v:.4g}" for k, v in params.items()) or "scenario"


def heat_axes(manifest: dict) -> list[str]:
    """The first two grid settings with more than one value (empty if there are none)."""
    grid = (manifest.get("design") or {}).get("grid") or {}
    return [k for k, v in grid.items() if len(v) > 1][:2]


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def fan_chart(table: pd.DataFrame, metric: str, keys: list[str], max_points: int, path: Path) -> None:
    """Write the fan charts of one metric to ``path``.

    Parameters
    ----------
    table : pandas.DataFrame
        The sweep's quarterly results (``read_results``).
    metric : str
        The column to plot.
    keys : list of str
        The swept settings (they label the panels).
    max_points : int
        Most design points shown as separate panels; with more, one panel pools every run.
    path : pathlib.Path
        The PNG file to write.
    """
    plt = _plt()
    labels = table.drop_duplicates("quarter_index").set_index("quarter_index")["quarter"].astype(str)
    points = table.drop_duplicates("point_id").set_index("point_id")[keys]
    if len(points) > max_points:
        table = table.assign(point_id=0)
        titles = {0: f"all {len(points)} design points"}
    else:
        titles = {pid: point_label(row.to_dict()) for pid, row in points.iterrows()}
    fan = fan_summary(table, metric)
    n = len(titles)
    cols = min(3, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.8 * rows), squeeze=False, sharey=True)
    for ax, (pid, title) in zip(axes.flat, titles.items()):
        part = fan[fan["point_id"] == pid]
        ax.fill_between(part["quarter_index"], part["p05"], part["p95"], alpha=0.3, label="5-95%")
        ax.plot(part["quarter_index"], part["median"], lw=1.8, label="median")
        ticks = part["quarter_index"].to_numpy()[:: max(1, len(part) // 5)]
        ax.set_xticks(ticks, [labels[t] for t in ticks], fontsize=7)
        ax.set_title(title, fontsize=8)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(metric_title(metric))
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def heat_map(table: pd.DataFrame, metric: str, axes: list[str], path: Path) -> None:
    """Median of ``metric`` at the last quarter over two swept settings, written to ``path``.

    Parameters
    ----------
    table : pandas.DataFrame
        The sweep's quarterly results.
    metric : str
        The column to map.
    axes : list of str
        The two swept settings (rows, columns); other settings are pooled.
    path : pathlib.Path
        The PNG file to write.
    """
    plt = _plt()
    last = table[table["quarter_index"] == table["quarter_index"].max()]
    grid = last.pivot_table(index=axes[0], columns=axes[1], values=metric, aggfunc="median")
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    image = ax.imshow(grid.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(grid.columns)), [f"{v:.4g}" for v in grid.columns], fontsize=7)
    ax.set_yticks(range(len(grid.index)), [f"{v:.4g}" for v in grid.index], fontsize=7)
    ax.set_xlabel(axes[1])
    ax.set_ylabel(axes[0])
    quarter = last["quarter"].iloc[0]
    ax.set_title(f"{metric_title(metric)}, median at {quarter}", fontsize=9)
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def html_page(manifest: dict, table: pd.DataFrame, images: dict[str, list[Path]], failures: list) -> str:
    """The report page, with every image embedded.

    Parameters
    ----------
    manifest : dict
        The sweep's manifest (scenario, design, version, dates).
    table : pandas.DataFrame
        The sweep's quarterly results.
    images : dict
        Metric -> the PNG files to show for it, in order.
    failures : list of dict
        The failed runs (``run_id``, ``error``), the first 50 listed.

    Returns
    -------
    str
        A self-contained HTML page.
    """
    design = manifest.get("design", {})
    summary = (f"Scenario <b>{html.escape(str(manifest.get('scenario')))}</b>, "
               f"{manifest.get('quarters')} quarters; {design.get('n_points')} design points x "
               f"{design.get('replicates')} replicates = {design.get('n_runs')} runs; "
               f"{table['run_id'].nunique()} finished, {len(failures)} failed. "
               f"geogame {html.escape(str(manifest.get('package_version')))}, "
               f"started {html.escape(str(manifest.get('started')))}, ended {html.escape(str(manifest.get('ended')))}.")
    parts = ["<!DOCTYPE html>", "<html><head><meta charset='utf-8'><title>geogame sweep report</title>",
             "<style>body{font-family:sans-serif;margin:2em;max-width:1400px} img{max-width:100%}"
             " pre{background:#f4f4f4;padding:1em;overflow:auto}</style></head><body>",
             "<h1>geogame sweep report</h1>", f"<p>{summary}</p>",
             "<h2>Design</h2>", f"<pre>{html.escape(json.dumps({k: design.get(k) for k in ('grid', 'ranges', 'sample', 'replicates', 'master_seed')}, indent=1))}</pre>"]
    if failures:
        parts.append("<h2>Failed runs</h2><ul>")
        parts += [f"<li>run {f['run_id']}: {html.escape(str(f.get('error')))}</li>" for f in failures[:50]]
        parts.append("</ul>")
    for metric, paths in images.items():
        parts.append(f"<h2 id='{html.escape(metric)}'>{html.escape(metric)}</h2>")
        parts += [_img(p) for p in paths]
    parts.append("</body></html>")
    return "\n".join(parts)


def make_report(folder, metrics: list[str] | None = None, out=None, max_points: int = 12) -> Path:
    """Write fan charts, heat maps and ``report.html`` for the sweep in ``folder``.

    Parameters
    ----------
    folder : path
        A sweep's folder (``geogame sweep --out``).
    metrics : list of str, optional
        Metrics to plot (default: all).
    out : path, optional
        Report folder (default: ``folder/report``).
    max_points : int
        Most design points shown as separate fan-chart panels.

    Returns
    -------
    pathlib.Path
        The HTML page.
    """
    store = ResultStore(folder)
    if not store.manifest_path.exists():
        raise InputError(f"report: {str(folder)!r} holds no sweep (manifest.json missing)")
    if isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 1:
        raise InputError(f"--max-points = {max_points!r} is not allowed; allowed whole numbers >= 1")
    manifest = store.read_manifest()
    table = read_results(folder)
    keys = [k for k in manifest["design"]["keys"] if k in table]
    available = [c for c in table.columns if c not in ID_COLUMNS and c not in keys
                 and pd.api.types.is_numeric_dtype(table[c])]
    metrics = metrics or available
    unknown = [m for m in metrics if m not in available]
    if unknown:
        raise InputError(f"--metric {unknown[0]!r} is not in the results; allowed: {', '.join(available)}")
    out = Path(out) if out is not None else Path(folder) / "report"
    out.mkdir(exist_ok=True)
    axes = [k for k in heat_axes(manifest) if k in table]
    images: dict[str, list[Path]] = {}
    for metric in metrics:
        fan_path = out / f"fan_{metric}.png"
        fan_chart(table, metric, keys, max_points, fan_path)
        images[metric] = [fan_path]
        if len(axes) == 2:
            heat_path = out / f"heat_{metric}.png"
            heat_map(table, metric, axes, heat_path)
            images[metric].append(heat_path)
    page = out / "report.html"
    page.write_text(html_page(manifest, table, images, store.failures_list()))
    return page
