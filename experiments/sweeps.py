"""Parameter sweeps: many runs of the model over a design, on any backend, streamed to disk.

From Python (a notebook)::

    from geogame.experiments import sweep
    table = sweep(scenario="baseline", quarters=20,
                  grid={"usa.oil_penalty_tariff_on_ind": [0, 0.25, 0.5], "eu.price_cap_usd": "40:60:5"},
                  replicates=10, seed=1, backend="processes", out="results/penalty_x_cap")

The same design and master seed give identical tables on every backend: each run's result
depends only on the scenario, its settings and its seed, and results are sorted by run id.
"""
from __future__ import annotations

import math
import re
import sys
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from geogame.model import InputError, Scenario, check_settings, load_scenario, normalise_overrides

from .backends import open_backend
from .design import Design, build_design, parse_sample
from .runner import RunJob, RunResult, execute_run
from .store import ResultStore, read_results


@dataclass
class SweepSummary:
    """How a sweep went.

    Attributes
    ----------
    n_runs : int
        Runs in the design.
    ran : int
        Runs executed this time.
    skipped : int
        Runs already on disk (``resume``).
    failed : int
        Runs that raised, this time.
    seconds : float
        Wall-clock time of this invocation (s).
    out : str, optional
        The sweep's folder.
    remade : int
        Result files found damaged on ``resume`` (unreadable, truncated), removed and run again.
    """

    n_runs: int
    ran: int
    skipped: int
    failed: int
    seconds: float
    out: str | None = None
    remade: int = 0

    def line(self) -> str:
        """The one-line summary printed at the end of ``geogame sweep``."""
        rate = self.ran / self.seconds if self.seconds > 0 else 0.0
        where = f" -> {self.out}" if self.out else ""
        remade = f", {self.remade} damaged result files made again" if self.remade else ""
        return (f"sweep: {self.ran} runs in {self.seconds:.1f} s ({rate:.1f} runs/s), "
                f"{self.ran - self.failed} ok, {self.failed} failed, {self.skipped} already done{remade}, "
                f"{self.n_runs} in the design{where}")


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("geogame")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def prepare_job(scenario, quarters, overrides, rules, decisions) -> RunJob:
    """Load and validate what all runs share (scenario, run length, fixed settings, rules)."""
    from geogame.model import COUNTRIES

    scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    quarters = scenario.quarters if quarters is None else quarters
    scenario.check_run_length(quarters)
    rules = dict(rules or {})
    for country, rule in rules.items():
        if country not in COUNTRIES:
            raise InputError(f"--rule {country}={rule}: country {country!r} is not known; "
                             f"allowed: {', '.join(COUNTRIES)}")
        if rule not in ("ai", "best", "scripted"):
            raise InputError(f"--rule {country}={rule}: rule {rule!r} is not allowed; allowed: ai, best, scripted")
    if isinstance(overrides, (list, tuple)):
        from .commands import parse_overrides
        fixed = parse_overrides(list(overrides))  # a key given twice is refused
    else:
        fixed = normalise_overrides(overrides)
    return RunJob(scenario, quarters, fixed, rules, bool(decisions))


#: Longest --connect-timeout accepted (s).
MAX_CONNECT_TIMEOUT = 3600.0
#: Schemes a dask scheduler address may have.
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")
_ADDRESS = re.compile(r"^(?:(?P<scheme>[a-z]+)://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(?P<port>[0-9]{1,5}))?$")


def check_connect_timeout(seconds) -> float:
    """Validate ``--connect-timeout``: a number of seconds, more than 0 and at most an hour."""
    from geogame.model import show_value

    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) \
            or not 0 < seconds <= MAX_CONNECT_TIMEOUT:
        raise InputError(f"--connect-timeout = {show_value(seconds)} is not allowed; allowed: seconds "
                         f"greater than 0 and up to {MAX_CONNECT_TIMEOUT:g}")
    return float(seconds)


def check_scheduler_address(address: str) -> str:
    """Validate the form of ``--scheduler`` (``tcp://host:8786``) before anything starts."""
    from geogame.model import show_value

    if isinstance(address, str) and re.match(r"^inproc://\S+$", address.strip()):
        return address.strip()  # a scheduler in this process (tests, notebooks)
    match = _ADDRESS.match(address.strip()) if isinstance(address, str) else None
    scheme = match and (match.group("scheme") or "tcp")
    port = match and match.group("port")
    if not match or scheme not in SCHEDULER_SCHEMES or (scheme != "inproc" and port is None) \
            or (port is not None and not 1 <= int(port) <= 65535):
        raise InputError(f"--scheduler {show_value(address)} is not a scheduler address; allowed: "
                         f"SCHEME://HOST:PORT with SCHEME one of {', '.join(SCHEDULER_SCHEMES)} and PORT 1-65535 "
                         "(for example tcp://10.0.0.5:8786)")
    return address.strip()


def job_record(job: RunJob) -> dict:
    """The shared part of a sweep, for the manifest (and its fingerprint)."""
    return {"scenario": job.scenario.name, "scenario_text": job.scenario.text,
            "quarters": job.quarters, "overrides": job.overrides, "rules": job.rules,
            "decisions": job.decisions}


def run_design(design: Design, job: RunJob, backend, out: str | None = None, resume: bool = False,
               progress: bool = False, on_result=None) -> SweepSummary:
    """Execute ``design`` on an opened ``backend``; write results to ``out`` as runs finish.

    Parameters
    ----------
    design : Design
        The runs.
    job : RunJob
        Scenario, run length, fixed settings, rules.
    backend : backend object
        Entered backend (see :mod:`experiments.backends`).
    out : path, optional
        Sweep folder; None keeps nothing on disk (``on_result`` must collect the results).
    resume : bool
        Run only the runs whose results are not on disk; the design must match the manifest.
    progress : bool
        Show a tqdm progress bar (runs done, rate, ETA) on stderr.
    on_result : callable, optional
        Called with every :class:`RunResult` as it arrives.
    """
    from tqdm import tqdm

    started, clock = _now(), time.perf_counter()
    store = ResultStore(out) if out is not None else None
    record = {"design": design.to_json(), **job_record(job)}
    fingerprint = Design.fingerprint(design)
    done: set[int] = set()
    remade: list[str] = []
    manifest = {}
    if store is not None:
        if resume:
            manifest = store.read_manifest()
            if manifest.get("fingerprint") != fingerprint or manifest.get("scenario_text") != job.scenario.text \
                    or manifest.get("quarters") != job.quarters or manifest.get("overrides") != job.overrides \
                    or manifest.get("rules") != job.rules or manifest.get("decisions") != job.decisions:
                raise InputError(f"--resume: the design differs from the one in {store.manifest_path}; "
                                 f"give the same options as the interrupted sweep")
            store.remove_temp_files()  # left by workers killed mid-write
            done, remade = store.verify(rows=job.quarters + 1)
        store.create()
        manifest = {**record, "fingerprint": fingerprint, "package_version": package_version(),
                    "python": sys.version.split()[0], "backend": backend.name, "workers": backend.workers,
                    "started": manifest.get("started", started),
                    "sessions": _list(manifest.get("sessions")) + [{"started": started, "ended": None}],
                    "ended": None, "status": "running", "failures": store.failures_list()}
        store.write_manifest(manifest)
    todo = ((spec, job) for spec in design.runs() if spec.run_id not in done)
    n_todo = design.n_runs - len(done)
    failed = ran = 0
    status = "interrupted"
    bar = tqdm(total=n_todo, desc="sweep", unit="run", disable=not progress, file=sys.stderr,
               dynamic_ncols=True, smoothing=0.1)
    try:
        for result in backend.map_unordered(execute_run, todo):
            ran += 1
            failed += not result.ok
            if store is not None and not result.saved:
                store.save(result)
            if on_result is not None:
                on_result(result)
            bar.update(1)
            if failed:
                bar.set_postfix(failed=failed, refresh=False)
        status = "complete"
    finally:
        bar.close()
        if status != "complete":
            backend.stop()  # let runs in hand finish, so the manifest below counts them
        seconds = time.perf_counter() - clock
        if store is not None:
            ended = _now()
            manifest["sessions"][-1]["ended"] = ended
            failures = store.failures_list()
            missing = design.n_runs - len(store.done_ids())
            if status == "complete" and missing:
                status = "complete with failures"
            manifest.update(ended=ended, status=status, failures=failures, runs_done=design.n_runs - missing)
            store.write_manifest(manifest)
    return SweepSummary(design.n_runs, ran, len(done), failed, seconds, None if out is None else str(out),
                        remade=len(remade))


def _list(value) -> list:
    return value if isinstance(value, list) else []


def sweep(scenario="baseline", quarters: int | None = None, grid: dict | None = None,
          ranges: dict | None = None, sample=None, points: list[dict] | None = None,
          replicates: int = 1, seed: int = 0, overrides=None, rules: dict | None = None,
          backend: str = "serial", workers: int | None = None, scheduler: str | None = None,
          out=None, resume: bool = False, decisions: bool = False, progress: bool = False,
          dask_processes: bool = True) -> pd.DataFrame:
    """Run a sweep and return its tidy quarterly table (one row per run and quarter).

    Parameters
    ----------
    scenario : str, path or Scenario
        Preset name or scenario file.
    quarters : int, optional
        Quarters per run (default: the scenario's).
    grid : dict, optional
        Setting key -> list of values or ``"start:stop:step"``; every combination is run.
    ranges : dict, optional
        Setting key -> (low, high) for ``sample``.
    sample : str or (method, n), optional
        ``"lhs:500"`` or ``"random:100"`` over ``ranges``.
    points : list of dict, optional
        Explicit design points (setting key -> value).
    replicates : int
        Seeds per design point.
    seed : int
        Master seed; run seeds are derived from it with numpy's SeedSequence.
    overrides : dict or list of "key=value", optional
        Settings fixed for every run.
    rules : dict, optional
        Rule per country, ``"ai"`` or ``"scripted"``.
    backend : {"serial", "processes", "dask"}
        Where runs execute.
    workers : int, optional
        Worker processes (default: all cores).
    scheduler : str, optional
        Dask scheduler address (``tcp://host:8786``); default a local cluster on 127.0.0.1.
    out : path, optional
        Folder to stream results to (see :mod:`experiments.store`); None keeps them in memory.
    resume : bool
        Finish an interrupted sweep in ``out``.
    decisions : bool
        Also keep every run's decisions (in ``out``/decisions, or ``table.attrs["decisions"]``).
    progress : bool
        Show a progress bar.
    dask_processes : bool
        Local dask cluster workers as processes (True) or threads (False).

    Returns
    -------
    pandas.DataFrame
        Columns ``run_id, point_id, replicate, seed``, the swept settings, ``quarter_index,
        quarter`` and every metric, sorted by run and quarter. ``attrs["summary"]`` holds the
        :class:`SweepSummary`, ``attrs["failures"]`` the failed runs.
    """
    kept: list[RunResult] = []
    summary = sweep_to_folder(scenario, quarters, grid, ranges, sample, points, replicates, seed,
                              overrides, rules, backend, workers, scheduler, out, resume, decisions,
                              progress, dask_processes, on_result=None if out is not None else kept.append)
    if out is not None:
        table = read_results(out)
        failures = ResultStore(out).failures_list()
        if decisions:
            table.attrs["decisions"] = read_results(out, "decisions")
    else:
        table = collect([r.metrics for r in kept if r.ok])
        failures = [{**vars(r.spec), "error": r.error} for r in kept if not r.ok]
        if decisions:
            table.attrs["decisions"] = collect([r.decisions for r in kept if r.ok])
    table.attrs["summary"] = summary
    table.attrs["failures"] = failures
    return table


def sweep_to_folder(scenario="baseline", quarters=None, grid=None, ranges=None, sample=None, points=None,
                    replicates=1, seed=0, overrides=None, rules=None, backend="serial", workers=None,
                    scheduler=None, out=None, resume=False, decisions=False, progress=False,
                    dask_processes=True, on_result=None, connect_timeout: float = 10.0) -> SweepSummary:
    """Validate everything, then run the sweep streaming results to ``out``; return the summary.

    Takes the parameters of :func:`sweep`; nothing is held in memory (the command line's path).
    All input is checked, and the backend connected, before the first run starts.
    """
    if scheduler is not None:
        scheduler = check_scheduler_address(scheduler)
    connect_timeout = check_connect_timeout(connect_timeout)
    job = prepare_job(scenario, quarters, overrides, rules, decisions)
    if isinstance(sample, str):
        sample = parse_sample(sample)
    design = build_design(grid, ranges, sample, points, replicates, seed)
    both = sorted(set(design.keys) & set(job.overrides))
    if both:
        raise InputError(f"setting {both[0]!r} is both varied by the design (--grid/--range) and fixed by --set "
                         f"{both[0]}={job.overrides[both[0]]:g}; allowed: one of the two")
    check_points(design, job)
    if out is not None:
        ResultStore(out).check(resume)
        if not (backend == "dask" and scheduler):
            # Workers on this machine write their own results; a remote cluster's workers do not
            # see this disk, so then the results come back and this process writes them.
            job = replace(job, out=str(Path(out).resolve()))
    elif resume:
        raise InputError("--resume needs --out, the folder of the interrupted sweep")
    options = {}
    if backend == "dask":
        options = {"timeout": connect_timeout} if scheduler else {"processes": dask_processes}
    with open_backend(backend, workers, scheduler, **options) as runner:
        return run_design(design, job, runner, out, resume, progress, on_result)


def check_points(design: Design, job: RunJob) -> None:
    """Refuse, before any run, a design point whose settings together cannot start a run.

    Each value was range-checked when the design was built; this catches combinations the
    calibrated start rejects (see :func:`model.check_settings`), naming the point.
    """
    for number, point in enumerate(design.points):
        try:
            check_settings(job.scenario, {**job.overrides, **point})
        except InputError as exc:
            shown = ", ".join(f"{k}={v:g}" for k, v in point.items())
            raise InputError(f"design point {number} ({shown}): {exc}") from None


def collect(tables: list) -> pd.DataFrame:
    """Concatenate per-run tables (pyarrow Tables) into one DataFrame, sorted by run (and quarter).

    Reads the same as the Parquet dataset a sweep writes (``read_results``).
    """
    import pyarrow as pa

    if not tables:
        return pd.DataFrame()
    table = pa.concat_tables(tables).to_pandas()
    order = ["run_id", "quarter_index"] if "quarter_index" in table else ["run_id"]
    return table.sort_values(order, kind="stable").reset_index(drop=True)
