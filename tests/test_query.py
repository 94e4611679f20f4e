"""geogame query: SQL over a sweep's Parquet files with DuckDB (views runs and decisions)."""
from __future__ import annotations

import pandas as pd
import pytest

from geogame.experiments import sweep
from geogame.experiments.cli import main


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("q") / "sweep"
    sweep(quarters=2, grid={"eu.price_cap_usd": [40, 60], "usa.oil_penalty_tariff_on_ind": [0, 0.5]},
          replicates=2, seed=3, out=out, decisions=True)
    return out


def test_an_aggregate_answers_as_pandas_does(folder):
    from geogame.experiments.query import query

    answer = query(folder, 'SELECT "eu.price_cap_usd" AS cap, avg(brent_usd) AS brent, count(*) AS n '
                           "FROM runs WHERE quarter = '2026Q2' GROUP BY 1 ORDER BY 1")
    table = pd.read_parquet(folder / "metrics")
    expected = table[table["quarter"] == "2026Q2"].groupby("eu.price_cap_usd")["brent_usd"].agg(["mean", "size"])
    assert list(answer["cap"]) == [40.0, 60.0]
    assert answer["brent"].to_numpy() == pytest.approx(expected["mean"].to_numpy())
    assert list(answer["n"]) == list(expected["size"])
    moves = query(folder, "SELECT count(DISTINCT run_id) AS runs FROM decisions")
    assert moves["runs"].iloc[0] == 8


def test_the_command_line_prints_or_writes_the_answer(folder, tmp_path, capsys):
    sql = "SELECT replicate, max(crude_share_ind_from_rus) AS top FROM runs GROUP BY 1 ORDER BY 1"
    assert main(["query", str(folder), sql]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split() == ["replicate", "top"] and len(printed) == 3
    out = tmp_path / "answer.csv"
    assert main(["query", str(folder), sql, "--out", str(out)]) == 0
    assert list(pd.read_csv(out)["replicate"]) == [0, 1]


@pytest.mark.parametrize("sql, needle", [
    ("SELEC 1", "SQL: Parser Error"),
    ("SELECT nope FROM runs", 'column "nope" not found'),
    ("SELECT 1; SELECT 2", "2 statements given"),
    ("COPY (SELECT * FROM runs) TO 'leak.csv'", "a COPY statement is not allowed"),
    ("CREATE TABLE t AS SELECT 1", "a CREATE statement is not allowed"),
    ("  ", "SQL: empty"),
])
def test_bad_sql_is_one_line_and_exit_2(folder, tmp_path, capsys, monkeypatch, sql, needle):
    monkeypatch.chdir(tmp_path)
    assert main(["query", str(folder), sql]) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "leak.csv").exists()


def test_a_folder_that_is_not_a_sweep_is_one_line(tmp_path, capsys):
    assert main(["query", str(tmp_path), "SELECT 1"]) == 2
    assert "holds no sweep" in capsys.readouterr().err
    assert main(["query", str(tmp_path / "missing"), "SELECT 1"]) == 2
    assert "is not a folder" in capsys.readouterr().err
    (tmp_path / "manifest.json").write_text("{}")
    assert main(["query", str(tmp_path), "SELECT 1"]) == 2
    assert "holds no finished runs" in capsys.readouterr().err
