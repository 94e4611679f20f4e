"""Plots and a self-contained HTML page from a finished sweep.

For each metric:

* fan charts: the app's fan (:func:`geogame.model.fan_band`: the median and the 10-90% band of
  the seeds, by quarter), one panel per design point; designs with more points than
  ``max_points`` show one panel that keeps the design spread (5-95% of the points' medians) apart
  from the seed spread (the typical 10-90% band of the seeds at one point);
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

from geogame.model import FAN_BAND, OUTCOMES, InputError, fan_band, setting

from .runner import ID_COLUMNS as RUN_ID_COLUMNS
from .store import ResultStore, read_results

ID_COLUMNS = [*RUN_ID_COLUMNS, "quarter_index", "quarter"]
#: Units of the quarterly table's columns, from their declarations (``geogame.OUTCOMES``).
UNITS = {o.name: o.unit for o in OUTCOMES}
#: Quantiles of the design spread: over the design points' medians (the seed band is the app's FAN_BAND).
DESIGN_BAND = (0.05, 0.95)


def band_text(band: tuple[float, float]) -> str:
    """Two quantiles as a legend shows them: ``(0.1, 0.9)`` -> ``10-90%``."""
    return f"{100 * band[0]:g}-{100 * band[1]:g}%"


#: How the legends name the seed band: ``10-90% of seeds``, the app's fan.
SEED_BAND = f"{band_text(FAN_BAND)} of seeds"


def metric_title(metric: str) -> str:
    """A chart title: the column name and its declared unit (``brent_usd (USD/bbl)``)."""
    return f"{metric} ({UNITS[metric]})" if metric in UNITS else metric


def fan_summary(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The app's fan of ``metric`` at each design point: per quarter, the median of its seeds' runs
    and their 10-90% band, computed by :func:`geogame.model.fan_band` (the app's own function).

    Cells (a point at a quarter) with the same number of runs go to ``fan_band`` together, one
    cell a row, so a large design costs a few array calls, not one per point; a point whose runs
    partly failed has fewer runs, and its band is over the runs it has.

    Returns
    -------
    pandas.DataFrame
        One row per design point and quarter: ``point_id``, then ``fan_band``'s columns
        ``quarter``, ``quarter_index``, ``median``, ``low``, ``high`` (the metric's unit) and
        ``runs`` (seeds in the band).
    """
    cells = table.sort_values(["point_id", "quarter_index", "run_id"], kind="stable")
    runs = cells.groupby(["point_id", "quarter_index"])[metric].transform("size")
    frames = []
    for n, rows in cells.groupby(runs, sort=True):  # rows of a cell stay together, in run order
        first = rows.iloc[::n]
        band = fan_band(rows[metric].to_numpy(dtype=float).reshape(-1, n), first["quarter"].astype(str), FAN_BAND)
        frames.append(band.assign(point_id=first["point_id"].to_numpy(), quarter_index=first["quarter_index"].to_numpy()))
    out = pd.concat(frames, ignore_index=True).sort_values(["point_id", "quarter_index"], kind="stable")
    return out[["point_id", "quarter", "quarter_index", "median", "low", "high", "runs"]].reset_index(drop=True)


def pooled_summary(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Design spread and seed spread of ``metric`` by quarter, kept apart.

    The *design spread* is the 5-95% range (:data:`DESIGN_BAND`), across design points, of each
    point's median over its seeds: how much the settings move the metric. The *seed spread* is
    each point's own fan, the app's 10-90% band of its seeds (:func:`fan_summary`), taken relative
    to that point's median and summarised by its median over the points: how much the model's
    randomness moves it at a given setting. It is drawn around the median of the point medians.

    Returns
    -------
    pandas.DataFrame
        One row per ``quarter_index``: ``median`` (median of the point medians), ``design_p05``,
        ``design_p95`` (5% and 95% of the point medians), ``seed_low``, ``seed_high`` (the typical
        10-90% band of the seeds; all in the metric's unit), ``points`` and ``replicates`` (the
        most replicates of any point).
    """
    per_point = fan_summary(table, metric)
    per_point["below"] = per_point["low"] - per_point["median"]
    per_point["above"] = per_point["high"] - per_point["median"]
    g = per_point.groupby("quarter_index")
    out = pd.DataFrame({"median": g["median"].median(), "design_p05": g["median"].quantile(DESIGN_BAND[0]),
                        "design_p95": g["median"].quantile(DESIGN_BAND[1]), "below": g["below"].median(),
                        "above": g["above"].median(), "points": g["point_id"].nunique(), "replicates": g["runs"].max()})
    out["seed_low"] = out["median"] + out["below"]
    out["seed_high"] = out["median"] + out["above"]
    return out.drop(columns=["below", "above"]).reset_index()


def point_label(params: dict) -> str:
    """A short label of a design point's settings (``eu.price_cap_usd=45``)."""
    return ", ".join(f"{k}={v:.4g}" for k, v in params.items()) or "scenario"


def heat_axes(manifest: dict) -> list[str]:
    """The first two grid settings with more than one value (empty if there are none)."""
    grid = (manifest.get("design") or {}).get("grid") or {}
    return [k for k, v in grid.items() if len(v) > 1][:2]


def setting_title(key: str) -> str:
    """An axis label for a setting: its key and unit (``eu.price_cap_usd (USD/bbl)``)."""
    try:
        unit = setting(key).unit
    except Exception:  # noqa: BLE001 - a key the registry no longer knows: label it bare
        return key
    return f"{key} ({unit})" if unit else key


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _quarter_ticks(ax, quarter_index, labels, most: int = 6) -> None:
    """At most ``most`` quarter labels on the x axis, turned so they never overlap."""
    ticks = np.asarray(sorted(set(quarter_index)))
    step = max(1, int(np.ceil(len(ticks) / most)))
    shown = ticks[::step]
    ax.set_xticks(shown, [labels[t] for t in shown], fontsize=7, rotation=45, ha="right")
    ax.set_xlabel("quarter", fontsize=8)


def fan_chart(table: pd.DataFrame, metric: str, keys: list[str], max_points: int, path: Path) -> None:
    """Write the fan charts of one metric to ``path``.

    With at most ``max_points`` design points, one panel per point: the app's fan, the median of
    its seeds and their 10-90% band (the seed spread at that setting; :func:`fan_summary`). With
    more, one panel that keeps the two spreads apart (see :func:`pooled_summary`): the 5-95% band
    of the points' medians (design spread) and, around the median, the typical 10-90% band of the
    seeds at one point (seed spread).

    Parameters
    ----------
    table : pandas.DataFrame
        The sweep's quarterly results (``read_results``).
    metric : str
        The column to plot.
    keys : list of str
        The swept settings (they label the panels).
    max_points : int
        Most design points shown as separate panels.
    path : pathlib.Path
        The PNG file to write.
    """
    plt = _plt()
    labels = table.drop_duplicates("quarter_index").set_index("quarter_index")["quarter"].astype(str)
    points = table.drop_duplicates("point_id").set_index("point_id")[keys]
    replicates = int(table.groupby("point_id")["run_id"].nunique().max())
    unit = metric_title(metric)
    if len(points) > max_points:
        pooled = pooled_summary(table, metric)
        fig, ax = plt.subplots(figsize=(7.5, 4.2))
        ax.fill_between(pooled["quarter_index"], pooled["design_p05"], pooled["design_p95"], alpha=0.25,
                        color="tab:blue",
                        label=f"design spread: {band_text(DESIGN_BAND)} of the {len(points)} points' medians")
        if replicates > 1:
            ax.fill_between(pooled["quarter_index"], pooled["seed_low"], pooled["seed_high"], alpha=0.45,
                            color="tab:orange",
                            label=f"seed spread: typical {SEED_BAND} at one point ({replicates} seeds)")
        ax.plot(pooled["quarter_index"], pooled["median"], lw=1.8, color="black", label="median of the points' medians")
        _quarter_ticks(ax, pooled["quarter_index"], labels)
        ax.set_ylabel(unit, fontsize=8)
        note = "" if replicates > 1 else " (1 replicate: seed spread not measured)"
        ax.set_title(f"{metric}: {len(points)} design points x {replicates} replicates{note}", fontsize=9)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return
    titles = {pid: point_label(row.to_dict()) for pid, row in points.iterrows()}
    fan = fan_summary(table, metric)
    n = len(titles)
    cols = min(3, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 3.2 * rows), squeeze=False, sharey=True)
    for ax, (pid, title) in zip(axes.flat, titles.items()):
        part = fan[fan["point_id"] == pid]
        if replicates > 1:
            ax.fill_between(part["quarter_index"], part["low"], part["high"], alpha=0.3,
                            label=f"seed spread: {SEED_BAND} ({replicates} seeds)")
        ax.plot(part["quarter_index"], part["median"], lw=1.8, label="median of seeds")
        _quarter_ticks(ax, part["quarter_index"], labels)
        ax.set_title(title, fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel(unit, fontsize=8)
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
    fig, ax = plt.subplots(figsize=(5.8, 4.4))
    image = ax.imshow(grid.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(grid.columns)), [f"{v:.4g}" for v in grid.columns], fontsize=7)
    ax.set_yticks(range(len(grid.index)), [f"{v:.4g}" for v in grid.index], fontsize=7)
    ax.set_xlabel(setting_title(axes[1]), fontsize=8)
    ax.set_ylabel(setting_title(axes[0]), fontsize=8)
    quarter = last["quarter"].iloc[0]
    ax.set_title(f"{metric}, median at {quarter}", fontsize=9)
    bar = fig.colorbar(image, ax=ax)
    bar.set_label(metric_title(metric), fontsize=8)
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
             f"<p>Fan charts show the app's fan at each design point: the median of its seeds' runs and the "
             f"band of {SEED_BAND} by quarter. Designs with many points pool "
             f"them: the design spread is {band_text(DESIGN_BAND)} of the points' medians.</p>",
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
    manifest = store.read_manifest("report")
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
