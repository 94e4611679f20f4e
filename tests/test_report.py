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
