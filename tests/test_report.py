"""Reports: fan charts and heat maps as PNG files and one self-contained HTML page."""
from __future__ import annotations

import base64
from html.parser import HTMLParser

from geogame.experiments import sweep
from geogame.experiments.cli import main

PNG = b"\x89PNG\r\n\x1a\n"


class Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources, self.headings, self._in_h2 = [], [], False

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs)["src"])
        self._in_h2 = tag == "h2"

    def handle_data(self, data):
        if self._in_h2:
            self.headings.append(data)
            self._in_h2 = False


def test_report_writes_fan_charts_heat_maps_and_a_self_contained_page(tmp_path, capsys):
    out = tmp_path / "sweep"
    sweep(quarters=3, grid={"usa.oil_penalty_tariff_on_ind": [0, 0.5], "eu.price_cap_usd": [40, 60]},
          replicates=3, seed=1, out=out)
    metrics = ["crude_share_ind_from_rus", "tariff_usa_on_ind"]
    code = main(["report", str(out), "--metric", metrics[0], "--metric", metrics[1]])
    assert code == 0
    folder = out / "report"
    for metric in metrics:
        assert (folder / f"fan_{metric}.png").read_bytes()[:8] == PNG
        assert (folder / f"heat_{metric}.png").read_bytes()[:8] == PNG
    parser = Images()
    parser.feed((folder / "report.html").read_text())
    assert len(parser.sources) == 4
    for src in parser.sources:
        assert src.startswith("data:image/png;base64,")  # embedded: no file links
        assert base64.b64decode(src.split(",", 1)[1])[:8] == PNG
    assert set(metrics) <= set(parser.headings)


def test_report_refuses_a_folder_without_a_sweep_and_unknown_metrics(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "no sweep" in capsys.readouterr().err
    out = tmp_path / "s"
    sweep(quarters=1, grid={"eu.price_cap_usd": [40]}, out=out)
    assert main(["report", str(out), "--metric", "nope"]) == 2
    assert "'nope'" in capsys.readouterr().err


def _table(point_effect: float, seed_effect: float):
    """4 design points x 5 seeds x 3 quarters: value = point_effect * point + seed_effect * replicate."""
    import pandas as pd

    rows = [{"run_id": p * 5 + r, "point_id": p, "replicate": r, "quarter_index": q, "quarter": f"2026Q{q + 1}",
             "x": point_effect * p + seed_effect * r}
            for p in range(4) for r in range(5) for q in range(3)]
    return pd.DataFrame(rows)


def test_the_pooled_fan_keeps_design_spread_and_seed_spread_apart():
    import pytest

    from geogame.experiments.report import pooled_summary

    design_only = pooled_summary(_table(10.0, 0.0), "x")
    assert (design_only["design_p95"] - design_only["design_p05"]).iloc[0] == pytest.approx(30 * 0.9)
    assert (design_only["seed_high"] - design_only["seed_low"]).abs().max() == 0
    seeds_only = pooled_summary(_table(0.0, 1.0), "x")
    assert (seeds_only["design_p95"] - seeds_only["design_p05"]).abs().max() == 0
    # The seed band is the app's 10-90% of seeds (replicates 0..4: from 0.4 to 3.6), not 5-95% (3.6 wide).
    assert (seeds_only["seed_high"] - seeds_only["seed_low"]).iloc[0] == pytest.approx(4 * 0.8)
    assert list(seeds_only["replicates"]) == [5, 5, 5] and list(seeds_only["points"]) == [4, 4, 4]


def test_pooled_and_per_point_fans_label_axes_with_units(tmp_path, monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from geogame.experiments import report

    table = sweep(quarters=6, grid={"eu.price_cap_usd": [40, 50, 60]}, replicates=2, seed=1)
    seen, close = [], plt.close
    monkeypatch.setattr(plt, "close", seen.append)  # keep the figures to read their axes
    report.fan_chart(table, "brent_usd", ["eu.price_cap_usd"], 2, tmp_path / "pooled.png")
    report.fan_chart(table, "brent_usd", ["eu.price_cap_usd"], 12, tmp_path / "panels.png")
    pooled, panels = seen
    ax = pooled.axes[0]
    assert ax.get_ylabel() == "brent_usd (USD/bbl)" and ax.get_xlabel() == "quarter"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("design spread") for t in legend) and any(t.startswith("seed spread") for t in legend)
    assert len([t for t in ax.get_xticklabels() if t.get_text()]) <= 6
    assert all(t.get_rotation() == 45 for t in ax.get_xticklabels())
    visible = [a for a in panels.axes if a.get_visible()]
    assert len(visible) == 3 and visible[0].get_ylabel() == "brent_usd (USD/bbl)"
    for fig in seen:
        close(fig)


def test_report_help_prints_percent_signs_once(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["report", "--help"])
    text = capsys.readouterr().out
    assert "10-90% of seeds" in text and "5-95% of the points' medians" in text and "%%" not in text
    assert "seed spread" in text


# ------------------------------------------------------------------------ the app's fan, shared
def _wide(table, point_id: int, metric: str):
    """One design point's runs of ``metric``: (quarters, runs) and the quarter labels."""
    part = table[table["point_id"] == point_id]
    wide = part.pivot(index="quarter_index", columns="run_id", values=metric).sort_index()
    labels = part.drop_duplicates("quarter_index").set_index("quarter_index")["quarter"].loc[wide.index]
    return wide.to_numpy(), labels.astype(str).tolist()


def test_the_report_seed_band_is_the_apps_fan_band_and_the_chart_draws_it(tmp_path, monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    from geogame.experiments import report
    from geogame.model import FAN_BAND, fan_band

    metric = "trade_ind_rus_usd_bn"  # varies from seed to seed
    table = sweep(quarters=5, grid={"eu.price_cap_usd": [40, 60]}, replicates=9, seed=4, backend="serial")
    table = table[table["run_id"] != 3]  # a failed run: its point's band is over the 8 runs it has
    summary = report.fan_summary(table, metric)
    assert FAN_BAND == (0.1, 0.9) and report.SEED_BAND == "10-90% of seeds"
    for pid, runs in [(0, 8), (1, 9)]:
        values, labels = _wide(table, pid, metric)
        assert values.shape == (6, runs)
        expected = fan_band(values, labels)
        got = summary[summary["point_id"] == pid].drop(columns="point_id").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_exact=True)
        low, high = np.quantile(values, [0.1, 0.9], axis=1)  # the app's 10-90% (the pooled test tells it from 5-95%)
        np.testing.assert_array_equal(got["low"], low)
        np.testing.assert_array_equal(got["high"], high)

    seen, close = [], plt.close
    monkeypatch.setattr(plt, "close", seen.append)  # keep the figure to read what it drew
    report.fan_chart(table, metric, ["eu.price_cap_usd"], 12, tmp_path / "panels.png")
    [figure] = seen
    for ax, pid in zip(figure.axes, (0, 1)):
        drawn = ax.collections[0].get_paths()[0].vertices[:, 1]
        band = summary[summary["point_id"] == pid]
        assert np.isin(band["low"], drawn).all() and np.isin(band["high"], drawn).all()
        np.testing.assert_array_equal(ax.lines[0].get_ydata(), band["median"])
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend == ["seed spread: 10-90% of seeds (9 seeds)", "median of seeds"]
    close(figure)


def test_fan_band_refuses_a_bad_band_or_shape():
    import numpy as np
    import pytest

    from geogame.model import InputError, fan_band

    with pytest.raises(InputError, match="band"):
        fan_band(np.zeros((2, 3)), ["2025Q4", "2026Q1"], band=(0.6, 0.9))
    with pytest.raises(ValueError, match="quarter labels"):
        fan_band(np.zeros((2, 3)), ["2025Q4"])


def test_the_app_fan_is_unchanged_by_sharing_its_band():
    """fan() for baseline, 16 seeds, 8 quarters: the default metrics' median and 10th/90th percentiles
    over the seeds, each seed run on its own as a Mesa model (the numbers fan() gave before fan_band)."""
    import numpy as np

    from geogame.model import FAN_METRICS, GeopoliticsModel, fan

    frame = fan("baseline", seeds=16, quarters=8)
    runs = [GeopoliticsModel("baseline", seed=s).run(8).metrics_frame() for s in range(16)]
    assert list(frame.columns) == ["quarter", "quarter_index", "metric", "median", "low", "high", "runs"]
    assert frame["metric"].drop_duplicates().tolist() == list(FAN_METRICS)
    for metric in FAN_METRICS:
        part = frame[frame["metric"] == metric]
        stacked = np.array([run[metric].to_numpy(dtype=float) for run in runs])  # (seeds, quarters)
        low, median, high = np.quantile(stacked, [0.1, 0.5, 0.9], axis=0)
        np.testing.assert_array_equal(part["median"], median)
        np.testing.assert_array_equal(part["low"], low)
        np.testing.assert_array_equal(part["high"], high)
        assert part["quarter"].tolist() == runs[0]["quarter"].astype(str).tolist()
        assert part["quarter_index"].tolist() == list(range(9)) and (part["runs"] == 16).all()
