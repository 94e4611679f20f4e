"""Experiments as files (issue 13 item 4): ``geogame sweep --spec``, ``--rerun``, ``--dry-run``, ``--yes``."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from geogame.experiments import sweep_cli
from geogame.experiments.cli import main
from geogame.experiments.store import read_results

STUDY = """\
scenario = "baseline"
quarters = 2
replicates = 2
seed = 5
backend = "serial"
quiet = true
levers = ["usa.oil_penalty_tariff_on_ind"]

[grid]
"usa.oil_penalty_tariff_on_ind" = [0, 0.5]
eu.price_cap_usd = "40:50:10"      # a dotted key unquoted: read as the setting eu.price_cap_usd

[set]
"usa.base_tariff_on_ind" = 0.1
"""


def run(argv, capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_spec_runs_the_same_sweep_as_its_flags_and_flags_win(tmp_path, capsys):
    (tmp_path / "study.toml").write_text(STUDY)
    code, _, err = run(["sweep", "--spec", tmp_path / "study.toml", "--out", tmp_path / "a"], capsys)
    assert code == 0, err
    code, _, err = run(["sweep", "--quarters", "2", "--replicates", "2", "--seed", "5", "--backend", "serial",
                        "--quiet", "--grid", "usa.oil_penalty_tariff_on_ind=0,0.5", "--grid",
                        "eu.price_cap_usd=40:50:10", "--set", "usa.base_tariff_on_ind=0.1", "--out", tmp_path / "b"],
                       capsys)
    assert code == 0, err
    a, b = (json.loads((tmp_path / x / "manifest.json").read_text()) for x in "ab")
    assert a["fingerprint"] == b["fingerprint"] and a["overrides"] == b["overrides"]
    assert a["levers"] == ["usa.oil_penalty_tariff_on_ind"]
    pd.testing.assert_frame_equal(read_results(tmp_path / "a"), read_results(tmp_path / "b"))
    # The command line wins over the file: one grid replaced, the seed changed.
    code, _, err = run(["sweep", "--spec", tmp_path / "study.toml", "--grid", "eu.price_cap_usd=60", "--seed", "6",
                        "--out", tmp_path / "c"], capsys)
    assert code == 0, err
    c = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert c["design"]["grid"]["eu.price_cap_usd"] == [60.0] and c["design"]["master_seed"] == 6
    assert c["design"]["grid"]["usa.oil_penalty_tariff_on_ind"] == [0.0, 0.5]


@pytest.mark.parametrize("text, needles", [
    ("replicatse = 3\n", ["replicatse", "not known", "did you mean replicates", "allowed:"]),
    ("replicates = \"ten\"\n", ["replicates", "ten", "allowed: a whole number"]),
    ("quarters = 2.5\n", ["quarters", "2.5", "allowed"]),
    ("decisions = \"yes\"\n", ["decisions", "yes", "true or false"]),
    ("grid = 3\n", ["grid", "3", "not a table"]),
    ("[grid]\n\"eu.price_cap_usd\" = [40, true]\n", ["grid.\"eu.price_cap_usd\"", "allowed: a non-empty list"]),
    ("[range]\n\"eu.price_cap_usd\" = [40]\n", ["range.\"eu.price_cap_usd\"", "[low, high]"]),
    ("[rule]\nusa = 3\n", ["rule.usa", "scripted"]),
    ("quarters = \n", ["not valid TOML", "line 1"]),
    ("[grid]\n\"eu.price_cap_usd\" = [40, 400]\n", ["eu.price_cap_usd", "400"]),
    ("backend = \"gpu\"\n", ["--backend", "gpu", "allowed"]),
])
def test_a_bad_spec_is_one_line_naming_the_key_value_and_what_is_allowed(tmp_path, capsys, text, needles):
    spec = tmp_path / "bad.toml"
    spec.write_text(text)
    code, _, err = run(["sweep", "--spec", spec, "--out", tmp_path / "out", "--quiet"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, (needle, err)
    assert not (tmp_path / "out").exists()


def test_a_missing_spec_or_a_folder_is_one_line(tmp_path, capsys):
    for spec, needle in [(tmp_path / "none.toml", "does not exist"), (tmp_path, "is a folder")]:
        code, _, err = run(["sweep", "--spec", spec, "--out", tmp_path / "o"], capsys)
        assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


def test_dry_run_prints_runs_time_and_disk_and_writes_nothing(tmp_path, capsys):
    (tmp_path / "study.toml").write_text(STUDY)
    code, out, err = run(["sweep", "--spec", tmp_path / "study.toml", "--out", tmp_path / "d", "--dry-run"], capsys)
    assert code == 0, err
    assert "8 runs (4 design points x 2 replicates), 2 quarters each" in out
    assert "time: about" in out and "s a run" in out and "disk: about" in out and "nothing was run" in out
    assert not (tmp_path / "d").exists()


def test_a_design_above_the_stated_size_needs_yes(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sweep_cli, "CONFIRM_RUNS", 5)
    base = ["sweep", "--quarters", "1", "--grid", "eu.price_cap_usd=40:60:2", "--backend", "serial", "--quiet",
            "--out", tmp_path / "y"]
    code, _, err = run(base, capsys)
    assert code == 2 and "11 runs, more than 5" in err and "--dry-run" in err and "--yes" in err
    assert not (tmp_path / "y").exists()
    code, _, err = run([*base, "--yes"], capsys)
    assert code == 0, err


def test_rerun_of_a_manifest_makes_the_same_table(tmp_path, capsys):
    first = tmp_path / "first"
    code, _, err = run(["sweep", "--quarters", "2", "--sample", "lhs:3", "--range", "eu.price_cap_usd=40:60",
                        "--replicates", "2", "--seed", "9", "--set", "usa.base_tariff_on_ind=0.1", "--backend",
                        "serial", "--quiet", "--out", first], capsys)
    assert code == 0, err
    code, _, err = run(["sweep", "--rerun", first / "manifest.json", "--out", tmp_path / "again", "--quiet",
                        "--backend", "serial"], capsys)
    assert code == 0, err
    old, new = (json.loads((f / "manifest.json").read_text()) for f in (first, tmp_path / "again"))
    assert old["fingerprint"] == new["fingerprint"] and old["overrides"] == new["overrides"]
    pd.testing.assert_frame_equal(read_results(first), read_results(tmp_path / "again"))
    code, _, err = run(["sweep", "--rerun", first / "manifest.json", "--grid", "eu.price_cap_usd=40,50",
                        "--out", tmp_path / "x"], capsys)
    assert code == 2 and "--rerun with --grid" in err
    code, _, err = run(["sweep", "--rerun", tmp_path / "none.json", "--out", tmp_path / "x"], capsys)
    assert code == 2 and "not a sweep's manifest" in err


def test_sensitivity_discover_and_robustness_read_a_spec_too(tmp_path, capsys):
    metric = "crude_share_ind_from_rus@2026Q1"
    (tmp_path / "sens.toml").write_text(f"""\
method = ["morris"]
samples = 4
quarters = 1
backend = "serial"
metric = ["{metric}"]
out = "{tmp_path / 'from_spec'}"
quiet = true

[range]
"ind.crude_share_from_rus" = [0.34, 0.44]
"rus.rupee_recycling" = "0:1"
""")
    code, _, err = run(["sensitivity", "--spec", tmp_path / "sens.toml"], capsys)
    assert code == 0, err
    code, _, err = run(["sensitivity", "--method", "morris", "--samples", "4", "--quarters", "1", "--backend",
                        "serial", "--range", "ind.crude_share_from_rus=0.34:0.44", "--range",
                        "rus.rupee_recycling=0:1", "--metric", metric, "--out", tmp_path / "from_flags", "--quiet"],
                       capsys)
    assert code == 0, err
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "from_spec" / "sensitivity.csv"),
                                  pd.read_csv(tmp_path / "from_flags" / "sensitivity.csv"))
    sweep_dir = tmp_path / "from_spec" / "runs"
    (tmp_path / "disc.toml").write_text(f'dir = "{sweep_dir}"\nwhere = "crude_share_ind_from_rus < 0.35"\n'
                                        f'out = "{tmp_path / "disc"}"\nquiet = true\n')
    code, _, err = run(["discover", "--spec", tmp_path / "disc.toml"], capsys)
    assert code == 0, err
    assert (tmp_path / "disc" / "prim_box.csv").is_file()
    for command, text, needle in [
        ("sensitivity", "samples = \"many\"\n", "samples = 'many' is not allowed; allowed: a whole number"),
        ("discover", "wher = \"x\"\n", "key 'wher' is not known (did you mean where?)"),
        ("discover", "quiet = true\n", "DIR is required"),
        ("robustness", f'dir = "{sweep_dir}"\nthreshold = "x"\n', "threshold = 'x' is not allowed; allowed: a number"),
    ]:
        (tmp_path / "bad.toml").write_text(text)
        code, _, err = run([command, "--spec", tmp_path / "bad.toml"], capsys)
        assert code == 2 and needle in err and len(err.strip().splitlines()) == 1, err
