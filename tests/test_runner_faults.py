"""Faults of the sweep runner (issue 13 item 5): signals, kill -9, I/O errors, Dask without workers,
compaction crashes, and chunks of runs (issue 11's extension point) giving identical tables."""
from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from geogame.experiments import store as store_module
from geogame.experiments import sweep
from geogame.experiments.cli import main
from geogame.experiments.runner import run_model
from geogame.experiments.store import ResultStore, part_run_ids, read_results
from geogame.model import InputError

ROOT = Path(__file__).resolve().parents[1]
GEOGAME = [str(ROOT / ".venv" / "bin" / "python"), "-m", "geogame.experiments.cli"]
#: A sweep long enough to be caught mid-way: 41 x 3 runs of 40 quarters on 2 workers (about 6 s).
LONG = ["sweep", "--quarters", "40", "--grid", "eu.price_cap_usd=30:70:1", "--replicates", "3", "--seed", "6",
        "--backend", "processes", "--workers", "2", "--quiet"]


def session_processes(sid: int) -> list[int]:
    """Pids of the processes of session ``sid`` (the sweep started in its own session), zombies left out."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":  # fields after the name: state, ppid, pgrp, session
            pids.append(int(entry.name))
    return pids


def start_long_sweep(out: Path, runs_before: int = 6):
    """Start the long sweep in its own session; return it once ``runs_before`` runs are on disk."""
    proc = subprocess.Popen([*GEOGAME, *LONG, "--out", str(out)], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    while len(list((out / "metrics").glob("run-*.parquet"))) < runs_before:
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "sweep made no progress"
        time.sleep(0.05)
    return proc


def wait_until_gone(sid: int, seconds: float = 15.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while session_processes(sid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return session_processes(sid)


def test_kill_9_leaves_no_process_behind_and_resume_marks_the_session_killed(tmp_path):
    out = tmp_path / "k"
    proc = start_long_sweep(out)
    try:
        os.kill(proc.pid, signal.SIGKILL)  # the sweep process alone: no handler can run
        proc.wait()
        left = wait_until_gone(proc.pid)
        assert not left, f"processes left behind after kill -9 of the sweep: {left}"
    finally:
        for pid in session_processes(proc.pid):
            os.kill(pid, signal.SIGKILL)
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"  # nothing could write
    resumed = subprocess.run([*GEOGAME, *LONG, "--out", str(out), "--resume"], cwd=ROOT, capture_output=True,
                             text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    first, second = manifest["sessions"]
    assert first["status"] == "killed" and first["ended"] is None and first["found_killed"] == second["started"]
    assert manifest["status"] == second["status"] == "complete"
    assert read_results(out)["run_id"].nunique() == 41 * 3


def test_sigterm_stops_like_ctrl_c(tmp_path):
    out = tmp_path / "t"
    proc = start_long_sweep(out)
    try:
        os.kill(proc.pid, signal.SIGTERM)  # as `timeout` or a batch scheduler's time limit sends it
        _, err = proc.communicate(timeout=60)
        assert not wait_until_gone(proc.pid)
    finally:
        for pid in session_processes(proc.pid):
            os.kill(pid, signal.SIGKILL)
    assert proc.returncode == 143 and "SIGTERM" in err and "--resume" in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    manifest = json.loads((out / "manifest.json").read_text())
    done = ResultStore(out).done_ids()
    assert manifest["status"] == "interrupted (SIGTERM)" and manifest["runs_done"] == len(done) < 41 * 3
    assert manifest["sessions"][-1]["ended"] and not list(out.rglob("*.tmp"))


# ------------------------------------------------------------------------------- I/O errors
def small(out, *extra) -> list[str]:
    return ["sweep", "--quarters", "2", "--grid", "eu.price_cap_usd=40,50,60,70", "--backend", "serial",
            "--quiet", "--out", str(out), *extra]


def test_out_inside_another_sweep_or_a_file_is_refused_before_work(tmp_path, capsys):
    assert main(small(tmp_path / "first")) == 0
    for out, needle in [(tmp_path / "first" / "metrics" / "second", "inside the sweep folder"),
                        (tmp_path / "first" / "nested", "inside the sweep folder"),
                        (tmp_path / "first" / "manifest.json", "is a file")]:
        capsys.readouterr()
        assert main(small(out)) == 2
        err = capsys.readouterr().err
        assert needle in err and str(out)[-10:] in err and len(err.strip().splitlines()) == 1, err
        assert not (tmp_path / "first" / "metrics" / "second").exists()
    assert ResultStore(tmp_path / "first").done_ids() == {0, 1, 2, 3}


def test_a_folder_that_takes_no_file_is_refused_before_work(tmp_path, capsys, monkeypatch):
    real_touch = Path.touch

    def read_only(self, *args, **kwargs):  # as a read-only folder answers (chmod does not bind root)
        if self.name.startswith(".geogame-probe"):
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_touch(self, *args, **kwargs)

    monkeypatch.setattr(Path, "touch", read_only)
    assert main(small(tmp_path / "ro")) == 2
    err = capsys.readouterr().err
    assert "not writable" in err and "ro" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "ro").exists()


@pytest.mark.parametrize("where", ["run file", "compaction"])
def test_a_full_disk_during_work_is_one_line_exit_1_and_a_consistent_manifest(tmp_path, capsys, monkeypatch, where):
    out = tmp_path / "full"
    calls = []
    target = "write_parquet" if where == "run file" else "write_part"
    real = getattr(store_module, target)

    def full_disk(table, path, *rest):
        calls.append(path)
        if len(calls) == 3 or where == "compaction":
            with open(path.with_name(f".{path.name}.{os.getpid()}.tmp"), "wb") as fh:
                fh.write(b"")  # what a full disk leaves: a temporary file with nothing in it
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(table, path, *rest)

    monkeypatch.setattr(store_module, target, full_disk)
    assert main(small(out)) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "No space left" in err and "--resume" in err, err
    assert "cannot write" in err and ".parquet" in err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "stopped by an error" and "No space left" in manifest["error"]
    assert manifest["runs_done"] == len(ResultStore(out).done_ids()) == (2 if where == "run file" else 4)
    assert manifest["sessions"][-1]["ended"]
    monkeypatch.setattr(store_module, target, real)
    assert main(small(out, "--resume")) == 0
    assert read_results(out)["run_id"].nunique() == 4 and not list(out.rglob("*.tmp"))


def test_a_crash_between_a_part_and_the_removal_of_its_run_files_loses_and_repeats_nothing(tmp_path):
    out = tmp_path / "c"
    args = dict(quarters=2, grid={"eu.price_cap_usd": [40, 50, 60]}, replicates=2, seed=3, backend="serial")
    reference = sweep(**args, out=out, compact_every=0)  # one file per run
    store = ResultStore(out)
    keep = {path.name: path.read_bytes() for path in (out / "metrics").iterdir()}
    assert store.compact() == 6
    for name, data in list(keep.items())[:4]:  # as if the sweep died before removing these
        (out / "metrics" / name).write_bytes(data)
    pd.testing.assert_frame_equal(read_results(out), reference)  # readers count each run once
    from geogame.experiments.query import query
    assert query(out, "SELECT count(*) AS n FROM runs")["n"].iloc[0] == 6 * 3
    done, removed = store.verify(rows=3)
    assert done == set(range(6)) and removed == [] and [p.name for p in (out / "metrics").iterdir()] == \
        ["part-000000.parquet"]


def test_a_damaged_part_is_removed_on_resume_and_its_runs_made_again(tmp_path, capsys):
    out = tmp_path / "d"
    assert main(small(out)) == 0
    part = out / "metrics" / "part-000000.parquet"
    assert part_run_ids(part) == [0, 1, 2, 3]
    part.write_bytes(part.read_bytes()[:200])
    assert main(small(out, "--resume")) == 0
    assert read_results(out)["run_id"].nunique() == 4


@pytest.mark.parametrize("table", ["metrics", "decisions"])
def test_a_damaged_part_takes_its_other_table_with_it(tmp_path, capsys, table):
    """A part's metrics and decisions go together: after one is damaged and the sweep resumed,
    each run is in both tables exactly once."""
    out = tmp_path / "d"
    assert main(small(out, "--decisions")) == 0
    before = read_results(out, "decisions")
    part = out / table / "part-000000.parquet"
    part.write_bytes(part.read_bytes()[:200])
    assert main(small(out, "--resume", "--decisions")) == 0
    assert read_results(out)["run_id"].nunique() == 4
    assert len(read_results(out, "decisions")) == len(before)


# ------------------------------------------------------------------------------------- dask
def test_dask_without_workers_says_so_instead_of_hanging(tmp_path):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        start = time.monotonic()
        with pytest.raises(InputError, match="has no workers .*within 1 s"):
            sweep(quarters=1, grid={"eu.price_cap_usd": [40, 50]}, backend="dask",
                  scheduler=cluster.scheduler_address, connect_timeout=1.0, out=tmp_path / "none")
        assert time.monotonic() - start < 15


def test_dask_in_flight_limit_follows_the_workers_and_the_manifest_counts_the_cluster(tmp_path, monkeypatch):
    from dask.distributed import LocalCluster

    from geogame.experiments import backends

    seen = []
    real_enter = backends.DaskBackend.__enter__

    def remember(self):
        seen.append(self)
        return real_enter(self)

    monkeypatch.setattr(backends.DaskBackend, "__enter__", remember)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        threading.Timer(1.0, cluster.scale, args=(3,)).start()  # two workers join during the sweep
        sweep(quarters=4, grid={"eu.price_cap_usd": "30:70:1"}, replicates=3, backend="dask",
              scheduler=cluster.scheduler_address, out=tmp_path / "grow", chunk_size=1)  # many tasks
    [backend] = seen
    assert backend.limits[0] == 4 and max(backend.limits) > 4, backend.limits
    manifest = json.loads((tmp_path / "grow" / "manifest.json").read_text())
    assert manifest["backend"] == "dask" and manifest["workers"] == 1 and manifest["threads"] == 1
    assert manifest["sessions"][-1]["most_threads"] > 1


# ----------------------------------------------------------------------------------- chunks
GRID = {"eu.price_cap_usd": [40, 50, 60], "usa.oil_penalty_tariff_on_ind": [0.0, 0.5]}


def test_chunk_sizes_1_7_and_256_give_identical_tables(tmp_path):
    args = dict(quarters=2, grid=GRID, replicates=5, seed=7, decisions=True)
    tables = {size: sweep(backend="serial", chunk_size=size, **args) for size in (1, 7, 256)}
    on_disk = sweep(backend="processes", workers=2, chunk_size=7, out=tmp_path / "c7", **args)
    for size in (7, 256):
        pd.testing.assert_frame_equal(tables[1], tables[size])
        pd.testing.assert_frame_equal(tables[1].attrs["decisions"], tables[size].attrs["decisions"])
    pd.testing.assert_frame_equal(tables[1], on_disk)
    assert len(tables[1]) == 30 * 3


def engine_that_dies_after_two(specs, job):
    """A chunk function (an ensemble engine's stand-in) that yields two runs and then raises."""
    for number, spec in enumerate(specs):
        if number == 2:
            raise RuntimeError("the batch engine died")
        yield spec, run_model(spec, job)


def test_a_failing_chunk_function_fails_only_its_unfinished_runs_and_resume_redoes_them(tmp_path):
    out = tmp_path / "e"
    args = dict(quarters=2, grid={"eu.price_cap_usd": [40, 50, 60, 70]}, seed=2, backend="serial", out=out)
    table = sweep(chunk_size=4, chunk_function=engine_that_dies_after_two, **args)
    assert sorted(table["run_id"].unique()) == [0, 1]
    assert [(f["run_id"], "batch engine died" in f["error"]) for f in table.attrs["failures"]] == \
        [(2, True), (3, True)]
    again = sweep(chunk_size=4, resume=True, **args)
    assert again.attrs["summary"].ran == 2 and again["run_id"].nunique() == 4 and again.attrs["failures"] == []
