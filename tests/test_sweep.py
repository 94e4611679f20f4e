"""Sweeps: designs, backends giving identical tables, streaming, failures, resume after a kill."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geogame.experiments import sweep, sweeps
from geogame.experiments.backends import ProcessBackend
from geogame.experiments.cli import main
from geogame.experiments.design import build_design, parse_grid, parse_range, parse_sample, replicate_seeds
from geogame.experiments.runner import run_model
from geogame.experiments.store import ResultStore, part_run_ids, read_results
from geogame.model import InputError

ROOT = Path(__file__).resolve().parents[1]
GEOGAME = [str(ROOT / ".venv" / "bin" / "python"), "-m", "geogame.experiments.cli"]
GRID = {"usa.oil_penalty_tariff_on_ind": [0.0, 0.5], "eu.price_cap_usd": "40:50:10"}


# ------------------------------------------------------------------------------------ designs
def test_grid_ranges_include_stop_and_lists_keep_order():
    assert parse_grid("eu.price_cap_usd=40:60:5") == ("eu.price_cap_usd", [40, 45, 50, 55, 60])
    assert parse_grid("eu.price_cap_usd=40:58:5")[1] == [40, 45, 50, 55]
    assert parse_grid("usa.oil_penalty_tariff_on_ind=0.5,0,0.25")[1] == [0.5, 0.0, 0.25]
    assert parse_range("eu.price_cap_usd=30:70") == ("eu.price_cap_usd", (30.0, 70.0))
    assert parse_sample("lhs:500") == ("lhs", 500)


def test_full_grid_crosses_every_value_and_replicates_share_seeds():
    design = build_design(grid={"eu.price_cap_usd": [40, 50, 60], "usa.oil_penalty_tariff_on_ind": [0, 0.5]},
                          replicates=3, master_seed=7)
    runs = list(design.runs())
    assert len(runs) == 18 and [r.run_id for r in runs] == list(range(18))
    assert {tuple(p.values()) for p in design.points} == {(c, t) for c in (40, 50, 60) for t in (0, 0.5)}
    seeds = design.seeds()
    assert len(set(seeds)) == 3
    assert all(r.seed == seeds[r.replicate] for r in runs)  # common random numbers across points
    assert replicate_seeds(7, 3) == seeds and replicate_seeds(8, 3) != seeds


def test_latin_hypercube_puts_one_point_in_each_stratum_and_is_reproducible():
    ranges = {"eu.price_cap_usd": (30.0, 70.0), "usa.base_tariff_on_ind": (0.0, 0.5)}
    design = build_design(ranges=ranges, sample=("lhs", 20), master_seed=3)
    assert len(design.points) == 20
    for key, (low, high) in ranges.items():
        values = np.array([p[key] for p in design.points])
        strata = np.floor((values - low) / (high - low) * 20).astype(int)
        assert sorted(strata) == list(range(20))
    assert build_design(ranges=ranges, sample=("lhs", 20), master_seed=3).points == design.points
    assert build_design(ranges=ranges, sample=("lhs", 20), master_seed=4).points != design.points
    rnd = build_design(ranges=ranges, sample=("random", 5), master_seed=3)
    assert all(30 <= p["eu.price_cap_usd"] <= 70 for p in rnd.points)


# --------------------------------------------------------------------------------- bad input
BAD = [
    (["--grid", "eu.price_cap_usdd=40,50"], "eu.price_cap_usdd"),
    (["--grid", "eu.price_cap_usd="], "empty"),
    (["--grid", "eu.price_cap_usd=60:40:5"], "inverted"),
    (["--grid", "eu.price_cap_usd=40:60:0"], "step"),
    (["--grid", "eu.price_cap_usd=40,900"], "900"),
    (["--range", "eu.price_cap_usd=50:50", "--sample", "lhs:4"], "empty range"),
    (["--range", "eu.price_cap_usd=70:30", "--sample", "lhs:4"], "inverted"),
    (["--range", "eu.price_cap_usd=30:70"], "--sample"),
    (["--sample", "sobol:4", "--range", "eu.price_cap_usd=30:70"], "lhs"),
    (["--replicates", "0"], "--replicates"),
    (["--quarters", "0"], "quarters"),
    (["--set", "eu.price_cap_usd=-1"], "eu.price_cap_usd"),
    (["--workers", "0", "--backend", "processes"], "--workers"),
    (["--backend", "dask", "--scheduler", "tcp://127.0.0.1:9", "--connect-timeout", "0.5"], "not reachable"),
]


@pytest.mark.parametrize("extra,needle", BAD, ids=[" ".join(b[0])[:40] for b in BAD])
def test_bad_input_fails_before_any_run_with_exit_2(tmp_path, capsys, extra, needle):
    out = tmp_path / "sweep"
    code = main(["sweep", "--quarters", "2", "--backend", "serial", "--quiet", "--out", str(out), *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert needle in err and err.count("\n") == 1, err
    assert not out.exists()


def test_out_holding_a_sweep_needs_resume(tmp_path, capsys):
    out = tmp_path / "s"
    args = ["sweep", "--quarters", "1", "--grid", "eu.price_cap_usd=40", "--backend", "serial", "--quiet", "--out", str(out)]
    assert main(args) == 0
    assert main(args) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(args + ["--resume", "--seed", "5"]) == 2  # a different design cannot resume this one
    assert main(["sweep", "--quarters", "1", "--backend", "serial", "--resume", "--out", str(tmp_path / "new")]) == 2


# ----------------------------------------------------------------------------------- backends
def test_every_backend_gives_the_identical_table(monkeypatch):
    from geogame.experiments.backends import ProcessBackend

    args = dict(quarters=3, grid=GRID, replicates=2, seed=11)
    serial = sweep(backend="serial", **args)
    assert len(serial) == 2 * 2 * 2 * 4 and serial["run_id"].nunique() == 8
    assert {"run_id", "point_id", "replicate", "seed", "eu.price_cap_usd", "quarter", "quarter_index",
            "crude_share_ind_from_rus"} <= set(serial.columns)
    # The process backend runs the first runs in this process while its pool boots; check the
    # pool alone as well (with runs this short, the parent would otherwise do them all).
    processes = sweep(backend="processes", workers=2, **args)
    monkeypatch.setattr(ProcessBackend, "run_while_booting", False)
    pool_only = sweep(backend="processes", workers=2, **args)
    dask = sweep(backend="dask", workers=2, dask_processes=False, **args)
    pd.testing.assert_frame_equal(serial, processes)
    pd.testing.assert_frame_equal(serial, pool_only)
    pd.testing.assert_frame_equal(serial, dask)
    # The parameter columns are really applied: each run equals a direct model run.
    from geogame.model import GeopoliticsModel
    row = serial[serial["run_id"] == 5]
    params = {k: float(row[k].iloc[0]) for k in ("usa.oil_penalty_tariff_on_ind", "eu.price_cap_usd")}
    direct = GeopoliticsModel(seed=int(row["seed"].iloc[0]), overrides=params).run(3).metrics_frame()
    np.testing.assert_allclose(row["crude_share_ind_from_rus"].to_numpy(), direct["crude_share_ind_from_rus"])


def test_a_scheduler_address_sends_results_back_to_be_written_here(tmp_path):
    """With --scheduler the workers may be on other machines: this process writes their results."""
    from dask.distributed import LocalCluster

    args = dict(quarters=2, grid={"eu.price_cap_usd": [40, 60]}, replicates=2, seed=3)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        table = sweep(backend="dask", scheduler=cluster.scheduler_address, out=tmp_path / "s",
                      decisions=True, **args)
    assert ResultStore(tmp_path / "s").done_ids() == {0, 1, 2, 3}
    pd.testing.assert_frame_equal(table, sweep(backend="serial", **args))
    assert set(table.attrs["decisions"]["run_id"]) == {0, 1, 2, 3}


def test_results_stream_to_parquet_with_manifest_and_decisions(tmp_path):
    out = tmp_path / "s"
    table = sweep(quarters=2, grid={"eu.price_cap_usd": [40, 60]}, replicates=2, seed=1,
                  out=out, decisions=True, scenario="baseline")
    # Compacted at the end: one part per table, holding the four runs (no run files left).
    assert [p.name for p in (out / "metrics").iterdir()] == ["part-000000.parquet"]
    assert [p.name for p in (out / "decisions").iterdir()] == ["part-000000.parquet"]
    assert part_run_ids(out / "metrics" / "part-000000.parquet") == [0, 1, 2, 3]
    pd.testing.assert_frame_equal(table, read_results(out))
    assert set(table.attrs["decisions"]["run_id"]) == {0, 1, 2, 3}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["failures"] == []
    assert manifest["scenario_text"].strip() and manifest["design"]["n_runs"] == 4
    assert manifest["package_version"] and manifest["started"] and manifest["ended"]


def fail_run_1(spec, job):
    """A run function (``RunJob.run_function``) that fails run 1 and runs the others as usual."""
    if spec.run_id == 1:
        raise RuntimeError("injected failure for run 1")
    return run_model(spec, job)


@pytest.fixture
def failing_run_1(monkeypatch):
    """Sweeps started while this is active fail their run 1 (the job carries :func:`fail_run_1`
    to the workers, whatever the backend); ``failing_run_1.undo()`` restores normal runs."""
    prepare = sweeps.prepare_job
    monkeypatch.setattr(sweeps, "prepare_job", lambda *a, **k: replace(prepare(*a, **k), run_function=fail_run_1))
    return monkeypatch


def test_a_failing_run_is_recorded_and_the_others_finish(tmp_path, failing_run_1):
    out = tmp_path / "s"
    table = sweep(quarters=2, grid={"eu.price_cap_usd": [40, 50, 60]}, seed=2, out=out)
    assert sorted(table["run_id"].unique()) == [0, 2]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete with failures"
    [failure] = manifest["failures"]
    assert failure["run_id"] == 1 and failure["params"] == {"eu.price_cap_usd": 50.0}
    assert "injected failure" in failure["error"] and failure["seed"] == table["seed"].iloc[0]
    # In memory too: the failure comes back in attrs.
    kept = sweep(quarters=2, grid={"eu.price_cap_usd": [40, 50, 60]}, seed=2)
    assert [f["run_id"] for f in kept.attrs["failures"]] == [1]
    # Fix the cause and resume: only the failed run runs.
    failing_run_1.undo()
    done = sweep(quarters=2, grid={"eu.price_cap_usd": [40, 50, 60]}, seed=2, out=out, resume=True)
    assert done.attrs["summary"].ran == 1 and done.attrs["summary"].skipped == 2
    assert sorted(done["run_id"].unique()) == [0, 1, 2] and done.attrs["failures"] == []


def test_the_run_function_reaches_process_workers(tmp_path, failing_run_1, monkeypatch):
    monkeypatch.setattr(ProcessBackend, "run_while_booting", False)  # every run goes to the pool
    table = sweep(quarters=1, grid={"eu.price_cap_usd": [40, 50, 60]}, seed=2, backend="processes", workers=1)
    assert sorted(table["run_id"].unique()) == [0, 2]
    [failure] = table.attrs["failures"]
    assert failure["run_id"] == 1 and "injected failure" in failure["error"]


def test_resume_after_the_sweep_process_is_killed(tmp_path):
    out = tmp_path / "killed"
    args = [*GEOGAME, "sweep", "--quarters", "3", "--grid", "eu.price_cap_usd=30:70:2",
            "--replicates", "2", "--seed", "4", "--backend", "serial", "--quiet", "--out", str(out)]
    proc = subprocess.Popen(args, cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    try:
        while len(list((out / "metrics").glob("run-*.parquet"))) < 5:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "sweep made no progress"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    n_design = 21 * 2
    finished = len(list((out / "metrics").glob("run-*.parquet")))
    assert 5 <= finished < n_design, "the sweep must be killed mid-way"
    resumed = subprocess.run(args + ["--resume"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    table = read_results(out)
    assert not table.duplicated(["run_id", "quarter_index"]).any()
    assert sorted(table["run_id"].unique()) == list(range(n_design))
    expected = sweep(quarters=3, grid={"eu.price_cap_usd": "30:70:2"}, replicates=2, seed=4)
    pd.testing.assert_frame_equal(table, expected)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["sessions"]) == 2


def test_ctrl_c_stops_cleanly_and_counts_every_finished_run(tmp_path):
    """Ctrl-C reaches the whole foreground process group: the sweep process, fork server, workers."""
    out = tmp_path / "interrupted"
    args = [*GEOGAME, "sweep", "--quarters", "40", "--grid", "eu.price_cap_usd=30:70:1", "--replicates", "3",
            "--seed", "6", "--backend", "processes", "--workers", "2", "--quiet", "--out", str(out)]
    proc = subprocess.Popen(args, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    try:
        while len(list((out / "metrics").glob("run-*.parquet"))) < 10:
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "sweep made no progress"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130 and "interrupted" in err
    assert "Traceback" not in err  # neither the workers nor the fork server print one
    manifest = json.loads((out / "manifest.json").read_text())
    finished = len(ResultStore(out).done_ids())
    assert manifest["status"] == "interrupted" and manifest["failures"] == []
    assert manifest["runs_done"] == finished < 41 * 3
    resumed = subprocess.run(args + ["--resume"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert read_results(out)["run_id"].nunique() == 41 * 3


def test_cli_sweep_prints_a_summary_line(tmp_path):
    out = tmp_path / "s"
    result = subprocess.run([*GEOGAME, "sweep", "--quarters", "1", "--grid", "eu.price_cap_usd=40,50",
                             "--backend", "serial", "--out", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "sweep: 2 runs" in result.stderr and "0 failed" in result.stderr
    assert "run/s" in result.stderr or "s/run" in result.stderr  # the tqdm bar: rate


def test_python_api_rejects_bad_input_before_running():
    with pytest.raises(InputError, match="eu.price_cap_usd"):
        sweep(quarters=1, grid={"eu.price_cap_usd": [40, 1e6]})
    with pytest.raises(InputError, match="--backend"):
        sweep(quarters=1, backend="gpu")


def test_combination_the_model_refuses_fails_before_any_run(tmp_path):
    from geogame.experiments.sweeps import sweep_to_folder
    from geogame.model import InputError

    out = tmp_path / "bad_combo"
    with pytest.raises(InputError, match=r"design point 1 \(world.brent_usd=35\): world.brent_usd = 35 .* too low"):
        sweep_to_folder("baseline", quarters=2, grid={"world.brent_usd": [62.85, 35.0]}, out=str(out))
    assert not out.exists()


def test_a_sweep_with_failed_runs_exits_1_with_a_summary_line(tmp_path, capsys, failing_run_1):
    code = main(["sweep", "--quarters", "1", "--grid", "eu.price_cap_usd=40,50,60", "--backend", "serial",
                 "--quiet", "--out", str(tmp_path / "f")])
    err = capsys.readouterr().err
    assert code == 1 and "1 of 3 runs failed" in err and "--resume" in err and len(err.strip().splitlines()) == 1


def test_the_resume_mismatch_names_each_field_with_old_and_new_values(tmp_path, capsys):
    base = ["sweep", "--quarters", "1", "--grid", "eu.price_cap_usd=40,50", "--backend", "serial", "--quiet",
            "--out", str(tmp_path / "m")]
    assert main(base) == 0
    capsys.readouterr()
    assert main([*base[:2], "2", *base[3:], "--seed", "3", "--set", "usa.base_tariff_on_ind=0.2", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "design master_seed: 0 (manifest) vs 3 (now)" in err and "quarters: 1 (manifest) vs 2 (now)" in err
    assert 'overrides: {} (manifest) vs {"usa.base_tariff_on_ind": 0.2} (now)' in err


def test_python_and_command_line_default_to_the_same_backend():
    import inspect

    from geogame.experiments.sweep_cli import DEFAULTS
    from geogame.experiments.sweeps import DEFAULT_BACKEND

    assert inspect.signature(sweep).parameters["backend"].default == DEFAULT_BACKEND == DEFAULTS["backend"]


def test_a_sweep_steps_its_runs_as_ensembles_unless_told_otherwise():
    """Left to the sweep, a worker task holds several runs (stepped as one ensemble), at most
    AUTO_CHUNK_MAX, about four tasks per worker; a single run stays one task."""
    from geogame.experiments.sweeps import AUTO_CHUNK_MAX, auto_chunk_size, plan_sweep

    assert auto_chunk_size(1, 2) == 1
    assert auto_chunk_size(80, 2) == 10
    assert auto_chunk_size(100_000, 2) == AUTO_CHUNK_MAX
    plan = plan_sweep(quarters=2, grid={"eu.price_cap_usd": [40, 50]}, replicates=20, workers=2)
    assert plan.chunk_size == 5 and plan.job.chunk_function is not None      # the ensemble
    plan = plan_sweep(quarters=2, grid={"eu.price_cap_usd": [40, 50]}, replicates=20, chunk_size=1)
    assert plan.chunk_size == 1 and plan.job.chunk_function is None          # one run a task, as asked
