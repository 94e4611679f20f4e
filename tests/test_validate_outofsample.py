"""The baseline against what happened in 2026 (`geogame validate`, model/data/outofsample_2026.csv).

The loader refuses a bad row in one line naming the field; the comparison sets the baseline's own
numbers (read here independently from an ensemble run) beside the observed ones; figures after the
28 February 2026 Hormuz shock are flagged, not scored; the CLI writes ``outofsample_2026.csv`` and a
report section, and ``--no-outofsample`` skips both.
"""
from __future__ import annotations

import csv
import math

import numpy as np
import pandas as pd
import pytest

from geogame.experiments.cli import main
from geogame.experiments.validate import (OUTOFSAMPLE_COLUMNS, SHOCK_FLAG, compare_outofsample,
                                          load_outofsample, median_run_quarter, outofsample_summary,
                                          reproduce_command)
from geogame.model import EnsembleRun, InputError, run_ensemble

SEEDS = 3   # the CLI default is 20: three keep the suite quick (the baseline's 2026Q1 does not vary by seed)

#: A well-formed metric row; tests change one field at a time.
METRIC = {"figure_id": "X1", "series": "crude_share_ind_from_rus", "period": "2026Q1", "month": "2026-01",
          "date": "", "observed": "0.212", "low": "0.19", "high": "0.23", "unit": "share of crude imports",
          "setting": "", "source_url": "https://example.org/a", "publisher": "Example (Kpler)",
          "source_date": "2026-02-19", "confidence": "medium", "fit_status": "held_out", "note": ""}
#: A well-formed event row.
EVENT = {**METRIC, "figure_id": "E1", "series": "event:ind.accept_us_deal", "month": "", "date": "2026-02-06",
         "observed": "", "low": "", "high": "", "unit": ""}


def _write(path, rows, columns=OUTOFSAMPLE_COLUMNS):
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


# ------------------------------------------------------------------------------------- loader
def test_the_project_file_loads_and_every_figure_is_held_out_and_sourced():
    figures = load_outofsample()
    assert len(figures) >= 15
    for f in figures:
        assert f.fit_status == "held_out"
        assert f.source_url.startswith("https://") and f.publisher and f.source_date[:4] == "2026"
        assert f.period.startswith("2026")
    # the figures the brief names are there, with their values
    by_id = {f.figure_id: f for f in figures}
    assert by_id["O26_RUSVOL_2026_01"].observed == pytest.approx(1.192)
    assert by_id["O26_EV_US_DEAL_TARIFF"].observed == pytest.approx(0.18)
    assert by_id["O26_EV_US_DEAL_TARIFF"].setting == "usa.deal_tariff_on_ind"
    # the shock flag follows the dates: January-February before, March after
    assert not by_id["O26_SHARE_2026_02"].after_shock and by_id["O26_RUSVOL_2026_03"].after_shock
    assert by_id["O26_EV_US_WAIVER"].after_shock and not by_id["O26_EV_IND_ACCEPT"].after_shock


@pytest.mark.parametrize("change, fragment", [
    ({"series": "no_such_metric"}, "series = 'no_such_metric' is not allowed"),
    ({"series": "event:ind.no_such_move"}, "'no_such_move' is not a move of ind"),
    ({"series": "event:chn.accept_us_deal"}, "player 'chn' is not allowed"),
    ({"period": "2025Q4"}, "is its start state"),
    ({"period": "2031Q1"}, "outside the baseline's simulated quarters"),
    ({"period": "2026"}, "is not a single quarter"),
    ({"month": "2026-04"}, "month = '2026-04' is not allowed"),
    ({"date": "2026-02-30"}, "date = '2026-02-30' is not allowed"),
    ({"date": "2026-02-06"}, "date = '2026-02-06' is not allowed"),   # not in the row's month, 2026-01
    ({"observed": "0.5"}, "observed 0.5 is outside its range"),
    ({"observed": "abc"}, "observed = 'abc' is not a number"),
    ({"observed": "nan"}, "observed = 'nan' is not allowed"),
    ({"unit": ""}, "unit is empty"),
    ({"setting": "usa.deal_tariff_on_ind"}, "is not allowed for a metric"),
    ({"source_url": "Reuters"}, "source_url = 'Reuters' is not allowed"),
    ({"publisher": " "}, "publisher is empty"),
    ({"source_date": "March 2026"}, "source_date = 'March 2026' is not allowed"),
    ({"confidence": "certain"}, "confidence = 'certain' is not allowed"),
    ({"fit_status": "fitted"}, "fit_status = 'fitted' is not allowed"),
    ({"figure_id": ""}, "figure_id is empty"),
])
def test_a_bad_metric_row_is_refused_in_one_line_naming_the_field(tmp_path, change, fragment):
    path = _write(tmp_path / "o.csv", [{**METRIC, **change}])
    with pytest.raises(InputError) as caught:
        load_outofsample(path)
    message = str(caught.value)
    assert fragment in message and "\n" not in message and message.startswith("o.csv row 2")


@pytest.mark.parametrize("change, fragment", [
    ({"date": ""}, "an event needs the day it happened"),
    ({"observed": "0.18", "low": "0.18", "high": "0.18", "unit": "fraction"}, "setting = '' is not allowed"),
    ({"observed": "0.18", "unit": "fraction", "setting": "usa.no_such_setting"}, "'usa.no_such_setting' is not allowed"),
    ({"low": "0.1"}, "low/high given without an observed value"),
])
def test_a_bad_event_row_is_refused(tmp_path, change, fragment):
    path = _write(tmp_path / "o.csv", [{**EVENT, **change}])
    with pytest.raises(InputError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        load_outofsample(path)


def test_a_missing_file_column_or_a_duplicate_id_is_refused(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_outofsample(tmp_path / "nothing.csv")
    short = [c for c in OUTOFSAMPLE_COLUMNS if c != "publisher"]
    with pytest.raises(InputError, match="missing columns publisher"):
        load_outofsample(_write(tmp_path / "a.csv", [METRIC], short))
    with pytest.raises(InputError, match="duplicate figure_id X1"):
        load_outofsample(_write(tmp_path / "b.csv", [METRIC, {**METRIC, "month": "2026-02"}]))
    good = load_outofsample(_write(tmp_path / "c.csv", [METRIC, EVENT]))
    assert [f.figure_id for f in good] == ["X1", "E1"]


# --------------------------------------------------------------------------------- comparison
def _synthetic_runs():
    """Ten seeds; India's Russian share in 2026Q1 is seed / 10; seeds 0-2 accept the US deal in
    2026Q1, seeds 3-7 in 2026Q2, seeds 8-9 never."""
    rows, moves = [], []
    for seed in range(10):
        for q, label in enumerate(("2025Q4", "2026Q1", "2026Q2")):
            rows.append({"seed": seed, "quarter": label, "crude_share_ind_from_rus": seed / 10 + q})
        first = "2026Q1" if seed < 3 else "2026Q2" if seed < 8 else None
        for label in ("2026Q1", "2026Q2"):
            moves.append({"seed": seed, "quarter": label, "country": "ind",
                          "move": "accept_us_deal" if label == first else "hold"})
            moves.append({"seed": seed, "quarter": label, "country": "usa", "move": "offer_deal"})
    return pd.DataFrame(rows), pd.DataFrame(moves)


def test_the_comparison_puts_the_model_beside_the_observed_figure(tmp_path):
    rows = [METRIC,
            {**METRIC, "figure_id": "X2", "month": "2026-03", "observed": "1.4", "low": "1.3", "high": "1.5"},
            EVENT,
            {**EVENT, "figure_id": "T1", "series": "event:usa.offer_deal", "observed": "0.18", "low": "0.18",
             "high": "0.18", "unit": "fraction", "setting": "usa.deal_tariff_on_ind", "date": "2026-02-02"}]
    figures = load_outofsample(_write(tmp_path / "o.csv", rows))
    run, decisions = _synthetic_runs()
    table = compare_outofsample(figures, run, decisions, {"usa.deal_tariff_on_ind": 0.15}).set_index("figure_id")
    shares = np.arange(10) / 10 + 1           # the synthetic 2026Q1 values
    x1 = table.loc["X1"]
    assert x1.observed == pytest.approx(0.212)
    assert x1.model_median == pytest.approx(np.median(shares)) == pytest.approx(1.45)
    assert (x1.model_p10, x1.model_p90) == (pytest.approx(np.percentile(shares, 10)), pytest.approx(np.percentile(shares, 90)))
    assert x1.error == pytest.approx(1.45 - 0.212)
    assert x1.verdict == "model higher" and x1.shock == ""
    # a March figure covers days after 28 Feb: flagged and not scored, though it matches
    x2 = table.loc["X2"]
    assert x2.shock == SHOCK_FLAG and x2.verdict == f"not scored, {SHOCK_FLAG}: matches"
    # the median run accepts in 2026Q2 (sorted first quarters: Q1 x3, Q2 x5, never x2)
    e1 = table.loc["E1"]
    assert (e1.kind, e1.model_quarter, e1.lag_quarters) == ("event", "2026Q2", 1)
    assert e1.share_of_runs == pytest.approx(0.8) and e1.verdict == "model 1 quarter late"
    assert (e1.model_quarter_p10, e1.model_quarter_p90) == ("2026Q1", "not in the run")
    t1 = table.loc["T1"]
    assert (t1.kind, t1.model_median, t1.model_quarter) == ("term", 0.15, "2026Q1")
    assert t1.error == pytest.approx(0.15 - 0.18)
    assert t1.verdict == "term: model lower; timing: same quarter"
    summary = outofsample_summary(table.reset_index())
    assert summary == {"figures": 4, "scored": 3, "flagged": 1, "values": 2, "values_matching": 0, "events": 1,
                       "events_same_quarter": 0, "events_late": 1, "events_early": 0, "events_not_taken": 0}


def test_the_median_run_is_a_run_and_never_means_never():
    assert median_run_quarter(np.array([3.0, 1.0, 2.0, 4.0])) == 2.0     # lower median of 1, 2, 3, 4
    assert math.isinf(median_run_quarter(np.array([1.0, np.inf, np.inf])))


# ------------------------------------------------------------------------------------ the CLI
@pytest.fixture(scope="module")
def cli_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("oos") / "report"
    assert main(["validate", "--out", str(out), "--seeds", str(SEEDS), "--seed", "0", "--no-quarterly",
                 "--quiet"]) in (0, 1)
    return out


@pytest.fixture(scope="module")
def baseline_views():
    return run_ensemble([EnsembleRun("baseline", seed=s) for s in range(SEEDS)], 4)


def test_the_cli_writes_the_baseline_beside_the_observed_figures(cli_report, baseline_views):
    table = pd.read_csv(cli_report / "outofsample_2026.csv", keep_default_na=False, na_values=[""])
    assert len(table) == len(load_outofsample())
    rows = table.set_index("figure_id")
    # the model's numbers, read independently from an ensemble run of the same seeds
    metrics = pd.concat([v.metrics_frame() for v in baseline_views]).set_index("quarter")
    for figure_id, series in (("O26_SHARE_2026_01", "crude_share_ind_from_rus"),
                              ("O26_RUSVOL_2026_02", "crude_imports_ind_from_rus_mbd"),
                              ("O26_TARIFF_2026_02_24", "tariff_usa_on_ind")):
        values = metrics.loc["2026Q1", series].to_numpy(dtype=float)
        assert rows.loc[figure_id, "model_median"] == pytest.approx(float(np.median(values)))
    assert rows.loc["O26_SHARE_2026_01", "observed"] == pytest.approx(0.212)
    # the quarter India accepts the US deal, from each run's decisions
    firsts = []
    for view in baseline_views:
        d = view.decisions_frame()
        taken = d[(d["country"] == "ind") & (d["move"] == "accept_us_deal")]["quarter"]
        firsts.append(sorted(taken)[0] if len(taken) else "never")
    assert rows.loc["O26_EV_IND_ACCEPT", "model_quarter"] == sorted(firsts)[(SEEDS - 1) // 2]
    # the deal's terms are the settings the scenario runs with
    assert rows.loc["O26_EV_US_DEAL_TARIFF", "model_median"] == pytest.approx(0.15)
    assert rows.loc["O26_EV_US_DEAL_CEILING", "model_median"] == pytest.approx(0.10)
    flagged = set(rows.index[rows["shock"] == SHOCK_FLAG])
    assert flagged == {f.figure_id for f in load_outofsample() if f.after_shock} and "O26_RUSVOL_2026_03" in flagged
    page = (cli_report / "validation.html").read_text(encoding="utf-8")
    assert "Out of sample: 2026 so far" in page and "<td>O26_EV_IND_ACCEPT</td>" in page


def test_a_custom_file_is_used_and_its_text_escaped(tmp_path, capsys):
    path = _write(tmp_path / "o.csv", [{**METRIC, "note": "<script>alert(1)</script>"}])
    out = tmp_path / "r"
    assert main(["validate", "--out", str(out), "--seeds", "2", "--no-quarterly", "--outofsample", str(path),
                 "--quiet"]) in (0, 1)
    assert list(pd.read_csv(out / "outofsample_2026.csv")["figure_id"]) == ["X1"]
    page = (out / "validation.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "out of sample 2026" in capsys.readouterr().out


def test_no_outofsample_skips_the_file_and_the_section(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["validate", "--out", str(out), "--seeds", "2", "--no-quarterly", "--no-outofsample",
                 "--quiet"]) in (0, 1)
    assert not (out / "outofsample_2026.csv").exists()
    assert "Out of sample" not in (out / "validation.html").read_text(encoding="utf-8")
    assert "out of sample" not in capsys.readouterr().out
    assert "--no-outofsample" in reproduce_command(out, 2, 1, {}, outofsample=False)
    assert "--outofsample o.csv" in reproduce_command(out, 2, 1, {}, outofsample_path="o.csv")


def test_a_bad_file_or_clashing_flags_exit_2_before_any_work(tmp_path, capsys):
    bad = _write(tmp_path / "o.csv", [{**METRIC, "fit_status": "fitted"}])
    out = tmp_path / "never"
    assert main(["validate", "--out", str(out), "--outofsample", str(bad), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "fit_status = 'fitted' is not allowed" in err and err.count("\n") == 1 and not out.exists()
    assert main(["validate", "--out", str(out), "--no-outofsample", "--outofsample", str(bad), "--quiet"]) == 2
    assert "exclude each other" in capsys.readouterr().err and not out.exists()
