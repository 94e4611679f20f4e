"""`geogame class replay`: a played game's tables written as a user asks, bad paths refused in one line."""
import json
import subprocess
import sys

import pandas as pd
import pytest

from geogame.viz.classroom import ClassRegistry, ClassStore


@pytest.fixture(scope="module")
def game_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("replay")
    reg = ClassRegistry(ClassStore(folder / "class.sqlite3"))
    game, key = reg.create("baseline", seed=5, countries=["ind"])
    seat = game.join("Asha", "ind")
    game.start(key)
    game.submit(seat.code, "cap_russian_crude")
    game.advance(key)
    file = folder / "game.json"
    file.write_text(game.export_json())
    metrics = game.model.metrics_frame()
    reg.close()
    return file, metrics


def _replay(*args):
    return subprocess.run([sys.executable, "-m", "geogame.experiments.cli", "class", "replay", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_replay_writes_the_played_tables(game_file, tmp_path):
    file, metrics = game_file
    out, decisions = tmp_path / "run.csv", tmp_path / "decisions.parquet"
    r = _replay(file, "--out", out, "--decisions", decisions)
    assert r.returncode == 0, r.stderr
    assert "moves by people: 1 (India)" in r.stdout
    pd.testing.assert_frame_equal(pd.read_csv(out), metrics, check_dtype=False)
    assert (pd.read_parquet(decisions).query("rule == 'human'").move == "cap_russian_crude").all()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decisions.parquet", "run.csv"]   # no temporary left


@pytest.mark.parametrize("flag, path, says", [
    ("--out", "run.xlsx", "allowed: a .csv or .parquet file"),
    ("--decisions", "missing/d.csv", "does not exist or cannot be written"),
])
def test_a_bad_output_path_is_one_line_before_the_replay(game_file, tmp_path, flag, path, says):
    file, _ = game_file
    r = _replay(file, flag, tmp_path / path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and flag in r.stderr and says in r.stderr
    assert "replayed" not in r.stdout          # refused before any work
