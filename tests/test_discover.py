"""Scenario discovery (PRIM, CART, feature scoring) and robustness (regret, satisficing) on sweeps' folders."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geogame.experiments import sweep
from geogame.experiments.cli import main

PNG = b"\x89PNG\r\n\x1a\n"
DRIVER, IDLE = "ind.crude_share_from_rus", "rus.rupee_recycling"


@pytest.fixture(scope="module")
def lhs(tmp_path_factory):
    """80 runs of one quarter: India's Russian-crude share at 2026Q1 follows its starting setting."""
    out = tmp_path_factory.mktemp("d") / "lhs"
    table = sweep(quarters=1, ranges={DRIVER: (0.34, 0.44), IDLE: (0.0, 1.0)}, sample="lhs:80", seed=4, out=out)
    share = table[table["quarter"] == "2026Q1"]["crude_share_ind_from_rus"]
    return out, float(share.median())


@pytest.fixture(scope="module")
def crossed(tmp_path_factory):
    """Two levers x one uncertainty, every combination, two replicates, two quarters."""
    out = tmp_path_factory.mktemp("r") / "grid"
    sweep(quarters=2, grid={"usa.oil_penalty_tariff_on_ind": [0, 0.5], "eu.price_cap_usd": [40, 60],
                            "world.crude_discount_sensitivity": [0.3, 0.9]}, replicates=2, seed=1, out=out)
    return out


def test_prim_finds_the_setting_that_drives_the_condition(lhs, tmp_path, capsys):
    from geogame.experiments.discover import discover

    folder, median = lhs
    result = discover(folder, f"crude_share_ind_from_rus < {median}", quarter="2026Q1", features=True,
                      levers=[IDLE])
    assert result.n_runs == 80 and 30 <= result.n_hits <= 50
    traj = result.trajectory
    assert traj["coverage"].between(0, 1).all() and traj["density"].between(0, 1).all()
    assert traj["mass"].is_monotonic_decreasing and traj["density"].iloc[-1] > traj["density"].iloc[0]
    assert traj["density"].iloc[result.chosen] > 0.9  # a low starting share makes a low share
    box = result.box.set_index("setting")
    assert DRIVER in box.index and box.loc[DRIVER, "high"] < box.loc[DRIVER, "range_high"]
    assert box.loc[DRIVER, "kind"] == "uncertainty"
    scores = result.features.set_index("setting")
    assert scores.loc[DRIVER, "score_condition"] > scores.loc[IDLE, "score_condition"]
    assert scores.loc[IDLE, "kind"] == "lever"
    # the command line writes the same, and the plots
    assert main(["discover", str(folder), "--where", f"crude_share_ind_from_rus < {median}", "--quarter", "2026Q1",
                 "--features", "--out", str(tmp_path / "d")]) == 0
    printed = capsys.readouterr().out
    assert "PRIM box" in printed and DRIVER in printed and "coverage" in printed
    saved = pd.read_csv(tmp_path / "d" / "prim_trajectory.csv")
    assert len(saved) == len(traj)
    for name in ("prim.png", "features.png"):
        assert (tmp_path / "d" / name).read_bytes()[:8] == PNG


def test_cart_leaves_separate_the_condition(lhs, tmp_path):
    from geogame.experiments.discover import discover

    folder, median = lhs
    result = discover(folder, f"crude_share_ind_from_rus < {median}", quarter="2026Q1", method="cart")
    best = result.trajectory.iloc[result.chosen]
    assert best["density"] > 0.9 and best["coverage"] > 0.3
    assert result.trajectory["mass"].sum() == pytest.approx(1.0)  # leaves partition the runs
    assert DRIVER in set(result.box[result.box["leaf"] == result.chosen]["setting"])
    assert main(["discover", str(folder), "--where", f"crude_share_ind_from_rus < {median}", "--quarter", "2026Q1",
                 "--method", "cart", "--out", str(tmp_path / "c"), "--quiet"]) == 0
    assert (tmp_path / "c" / "cart.png").read_bytes()[:8] == PNG


def test_robustness_ranks_policies_by_regret_and_satisficing(crossed, tmp_path, capsys):
    from geogame.experiments.robustness import robustness

    levers = ["usa.oil_penalty_tariff_on_ind", "eu.price_cap_usd"]
    result = robustness(crossed, "russia_crude_revenue_usd_bn", levers, minimise=True, threshold=None)
    runs = pd.read_parquet(crossed / "metrics")
    last = runs[runs["quarter"] == "2026Q2"]
    means = last.groupby([*levers, "world.crude_discount_sensitivity"])["russia_crude_revenue_usd_bn"].mean()
    grid = means.unstack(levers)
    regret = (grid - grid.min(axis=1).to_numpy()[:, None]).max(axis=0)
    table = result.table.set_index(levers)
    for policy, value in regret.items():
        assert table.loc[policy, "max_regret"] == pytest.approx(value)
    assert result.table["max_regret"].is_monotonic_increasing and list(result.table["rank_regret"]) == [1, 2, 3, 4]
    median = float(np.median(grid.to_numpy()))
    assert result.threshold == pytest.approx(median)
    assert table["satisficing"].to_dict() == pytest.approx((grid <= median).mean(axis=0).to_dict())
    high = robustness(crossed, "russia_crude_revenue_usd_bn", levers, minimise=False, threshold=-1.0)
    assert (high.table["satisficing"] == 1.0).all()  # every revenue is >= -1
    assert main(["robustness", str(crossed), "--outcome", "russia_crude_revenue_usd_bn", "--minimise",
                 "--levers", ",".join(levers), "--out", str(tmp_path / "r")]) == 0
    assert "max regret" in capsys.readouterr().out
    assert (tmp_path / "r" / "robustness.png").read_bytes()[:8] == PNG
    assert len(pd.read_csv(tmp_path / "r" / "robustness.csv")) == 4


@pytest.mark.parametrize("args, needle", [
    (["--where", "crude_share_ind_from_rus << 0.1"], "not of the form METRIC OP NUMBER"),
    (["--where", "nope < 0.1"], "metric 'nope' is not in the results"),
    (["--where", "crude_share_ind_from_rus < 5"], "holds in 80 of 80 runs"),
    (["--where", "crude_share_ind_from_rus < 0.3", "--quarter", "2030Q1"], "--quarter 2030Q1 is not in the runs"),
    (["--where", "crude_share_ind_from_rus < 0.3", "--levers", "eu.price_cap_usd"], "not a swept setting"),
    (["--where", "crude_share_ind_from_rus < 0.4", "--mass-min", "2"], "--mass-min = 2.0 is not allowed"),
])
def test_discover_refuses_bad_input_in_one_line(lhs, capsys, args, needle):
    folder, _ = lhs
    assert main(["discover", str(folder), *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1, err


def test_a_folder_that_is_not_a_sweep_and_a_design_not_crossed_are_refused(lhs, tmp_path, capsys):
    assert main(["discover", str(tmp_path), "--where", "brent_usd < 60"]) == 2
    assert "holds no sweep" in capsys.readouterr().err
    assert main(["robustness", str(lhs[0]), "--outcome", "brent_usd", "--levers", IDLE]) == 2
    assert "pairs have no run" in capsys.readouterr().err
    assert main(["robustness", str(lhs[0]), "--outcome", "brent_usd", "--levers", f"{IDLE},{DRIVER}"]) == 2
    assert "at least one as an uncertainty" in capsys.readouterr().err


def test_a_sweep_records_its_levers_and_the_analyses_read_them(tmp_path, capsys):
    import json

    out = tmp_path / "levers"
    base = ["sweep", "--quarters", "1", "--grid", "eu.price_cap_usd=40,60", "--grid",
            "world.crude_discount_sensitivity=0.3,0.9", "--backend", "serial", "--quiet"]
    assert main([*base, "--levers", "usa.base_tariff_on_ind", "--out", str(out)]) == 2
    assert "not a swept setting" in capsys.readouterr().err and not out.exists()
    assert main([*base, "--levers", "eu.price_cap_usd", "--out", str(out)]) == 0
    assert json.loads((out / "manifest.json").read_text())["levers"] == ["eu.price_cap_usd"]
    assert main(["robustness", str(out), "--outcome", "brent_usd", "--quiet"]) == 0  # levers from the manifest
    table = pd.read_csv(out / "robustness" / "robustness.csv")
    assert list(table.columns[:2]) == ["eu.price_cap_usd", "rank_regret"] and len(table) == 2
