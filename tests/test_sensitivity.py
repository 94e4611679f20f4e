"""Sensitivity analysis on the real model: what cannot matter ranks near zero, what must matter above."""
from __future__ import annotations

import pandas as pd
import pytest

from geogame.experiments.cli import main
from geogame.experiments.sensitivity import parse_metric, run_sensitivity
from geogame.model import InputError, load_scenario

# India's own crude-share setting drives its crude share at the first quarter; Russia's rupee
# recycling only moves rupee balances, which the crude market of the first quarter never sees.
RANGES = {"ind.crude_share_from_rus": (0.34, 0.44), "rus.rupee_recycling": (0.0, 1.0)}
METRIC = "crude_share_ind_from_rus@2026Q1"


def test_sobol_ranks_an_irrelevant_setting_near_zero_and_a_driving_one_above(tmp_path):
    table, summary = run_sensitivity("sobol", RANGES, [METRIC, "crude_share_ind_from_rus@2026Q1:2026Q2"],
                                     samples=16, quarters=2, out=tmp_path / "sobol", seed=1)
    assert summary.failed == 0 and summary.ran == 16 * (2 * 2 + 2)
    at = table[table["metric"] == METRIC].set_index(["parameter", "index"])
    assert abs(at.loc[("rus.rupee_recycling", "ST"), "value"]) < 0.05
    assert abs(at.loc[("rus.rupee_recycling", "S1"), "value"]) < 0.05
    assert at.loc[("ind.crude_share_from_rus", "ST"), "value"] > 0.5
    assert at.loc[("ind.crude_share_from_rus", "S1"), "value"] > at.loc[("rus.rupee_recycling", "S1"), "value"] + 0.3
    assert set(table["index"]) == {"S1", "ST", "S2"} and table["conf"].notna().all()
    saved = pd.read_csv(tmp_path / "sobol" / "sensitivity.csv")
    assert len(saved) == len(table)
    assert (tmp_path / "sobol" / "sensitivity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_morris_from_the_command_line(tmp_path):
    out = tmp_path / "morris"
    code = main(["sensitivity", "--method", "morris", "--samples", "4", "--quarters", "1", "--backend", "serial",
                 "--range", "ind.crude_share_from_rus=0.34:0.44", "--range", "rus.rupee_recycling=0:1",
                 "--metric", METRIC, "--out", str(out), "--quiet"])
    assert code == 0
    table = pd.read_csv(out / "sensitivity.csv").set_index(["parameter", "index"])
    assert table.loc[("rus.rupee_recycling", "mu_star"), "value"] < 1e-6
    assert table.loc[("ind.crude_share_from_rus", "mu_star"), "value"] > 0.01


@pytest.mark.parametrize("text,needle", [
    ("nope@2026Q1", "not known"),
    ("crude_share_ind_from_rus", "needs a quarter"),
    ("crude_share_ind_from_rus@2031Q1", "outside the run"),
    ("crude_share_ind_from_rus@2026Q3:2026Q1", "inverted"),
    ("crude_share_ind_from_rus@2026Q5", "YYYYQn"),
])
def test_bad_metrics_are_refused(text, needle):
    with pytest.raises(InputError, match=needle):
        parse_metric(text, load_scenario("baseline"), 4, ["crude_share_ind_from_rus"])


def test_bad_sensitivity_input_exits_2_before_running(tmp_path, capsys):
    out = tmp_path / "x"
    assert main(["sensitivity", "--quarters", "1", "--range", "rus.rupee_recycling=0:1",
                 "--metric", METRIC, "--out", str(out)]) == 2
    assert "at least two" in capsys.readouterr().err
    assert main(["sensitivity", "--quarters", "1", "--range", "rus.rupee_recycling=1:0",
                 "--range", "eu.price_cap_usd=30:70", "--metric", METRIC, "--out", str(out)]) == 2
    assert "inverted" in capsys.readouterr().err
    assert not out.exists()
