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


# ------------------------------------------------------------- replicates, convergence, methods
def test_indices_use_the_mean_over_replicates_and_report_the_seed_spread(tmp_path):
    from geogame.experiments import sensitivity
    from geogame.experiments.sensitivity import analyse, problem_spec

    table = sensitivity(["sobol", "pawn"], RANGES, ["trade_ind_rus_usd_bn@2026Q2"], samples=8, replicates=3,
                        quarters=2, out=tmp_path / "rep", seed=2, second_order=False)
    runs = pd.read_parquet(tmp_path / "rep" / "runs" / "metrics")
    assert runs["run_id"].nunique() == 8 * 4 * 3 and sorted(runs["replicate"].unique()) == [0, 1, 2]
    last = runs[runs["quarter"] == "2026Q2"].sort_values("run_id")
    means = last.groupby("point_id")["trade_ind_rus_usd_bn"].mean().to_numpy()
    assert last.groupby("point_id")["trade_ind_rus_usd_bn"].std().max() > 0  # the seeds differ
    x = last.drop_duplicates("point_id")[list(RANGES)].to_numpy()
    expected = analyse("sobol", problem_spec(RANGES, ["y"]), x, means, False, 2)
    got = table[table["method"] == "sobol"]
    assert got["value"].to_numpy() == pytest.approx(expected["value"].to_numpy())
    assert got["seed_sd"].notna().all() and (got["seed_sd"] > 0).any()
    noise = table.attrs["noise"].set_index("metric").loc["trade_ind_rus_usd_bn@2026Q2"]
    assert noise["replicates"] == 3 and noise["seed_sd"] > 0 and 0 < noise["seed_share"] < 1
    conv = table.attrs["convergence"]
    assert sorted(conv["n"].unique()) == [4, 8]  # N/2 and N (N/4 = 2 is too few to analyse)
    for name in ("sensitivity.csv", "convergence.csv", "noise.csv", "warnings.txt", "convergence.png"):
        assert (tmp_path / "rep" / name).exists()


def test_a_python_call_returns_the_tidy_table_and_one_replicate_has_no_seed_spread(tmp_path):
    import geogame.experiments as ex

    table = ex.sensitivity("morris", RANGES, [METRIC], samples=4, quarters=1, out=tmp_path / "m")
    assert list(table.columns) == ["metric", "method", "parameter", "other", "index", "value", "conf", "seed_sd", "n"]
    assert table["seed_sd"].isna().all() and (table["method"] == "morris").all()


def test_settle_warnings_name_an_unsettled_index_and_s1_above_st():
    from geogame.experiments.sensitivity import settle_warnings

    def rows(n, s1, st, conf):
        return [("m@2026Q1", "sobol", "a", "", "S1", s1, conf, n), ("m@2026Q1", "sobol", "a", "", "ST", st, conf, n)]

    cols = ["metric", "method", "parameter", "other", "index", "value", "conf", "n"]
    settled = pd.DataFrame(rows(8, 0.50, 0.60, 0.05) + rows(16, 0.52, 0.61, 0.05), columns=cols)
    assert settle_warnings(settled, settled[settled["n"] == 16]) == []
    moving = pd.DataFrame(rows(8, 0.10, 0.60, 0.05) + rows(16, 0.52, 0.61, 0.05), columns=cols)
    notes = settle_warnings(moving, moving[moving["n"] == 16])
    assert len(notes) == 1 and "S1 of a has not settled" in notes[0] and "0.100 at N=8" in notes[0]
    inverted = pd.DataFrame(rows(16, 0.46, 0.15, 0.05), columns=cols)  # the N=16 case
    notes = settle_warnings(inverted, inverted)
    assert len(notes) == 1 and "S1 of a (0.460" in notes[0] and "above its ST" in notes[0]
    within = pd.DataFrame(rows(16, 0.46, 0.40, 0.05), columns=cols)  # inside the intervals: no warning
    assert settle_warnings(within, within) == []


@pytest.mark.parametrize("methods", [["fast"], ["rbd_fast", "pawn"]])
def test_fast_pawn_and_rbd_fast_rank_the_driving_setting_first(tmp_path, methods):
    from geogame.experiments import sensitivity

    table = sensitivity(methods, RANGES, [METRIC], samples=65 if methods == ["fast"] else 64, quarters=1,
                        out=tmp_path / "s")
    assert set(table["method"]) == set(methods)
    for method in methods:
        part = table[table["method"] == method]
        main_index = {"fast": "ST", "rbd_fast": "S1", "delta": "delta", "pawn": "pawn_median"}[method]
        at = part[part["index"] == main_index].set_index("parameter")["value"]
        assert at["ind.crude_share_from_rus"] > at["rus.rupee_recycling"] + 0.15, (method, at.to_dict())


@pytest.mark.parametrize("extra, needle", [
    (["--method", "sobol,morris"], "each need their own sample"),
    (["--method", "sobl"], "'sobl' is not known"),
    (["--method", "sobol,sobol"], "twice"),
    (["--replicates", "0"], "--replicates = 0"),
    (["--method", "fast", "--samples", "20"], "allowed whole numbers >= 65"),
])
def test_bad_methods_and_replicates_exit_2_before_running(tmp_path, capsys, extra, needle):
    out = tmp_path / "x"
    assert main(["sensitivity", "--quarters", "1", "--range", "rus.rupee_recycling=0:1",
                 "--range", "eu.price_cap_usd=30:70", "--metric", METRIC, "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_help_prints_percent_signs_once(capsys):
    with pytest.raises(SystemExit):
        main(["sensitivity", "--help"])
    text = capsys.readouterr().out
    assert "95%" in text and "%%" not in text and "--replicates" in text and "pawn" in text


def test_delta_ranks_a_driving_input_first():
    import numpy as np

    from geogame.experiments.sensitivity import analyse, draw_sample, problem_spec

    spec = problem_spec({"a": (0, 1), "b": (0, 1)}, ["y"])
    x = draw_sample(spec, "latin", 128, False, 3)
    y = 3 * x[:, 0] + np.random.default_rng(3).normal(0, 0.3, len(x))
    table = analyse("delta", spec, x, y, seed=3).set_index(["parameter", "index"])
    assert table.loc[("a", "delta"), "value"] > table.loc[("b", "delta"), "value"] + 0.2
    assert table.loc[("a", "S1"), "value"] > 0.5 and table["conf"].notna().all()


def test_a_delta_outside_0_1_is_reported_as_unknown_not_as_a_number(monkeypatch):
    """SALib's delta returned -9,252 for an output one setting almost determines (seen on this model)."""
    import numpy as np
    from SALib.analyze import delta

    from geogame.experiments.sensitivity import analyse, draw_sample, problem_spec

    spec = problem_spec({"a": (0, 1), "b": (0, 1)}, ["y"])
    x = draw_sample(spec, "latin", 32, False, 1)
    broken = {"delta_raw": np.array([-9252.9, 0.09]), "delta_raw_conf": np.array([1.0, 0.1]),
              "S1": np.array([0.9, 0.0]), "S1_conf": np.array([0.1, 0.1])}
    monkeypatch.setattr(delta, "analyze", lambda *args, **kwargs: broken)
    table = analyse("delta", spec, x, x[:, 0], seed=1)
    assert table["value"].isna().all() and "outside [0, 1]" in table.attrs["error"]
