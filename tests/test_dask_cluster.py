"""A sweep on a real multi-process Dask cluster (issue 11 item 5): a ``dask scheduler`` and two
``dask worker`` processes on 127.0.0.1, driven by ``geogame sweep --backend dask --scheduler ADDRESS``
as a user runs it. The tables equal the local backend's; a worker killed with SIGKILL mid-sweep, or
the sweep stopped by SIGTERM, loses nothing and duplicates nothing once ``--resume`` has run.

Every process started here runs in its own session and is killed at teardown; the tests check
that none is left behind. As a last guard (pytest itself killed), the scheduler exits after
:data:`IDLE_TIMEOUT` idle and the workers :data:`DEATH_TIMEOUT` after losing it.

Then a local cluster (``--backend dask`` without ``--scheduler``, whose workers write their own
results): a task Dask runs again after its worker died, and the addresses the cluster listens on.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from geogame.experiments.store import ResultStore, read_results

BIN = Path(sys.executable).parent
GEOGAME = [str(BIN / "geogame")]
DASK = str(BIN / "dask")
#: 41 design points x 3 seeds = 123 runs of 16 quarters, in tasks of 3 runs: a few seconds on two
#: workers, long enough to be caught half way.
QUARTERS, N_RUNS, CHUNK = 16, 123, 3
DESIGN = ["--quarters", str(QUARTERS), "--grid", "eu.price_cap_usd=30:70:1", "--replicates", "3", "--seed", "6",
          "--decisions", "--compact-every", "30", "--quiet"]  # parts are compacted during the sweep too
IDLE_TIMEOUT, DEATH_TIMEOUT = "300s", "10s"

pytestmark = pytest.mark.slow  # 40-60 s here: a cluster's start, sweeps and resumes as subprocesses, a local cluster


def processes_of(sessions: set[int]) -> list[psutil.Process]:
    """Live processes (zombies left out) of the given sessions."""
    found = []
    for proc in psutil.process_iter(["status"]):
        try:
            if os.getsid(proc.pid) in sessions and proc.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return found


def kill_session(sid: int) -> None:
    """SIGKILL every process of session ``sid`` (its leader's group and anything that left the group)."""
    try:
        os.killpg(sid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for proc in processes_of({sid}):
        try:
            proc.kill()
        except psutil.Error:
            pass


def wait_gone(sessions: set[int], seconds: float = 15.0) -> list[psutil.Process]:
    deadline = time.monotonic() + seconds
    while (left := processes_of(sessions)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


class Cluster:
    """A ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1, each in its own session."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.workers: list[subprocess.Popen] = []
        self.sessions: set[int] = set()
        self.scheduler = self.address = None

    def start(self) -> None:
        """Start the scheduler and wait for its address (the scheduler file)."""
        file = self.folder / "scheduler.json"
        self.scheduler = self._start([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                      "--scheduler-file", str(file), "--idle-timeout", IDLE_TIMEOUT], "scheduler")
        deadline = time.monotonic() + 30
        while not file.exists() or not file.read_text().strip():
            assert self.scheduler.poll() is None, (self.folder / "scheduler.log").read_text()
            assert time.monotonic() < deadline, "the dask scheduler did not start"
            time.sleep(0.1)
        self.address = json.loads(file.read_text())["address"]

    def _start(self, command: list[str], name: str) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "w")
        proc = subprocess.Popen(command, cwd=self.folder, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, "DASK_TEMPORARY_DIRECTORY": str(self.folder)})
        log.close()
        self.sessions.add(proc.pid)
        return proc

    def start_workers(self, n: int) -> None:
        for _ in range(n):
            self.workers.append(self._start(
                [DASK, "worker", self.address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                 "--host", "127.0.0.1", "--death-timeout", DEATH_TIMEOUT], f"worker{len(self.workers)}"))

    def live_workers(self) -> list[subprocess.Popen]:
        return [w for w in self.workers if w.poll() is None]

    def wait_for_workers(self, n: int, seconds: float = 60.0) -> None:
        """Until the scheduler counts exactly ``n`` workers."""
        from dask.distributed import Client

        with Client(self.address, timeout="10s", set_as_default=False) as client:
            deadline = time.monotonic() + seconds
            while len(client.scheduler_info(n_workers=-1)["workers"]) != n:
                assert time.monotonic() < deadline, f"the scheduler does not count {n} workers"
                time.sleep(0.1)

    def ensure_two_workers(self) -> None:
        """Two live workers (a test may have killed one), counted by the scheduler."""
        self.start_workers(2 - len(self.live_workers()))
        self.wait_for_workers(2)

    def close(self) -> list[psutil.Process]:
        """Kill every process started here (their scratch files are in the test's folder); return
        any still alive 15 s later."""
        started = [p for p in (*self.workers, self.scheduler) if p is not None]
        for sid in self.sessions:
            kill_session(sid)
        for proc in started:
            proc.wait(timeout=15)
        return wait_gone(self.sessions)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    cluster = Cluster(tmp_path_factory.mktemp("dask-cluster"))
    try:
        cluster.start()
        cluster.start_workers(2)
        yield cluster
    finally:
        left = cluster.close()
        assert not left, f"cluster processes left behind: {[(p.pid, p.cmdline()) for p in left]}"


@pytest.fixture(scope="module")
def local_tables(tmp_path_factory):
    """The same sweep on a local backend (serial: every local backend gives the same tables, tested in
    test_sweep.py; this one leaves the two cores to the cluster): the tables every cluster sweep must equal."""
    out = tmp_path_factory.mktemp("local") / "sweep"
    done = subprocess.run([*GEOGAME, "sweep", *DESIGN, "--backend", "serial", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return read_results(out), read_results(out, "decisions")


def cluster_sweep(cluster: Cluster, out: Path, *extra: str) -> list[str]:
    return [*GEOGAME, "sweep", *DESIGN, "--backend", "dask", "--scheduler", cluster.address,
            "--chunk-size", str(CHUNK), "--out", str(out), *extra]


def start_sweep(command: list[str], out: Path, runs_before: int):
    """Start a sweep in its own session; return it once ``runs_before`` results are on disk."""
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while not (out / "manifest.json").exists() or len(ResultStore(out).done_ids()) < runs_before:
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the sweep made no progress"
        time.sleep(0.02)
    return proc


def assert_same_as_local(out: Path, local_tables) -> None:
    """Every run once (no run lost, none written twice) and the local backend's tables, value for value."""
    metrics, decisions = read_results(out), read_results(out, "decisions")
    rows = metrics.groupby("run_id").size()
    assert sorted(rows.index) == list(range(N_RUNS)) and (rows == QUARTERS + 1).all(), rows[rows != QUARTERS + 1]
    assert ResultStore(out).failures_list() == []
    pd.testing.assert_frame_equal(metrics, local_tables[0])
    pd.testing.assert_frame_equal(decisions, local_tables[1])


def test_a_cluster_sweep_gives_the_local_backend_tables(cluster, local_tables, tmp_path):
    cluster.ensure_two_workers()
    out = tmp_path / "cluster"
    done = subprocess.run(cluster_sweep(cluster, out), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert_same_as_local(out, local_tables)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["runs_done"] == N_RUNS
    assert manifest["backend"] == "dask" and manifest["scheduler"] == cluster.address
    assert manifest["workers"] == 2 and manifest["threads"] == 2


def test_a_sweep_stopped_by_sigterm_resumes_on_the_cluster(cluster, local_tables, tmp_path):
    cluster.ensure_two_workers()
    out = tmp_path / "stopped"
    command = cluster_sweep(cluster, out)
    sweep = start_sweep(command, out, runs_before=2 * CHUNK)
    try:
        os.kill(sweep.pid, signal.SIGTERM)  # as `timeout` or a batch scheduler's time limit sends it
        _, err = sweep.communicate(timeout=60)
    finally:
        kill_session(sweep.pid)
    assert sweep.returncode == 143 and "SIGTERM" in err and "--resume" in err, err
    assert "Traceback" not in err, err
    assert not wait_gone({sweep.pid}), "the sweep left processes"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted (SIGTERM)"
    assert manifest["runs_done"] == len(ResultStore(out).done_ids()) < N_RUNS
    resumed = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_as_local(out, local_tables)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and [s["status"] for s in manifest["sessions"]] == [
        "interrupted (SIGTERM)", "complete"]
    assert len(cluster.live_workers()) == 2  # the cluster is untouched by the sweep's end (the kill test runs last)


def test_a_worker_killed_mid_sweep_loses_nothing_after_resume(cluster, local_tables, tmp_path):
    cluster.ensure_two_workers()
    out = tmp_path / "killed"
    command = cluster_sweep(cluster, out)
    sweep = start_sweep(command, out, runs_before=2 * CHUNK)
    victim = cluster.live_workers()[0]
    try:
        on_disk = len(ResultStore(out).done_ids())
        kill_session(victim.pid)  # the worker's nanny and its worker process, as a machine lost
        victim.wait(timeout=15)
        assert not wait_gone({victim.pid}), "the killed worker left processes"
        _, err = sweep.communicate(timeout=120)
    finally:
        kill_session(sweep.pid)
    assert on_disk < N_RUNS, "the worker was killed after the sweep had finished"
    assert sweep.returncode in (0, 1), err  # finished on the other worker, or stopped resumable
    assert "Traceback" not in err, err
    assert not wait_gone({sweep.pid}), "the sweep left processes"
    resumed = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_as_local(out, local_tables)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["runs_done"] == N_RUNS
    assert len(manifest["sessions"]) == 2 and manifest["sessions"][-1]["status"] == "complete"


# --------------------------------------------- a task run twice by a local cluster (workers write)
def dies_once_after_its_first_run_is_compacted(specs, job):
    """A chunk function for the test below. The first attempt at run 0's chunk yields run 0 (the
    worker writes it), waits until the sweep has compacted it into a part, then its worker process
    dies as a killed one does (no handler runs); Dask runs the task again on a worker. Other chunks
    start once run 0 is on disk, so that one of them finishes (and the sweep compacts) after it."""
    from geogame.experiments.runner import run_chunk

    store, died = ResultStore(job.out), Path(job.out).parent / "died"
    first_try = specs[0].run_id == 0 and not died.exists()
    deadline = time.monotonic() + 30
    while specs[0].run_id != 0 and 0 not in store.done_ids() and time.monotonic() < deadline:
        time.sleep(0.05)
    for k, pair in enumerate(run_chunk(specs, job)):
        yield pair
        if first_try and k == 0:
            while 0 not in set().union(*store.part_ids().values()) and time.monotonic() < deadline:
                time.sleep(0.05)
            died.write_text("after run 0 was compacted" if time.monotonic() < deadline else "timed out")
            os._exit(1)


def test_a_task_run_again_after_its_worker_died_writes_no_run_twice(tmp_path):
    from geogame.experiments import sweep

    args = dict(quarters=2, grid={"eu.price_cap_usd": [40, 50, 60, 70]}, replicates=2, seed=1, decisions=True)
    # A local cluster's workers write their own results; its nanny restarts a worker that died.
    table = sweep(backend="dask", workers=2, chunk_size=2, compact_every=1, out=tmp_path / "twice",
                  chunk_function=dies_once_after_its_first_run_is_compacted, **args)
    assert (tmp_path / "died").read_text() == "after run 0 was compacted"  # the first attempt died then
    assert table.groupby("run_id").size().to_dict() == dict.fromkeys(range(8), 3)
    serial = sweep(backend="serial", chunk_size=2, **args)
    pd.testing.assert_frame_equal(table, serial)
    pd.testing.assert_frame_equal(table.attrs["decisions"], serial.attrs["decisions"])


# ------------------------------------------------------------------------ a local cluster's ports
def _listening() -> set[tuple[str, int]]:
    """(address, port) of the listening inet sockets of this process and its children."""
    procs = [psutil.Process(), *psutil.Process().children(recursive=True)]
    found = set()
    for proc in procs:
        try:
            found |= {(c.laddr.ip, c.laddr.port) for c in proc.net_connections(kind="inet")
                      if c.status == psutil.CONN_LISTEN}
        except psutil.Error:
            continue
    return found


@pytest.mark.parametrize("processes", [False, True], ids=["thread workers", "worker processes"])
def test_a_local_cluster_listens_on_127_0_0_1_only(processes):
    """``--backend dask`` without ``--scheduler`` (and ``sweep(dask_processes=False)``): the scheduler's
    and workers' comms and HTTP servers take 127.0.0.1, never every interface (nor port 8787)."""
    from geogame.experiments.backends import DaskBackend

    before = _listening()
    with DaskBackend(workers=1, processes=processes, timeout=30) as backend:
        assert list(backend.map_unordered(pow, [(2, 3)])) == [8]
        opened = _listening() - before
    assert opened and {address for address, _ in opened} == {"127.0.0.1"}, opened
    assert 8787 not in {port for _, port in opened}
