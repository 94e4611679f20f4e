"""The geogame command line, end to end, as a user runs it."""
from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

GEOGAME = [sys.executable, "-m", "geogame.experiments.cli"]


def run(*args, cwd=None):
    return subprocess.run([*GEOGAME, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_scenarios_lists_presets_with_a_line_each():
    out = run("scenarios")
    assert out.returncode == 0
    lines = out.stdout.strip().splitlines()
    assert any(line.startswith("baseline") for line in lines)
    assert any(line.startswith("hindcast") for line in lines)
    assert len(lines) >= 7


def test_run_writes_csv_and_decisions(tmp_path):
    out = run("run", "--scenario", "baseline", "--quarters", "20", "--seed", "1", "--out", str(tmp_path / "run.csv"))
    assert out.returncode == 0, out.stderr
    table = pd.read_csv(tmp_path / "run.csv")
    assert len(table) == 21 and table.quarter.iloc[-1] == "2030Q4"
    decisions = pd.read_csv(tmp_path / "run_decisions.csv")
    assert len(decisions) == 80 and {"move", "reason", "runner_up"} <= set(decisions.columns)


def test_run_with_override_to_parquet_matches_python_api(tmp_path):
    from geogame.model import GeopoliticsModel

    out = run("run", "--scenario", "baseline", "--set", "usa.oil_penalty_tariff_on_ind=0",
              "--quarters", "8", "--out", str(tmp_path / "no_penalty.parquet"))
    assert out.returncode == 0, out.stderr
    table = pd.read_parquet(tmp_path / "no_penalty.parquet")
    expected = GeopoliticsModel("baseline", seed=1, overrides={"usa.oil_penalty_tariff_on_ind": 0}).run(8)
    pd.testing.assert_frame_equal(table, expected.metrics_frame())


def test_run_user_scenario_file_with_decisions_path(tmp_path):
    scenario = tmp_path / "my_class.toml"
    scenario.write_text('title = "Our class"\nquarters = 6\n[settings]\neu.price_cap_usd = 40\n'
                        '[rules]\nind = "scripted"\n'
                        '[[events]]\nquarter = "2026Q3"\nset = { "ind.crude_ceiling" = 0.2 }\n')
    out = run("run", "--scenario", str(scenario), "--decisions", str(tmp_path / "decisions.csv"),
              "--out", str(tmp_path / "r.csv"))
    assert out.returncode == 0, out.stderr
    table = pd.read_csv(tmp_path / "r.csv")
    assert len(table) == 7
    assert table.price_cap_usd.iloc[0] == 40
    assert table.crude_share_ind_from_rus.iloc[-1] <= 0.2 + 1e-9
    assert (tmp_path / "decisions.csv").exists()


@pytest.mark.parametrize("args, message", [
    (["run", "--scenario", "baseln"], "did you mean 'baseline'"),
    (["run", "--set", "usa.base_tariff_on_ind=-1"], "usa.base_tariff_on_ind = -1 is out of range"),
    (["run", "--set", "nonsense"], "is not of the form owner.name=value"),
    (["run", "--quarters", "0"], "quarters = 0 is not allowed"),
    (["run", "--out", "run.xlsx"], "must end in .csv or .parquet"),
    (["run", "--rule", "usa=genius"], "allowed: ai, best, scripted"),
    (["run", "--quarters", "two"], "invalid int value"),
])
def test_bad_input_exit_2_one_line_nothing_written(tmp_path, args, message):
    out = run(*args, cwd=tmp_path)
    assert out.returncode == 2
    assert message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr
    assert list(tmp_path.iterdir()) == []


def test_help_explains_commands():
    out = run("--help")
    assert out.returncode == 0
    assert "run" in out.stdout and "scenarios" in out.stdout
    out = run("run", "--help")
    assert "--set" in out.stdout and "usa.oil_penalty_tariff_on_ind=0" in out.stdout


def test_best_response_rule_from_the_command_line_and_back_from_its_scenario(tmp_path):
    """`--rule ind=best` runs India by best response; the scenario the run writes loads again."""
    out = run("run", "--scenario", "baseline", "--rule", "ind=best", "--quarters", "2", "--seed", "3",
              "--out", "best.csv", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    import pandas as pd

    decisions = pd.read_csv(tmp_path / "best_decisions.csv")
    india = decisions[decisions.country == "ind"]
    assert (india.rule == "best").all() and (india.move == india.best_move).all()
    from geogame.model import GeopoliticsModel, parse_scenario

    model = GeopoliticsModel(scenario="baseline", seed=3, rules={"ind": "best"})
    assert parse_scenario(model.scenario_toml()).rules["ind"] == "best"


def test_a_closed_pipe_stops_quietly(tmp_path):
    """`geogame params | head` must not print a BrokenPipeError traceback."""
    reader = subprocess.Popen([*GEOGAME, "params"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    reader.stdout.close()          # the reader goes away before the table is written (imports take seconds)
    stderr = reader.stderr.read().decode()
    reader.wait(timeout=300)
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr
    assert reader.returncode == 141
